"""fit(checkpoint_dir=..., resume=True) after a SIGKILL ends bit-identical to a run that
was never interrupted (model, Adam state, dropout RNG, shuffling, callbacks)."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.train import fit

SCRIPT = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    import chainrule as torch
    from chainrule import nn, optim
    from chainrule.train import fit, Callback, EarlyStopping, GradientMonitor

    out, ckpt, resume = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    kill_at = os.environ.get("KILL_AT")

    class Hang(Callback):  # signal the parent, then wait to be killed mid-epoch
        def on_batch_end(self, batch, logs=None):
            if kill_at and (self.trainer.epoch, batch) == tuple(map(int, kill_at.split(","))):
                open(out + ".ready", "w").close()
                time.sleep(60)

    class EpochTracker(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.trainer.epoch = epoch

    rng = np.random.default_rng(1)
    X = rng.normal(size=(96, 6)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    torch.manual_seed(123)
    net = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))
    opt = optim.Adam(net.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    fit(net, (X, y), loss=nn.CrossEntropyLoss(), optimizer=opt, epochs=5, batch_size=8,
        validation_split=0.25, seed=7, progress=False, checkpoint_dir=ckpt, resume=resume,
        scheduler=sched,
        callbacks=[EpochTracker(), Hang(), GradientMonitor(verbose=False),
                   EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=False)])
    torch.save(net.state_dict(), out)
""")


def _run(script, args, env=None, wait=True):
    full_env = dict(os.environ, **(env or {}))
    p = subprocess.Popen([sys.executable, script, *args], env=full_env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if wait:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    return p


def _bytes(path):
    sd = cr.load(path)
    return {k: np.ascontiguousarray(v.numpy()).tobytes() for k, v in sd.items()}


@pytest.mark.slow
def test_resume_after_sigkill_is_bit_identical(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    ref = tmp_path / "ref.pt"
    _run(script, [str(ref), str(tmp_path / "ck_ref"), "0"])

    out, ck = tmp_path / "resumed.pt", tmp_path / "ck"
    p = _run(script, [str(out), str(ck), "0"], env={"KILL_AT": "2,3"}, wait=False)
    deadline = time.time() + 60
    while not os.path.exists(str(out) + ".ready"):
        assert p.poll() is None, p.stderr.read().decode()
        assert time.time() < deadline, "the training script never reached epoch 3"
        time.sleep(0.02)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL
    assert not out.exists()                       # it really died before finishing
    assert (ck / "last.ckpt").exists()            # after at least one checkpoint
    assert not any(n.startswith("last.ckpt.tmp") for n in os.listdir(ck))

    _run(script, [str(out), str(ck), "1"])
    a, b = _bytes(ref), _bytes(out)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k], f"{k} differs after resuming"


def test_resume_detects_a_different_run(tmp_path):
    # the same comparison must fail when the resumed run is not the same training
    # (guards against a test that would pass whatever the weights)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)

    def run(epochs, ck, resume=False, seed=1):
        cr.manual_seed(0)
        net = nn.Linear(3, 2)
        fit(net, (X, y), loss=nn.CrossEntropyLoss(), optimizer=optim.SGD(net.parameters(), lr=0.1),
            epochs=epochs, batch_size=8, seed=seed, progress=False, checkpoint_dir=ck,
            resume=resume)
        return net.weight.detach().numpy().tobytes()

    full = run(4, tmp_path / "a")
    run(2, tmp_path / "b")
    assert run(4, tmp_path / "b", resume=True) == full
    run(2, tmp_path / "c", seed=2)   # other shuffling before the checkpoint
    assert run(4, tmp_path / "c", resume=True) != full
    # resuming a finished run changes nothing
    assert run(4, tmp_path / "a", resume=True) == full


def test_resume_needs_checkpoint_dir():
    net = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="checkpoint_dir"):
        fit(net, (np.zeros((4, 2)), np.zeros(4, dtype=np.int64)), loss=nn.CrossEntropyLoss(),
            optimizer=optim.SGD(net.parameters(), lr=0.1), epochs=1, resume=True)


def test_resume_without_a_checkpoint_starts_from_scratch(tmp_path, capsys):
    X = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    cr.manual_seed(0)
    net = nn.Linear(2, 2)
    h = fit(net, (X, y), loss=nn.CrossEntropyLoss(), optimizer=optim.SGD(net.parameters(), lr=0.1),
            epochs=2, checkpoint_dir=tmp_path / "new", resume=True)
    assert len(h) == 2 and "starting from scratch" in capsys.readouterr().out
    assert (tmp_path / "new" / "last.ckpt").exists()


# ---- checkpoints written by earlier versions -------------------------------------------
def _legacy_encode(obj, arrays):
    """The earlier checkpoint layout: JSON with $-tags, arrays stored flat beside it."""
    if isinstance(obj, (cr.Tensor, np.ndarray)):
        a = np.array(obj.detach().numpy() if isinstance(obj, cr.Tensor) else obj, copy=True)
        arrays.append(a.reshape(-1))
        return {"$t" if isinstance(obj, cr.Tensor) else "$a": [len(arrays) - 1, list(a.shape)]}
    if isinstance(obj, dict):
        return {"$d": [[_legacy_encode(k, arrays), _legacy_encode(v, arrays)]
                       for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"$u": [_legacy_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_legacy_encode(v, arrays) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return {"$f": repr(obj)}
    if isinstance(obj, int) and not isinstance(obj, bool) and abs(obj) >= 2 ** 53:
        return {"$i": str(obj)}
    return obj


def _rewrite_as_legacy(directory):
    import json
    from chainrule.train.checkpoint import load_training_state
    arrays = []
    meta = _legacy_encode(load_training_state(directory), arrays)
    payload = {str(i): cr.from_numpy(a) for i, a in enumerate(arrays)}
    payload["structure"] = cr.from_numpy(
        np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8).copy())
    cr.save(payload, os.path.join(directory, "last.ckpt"))


def _short_run(X, y, epochs, ck, resume=False):
    cr.manual_seed(0)
    net = nn.Linear(3, 2)
    fit(net, (X, y), loss=nn.CrossEntropyLoss(), optimizer=optim.Adam(net.parameters(), lr=0.1),
        epochs=epochs, batch_size=8, seed=1, progress=False, checkpoint_dir=ck, resume=resume)
    return net.weight.detach().numpy().tobytes()


def test_resume_from_an_earlier_format_checkpoint_is_bit_identical(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    full = _short_run(X, y, 4, tmp_path / "a")
    _short_run(X, y, 2, tmp_path / "b")
    _rewrite_as_legacy(tmp_path / "b")
    assert _short_run(X, y, 4, tmp_path / "b", resume=True) == full


def test_resume_refuses_a_checkpoint_that_is_not_a_training_state(tmp_path):
    from chainrule.train.checkpoint import CheckpointFormatError
    os.makedirs(tmp_path / "ck")
    cr.save({"weight": cr.zeros(2)}, str(tmp_path / "ck" / "last.ckpt"))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 3)).astype(np.float32)
    with pytest.raises(CheckpointFormatError, match="not a training checkpoint"):
        _short_run(X, (X[:, 0] > 0).astype(np.int64), 2, tmp_path / "ck", resume=True)
    cr.save({"structure": cr.tensor([1, 2], dtype=cr.uint8)}, str(tmp_path / "ck" / "last.ckpt"))
    with pytest.raises(CheckpointFormatError, match="earlier-format.*delete it"):
        _short_run(X, (X[:, 0] > 0).astype(np.int64), 2, tmp_path / "ck", resume=True)
