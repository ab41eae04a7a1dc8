"""Training checkpoints for `fit(checkpoint_dir=..., resume=True)`: model, optimizer,
scheduler, random generators, callbacks, history and epoch in one `chainrule.save` file
(atomic: a crash leaves the previous checkpoint). Files written by earlier versions, which
packed a JSON structure into a uint8 tensor, are still read."""
import json
import os

import numpy as np

__all__ = ["plain_state", "save_training_state", "load_training_state", "CHECKPOINT_NAME",
           "CheckpointFormatError"]

CHECKPOINT_NAME = "last.ckpt"


class CheckpointFormatError(ValueError):
    """A checkpoint file that is neither the current nor the earlier layout."""


def _tensor_type():
    from ..tensors.tensor import Tensor
    return Tensor


def plain_state(obj):
    """Copy of a state structure keeping only what a checkpoint can hold: tensors,
    arrays, numbers, strings, None, and dicts / lists / tuples of them. Other values
    (functions, objects) are dropped."""
    T = _tensor_type()
    if isinstance(obj, T):
        return obj.detach().clone()
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, (bool, int, float, str, type(None), np.integer, np.floating, np.bool_)):
        return obj.item() if isinstance(obj, np.generic) else obj
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if isinstance(k, (str, int)):
                pv = plain_state(v)
                if pv is not _DROP:
                    out[k] = pv
        return out
    if isinstance(obj, (list, tuple)):
        items = [plain_state(v) for v in obj]
        items = [v for v in items if v is not _DROP]
        return items if isinstance(obj, list) else tuple(items)
    return _DROP


class _Drop:
    pass


_DROP = _Drop()


# ---- the earlier layout: {"structure": JSON bytes, "0": array, "1": ...} ---------------
def _legacy_decode(obj, arrays):
    T = _tensor_type()
    if isinstance(obj, list):
        return [_legacy_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    (tag, v), = obj.items()
    if tag in ("$t", "$a"):
        a = arrays[v[0]].reshape(v[1]).copy()
        return T._wrap(a) if tag == "$t" else a
    if tag == "$d":
        return {_legacy_decode(k, arrays): _legacy_decode(x, arrays) for k, x in v}
    if tag == "$u":
        return tuple(_legacy_decode(x, arrays) for x in v)
    if tag in ("$f", "$i"):
        return float(v) if tag == "$f" else int(v)
    raise ValueError(f"unknown tag {tag!r}")


def _is_legacy(payload):
    return isinstance(payload, dict) and "structure" in payload and "epoch" not in payload


def _read_legacy(payload, path):
    try:
        arrays = {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v)
                  for k, v in payload.items()}
        meta = json.loads(arrays.pop("structure").tobytes().decode("utf-8"))
        return _legacy_decode(meta, [arrays[str(i)] for i in range(len(arrays))])
    except (KeyError, ValueError, TypeError, AttributeError) as err:
        raise CheckpointFormatError(
            f"{path}: an earlier-format training checkpoint that cannot be read ({err}); "
            "delete it to start training from scratch") from None


# ---- the whole training state -----------------------------------------------------------
def _remove_stale_temporaries(directory):
    # a process killed mid-write leaves its temporary behind; the checkpoint itself is
    # intact, but without this every crash would leave a checkpoint-sized file on disk
    for entry in os.listdir(directory):
        if entry.startswith(CHECKPOINT_NAME + ".tmp") or (
                entry.startswith("." + CHECKPOINT_NAME + ".") and entry.endswith(".tmp")):
            try:
                os.remove(os.path.join(directory, entry))
            except OSError:
                pass


def save_training_state(directory, state):
    from ..serialization import save
    os.makedirs(directory, exist_ok=True)
    _remove_stale_temporaries(directory)
    path = os.path.join(directory, CHECKPOINT_NAME)
    save(state, path)
    return path


def load_training_state(directory):
    from ..serialization import load
    path = os.path.join(directory, CHECKPOINT_NAME)
    if not os.path.exists(path):
        return None
    state = load(path)
    if _is_legacy(state):
        return _read_legacy(state, path)
    if not (isinstance(state, dict) and "epoch" in state):
        raise CheckpointFormatError(f"{path}: not a training checkpoint (expected the state "
                                    "fit writes, with an 'epoch' entry)")
    return state
