"""Training checkpoints for `fit(checkpoint_dir=..., resume=True)`: model, optimizer,
scheduler, random generators, callbacks, history and epoch in one file, written
atomically (temporary file + rename) so that a crash leaves the previous checkpoint."""
import io
import json
import os
import zipfile

import numpy as np

__all__ = ["atomic_save", "load_file", "plain_state", "save_training_state",
           "load_training_state", "CHECKPOINT_NAME"]

CHECKPOINT_NAME = "last.ckpt"


def _tensor_type():
    from ..tensor import Tensor
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


# ---- a self-contained safe format: JSON structure + .npy arrays in one zip -----------
# (no pickle anywhere: dict keys keep their type, tensors come back as tensors)
def _encode(obj, arrays):
    T = _tensor_type()
    if isinstance(obj, T):
        a = np.array(obj.detach().numpy(), order="C", copy=True)
        arrays.append(a.reshape(-1))  # stored flat: 0-d arrays are not safe everywhere
        return {"$t": [len(arrays) - 1, list(a.shape)]}
    if isinstance(obj, np.ndarray):
        a = np.array(obj, order="C", copy=True)
        arrays.append(a.reshape(-1))
        return {"$a": [len(arrays) - 1, list(a.shape)]}
    if isinstance(obj, dict):
        return {"$d": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"$u": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return {"$f": repr(obj)}
    if isinstance(obj, int) and not isinstance(obj, bool) and abs(obj) >= 2 ** 53:
        return {"$i": str(obj)}  # 128-bit generator states stay exact
    if isinstance(obj, (bool, int, float, str, type(None))):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot store a {type(obj).__name__} in a checkpoint")


def _decode(obj, arrays):
    T = _tensor_type()
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if isinstance(obj, dict):
        (tag, v), = obj.items()
        if tag == "$t":
            return T._wrap(arrays[v[0]].reshape(v[1]).copy())
        if tag == "$a":
            return arrays[v[0]].reshape(v[1]).copy()
        if tag == "$d":
            return {_decode(k, arrays): _decode(x, arrays) for k, x in v}
        if tag == "$u":
            return tuple(_decode(x, arrays) for x in v)
        if tag == "$f":
            return float(v)
        if tag == "$i":
            return int(v)
    return obj


def _write_zip(obj, f):
    arrays = []
    meta = _encode(obj, arrays)
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as z:
        z.writestr("structure.json", json.dumps(meta))
        for i, a in enumerate(arrays):
            buf = io.BytesIO()
            np.save(buf, a, allow_pickle=False)
            z.writestr(f"arrays/{i}.npy", buf.getvalue())


def _read_zip(path):
    with zipfile.ZipFile(path) as z:
        meta = json.loads(z.read("structure.json"))
        names = [n for n in z.namelist() if n.startswith("arrays/")]
        arrays = [None] * len(names)
        for n in names:
            arrays[int(n[7:-4])] = np.load(io.BytesIO(z.read(n)), allow_pickle=False)
    return _decode(meta, arrays)


def atomic_save(obj, path):
    """Write `obj` (a state_dict or nested structure of tensors) to `path` with
    chainrule.save, which writes atomically and picks the format from the name's suffix
    (a .safetensors name gets a real safetensors file)."""
    path = os.fspath(path)
    _save(obj, path)
    return path


def _save(obj, path):
    save = _chainrule_save()
    if save is not None:
        save(obj, path)
    else:
        with open(path, "wb") as f:
            _write_zip(obj, f)


def _chainrule_save():
    try:
        from ..serialization import save
        return save
    except ImportError:
        return None


def load_file(path):
    """Read a file written by `atomic_save`."""
    try:
        from ..serialization import load
    except ImportError:
        load = None
    if load is not None:
        return load(path)
    return _read_zip(path)


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
    os.makedirs(directory, exist_ok=True)
    _remove_stale_temporaries(directory)
    # the structure goes through JSON-able encoding first so that int keys (optimizer
    # state), tuples and 128-bit generator states survive any safe container
    arrays = []
    meta = _encode(state, arrays)
    T = _tensor_type()
    # a flat {name: tensor} dict: the structure travels as UTF-8 bytes in a uint8 tensor
    payload = {str(i): T._wrap(a) for i, a in enumerate(arrays)}
    payload["structure"] = T._wrap(np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8).copy())
    return atomic_save(payload, os.path.join(directory, CHECKPOINT_NAME))


def load_training_state(directory):
    path = os.path.join(directory, CHECKPOINT_NAME)
    if not os.path.exists(path):
        return None
    payload = load_file(path)
    arrays = {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in payload.items()}
    meta = json.loads(arrays.pop("structure").tobytes().decode())
    return _decode(meta, [arrays[str(i)] for i in range(len(arrays))])
