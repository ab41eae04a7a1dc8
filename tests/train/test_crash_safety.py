"""A training process killed with SIGKILL at random moments (mid-epoch, mid-checkpoint
write) loses nothing: the checkpoint on disk is always complete and loadable, and
resuming again and again ends with weights bit-identical to an uninterrupted run."""
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.train.checkpoint import CHECKPOINT_NAME, load_training_state

pytestmark = pytest.mark.slow  # starts processes or runs long work: `-m "not slow"` skips it

EPOCHS = 40
KILLS = 12

SCRIPT = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    import chainrule as torch
    from chainrule import nn, optim, serialization
    from chainrule.train import fit, Callback

    out, ckpt = sys.argv[1], sys.argv[2]
    slow = os.environ.get("SLOW") == "1"
    if slow:  # stretch each checkpoint write so that kills land inside it
        from chainrule.serialization import archive_write
        write_array = archive_write._npy_bytes
        def slow_npy_bytes(arr):
            time.sleep(0.004)
            return write_array(arr)
        archive_write._npy_bytes = slow_npy_bytes
        real_save = serialization.save
        def announced_save(obj, f, *a, **k):
            with open(os.path.join(os.path.dirname(ckpt), "saves_started"), "a") as log:
                log.write("x\\n")
            return real_save(obj, f, *a, **k)
        serialization.save = announced_save

    class Pace(Callback):  # tells the parent training began; slows batches when asked
        def on_train_begin(self, logs=None):
            open(os.path.join(os.path.dirname(ckpt), "ready"), "w").close()
        def on_batch_end(self, batch, logs=None):
            if slow:
                time.sleep(0.01)

    rng = np.random.default_rng(3)
    X = rng.normal(size=(64, 8)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    torch.manual_seed(11)
    net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    fit(net, (X, y), loss=nn.CrossEntropyLoss(),
        optimizer=optim.Adam(net.parameters(), lr=0.01), epochs=%d, batch_size=16, seed=5,
        progress=False, checkpoint_dir=ckpt, resume=True, callbacks=[Pace()])
    torch.save(net.state_dict(), out)
""" % EPOCHS)


def _start(script, out, ckpt, slow):
    env = dict(os.environ, SLOW="1" if slow else "0")
    return subprocess.Popen([sys.executable, str(script), str(out), str(ckpt)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _finish(proc):
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()


def _weights(path):
    return {k: np.ascontiguousarray(v.numpy()).tobytes() for k, v in cr.load(path).items()}


def _wait_for(predicate, proc, deadline):
    while not predicate():
        if proc.poll() is not None:
            return False
        assert time.time() < deadline, "the training script stalled"
        time.sleep(0.005)
    return True


def _count_lines(path):
    try:
        with open(path) as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def _check_checkpoint(ckpt, last_epoch):
    """The checkpoint loads completely; its epoch never goes backwards. Returns it."""
    if not (ckpt / CHECKPOINT_NAME).exists():
        assert last_epoch is None, "a checkpoint disappeared"
        return None
    state = load_training_state(str(ckpt))
    epoch = int(state["epoch"])
    assert last_epoch is None or epoch >= last_epoch
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    model.load_state_dict(state["model"])           # complete: every weight, right shapes
    for value in state["model"].values():
        assert np.isfinite(value.numpy()).all()
    return epoch


def test_sigkill_at_random_points_loses_nothing(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    (tmp_path / "ref").mkdir()
    reference = tmp_path / "reference.pt"
    _finish(_start(script, reference, tmp_path / "ref" / "ckpt", slow=False))

    work = tmp_path / "run"
    work.mkdir()
    ckpt, out = work / "ckpt", work / "final.pt"
    rng = random.Random(20240601)
    kills, mid_save_kills, last_epoch = 0, 0, None
    deadline = time.time() + 60
    while kills < KILLS:
        assert time.time() < deadline, f"only {kills} kills in 60 s"
        ready, saves = work / "ready", work / "saves_started"
        if ready.exists():
            ready.unlink()
        proc = _start(script, out, ckpt, slow=True)
        if not _wait_for(ready.exists, proc, deadline):
            break                                    # finished before it could be killed
        if kills % 2:  # every other kill: inside a checkpoint write
            seen = _count_lines(saves)
            if not _wait_for(lambda: _count_lines(saves) > seen, proc, deadline):
                break
            time.sleep(rng.uniform(0.0, 0.03))
            mid_save_kills += 1
        else:          # otherwise anywhere: between batches, epochs or saves
            time.sleep(rng.uniform(0.0, 0.4))
        if proc.poll() is not None:
            break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        kills += 1
        last_epoch = _check_checkpoint(ckpt, last_epoch)
    assert kills >= 10 and mid_save_kills >= 5, (kills, mid_save_kills)
    assert not out.exists(), "the run finished before the kills were over; make it longer"
    assert last_epoch is not None and last_epoch < EPOCHS - 1

    _finish(_start(script, out, ckpt, slow=False))   # resume to the end
    assert os.listdir(ckpt) == [CHECKPOINT_NAME]      # killed writes left no temporaries
    want, got = _weights(reference), _weights(out)
    assert want.keys() == got.keys()
    for name in want:
        assert want[name] == got[name], f"{name} differs from the uninterrupted run"


def test_killed_plain_save_keeps_the_previous_file(tmp_path):
    # chainrule.save itself: a kill mid-write leaves the old file whole and loadable
    script = tmp_path / "saver.py"
    script.write_text(textwrap.dedent("""
        import sys, time
        import chainrule as torch
        from chainrule.serialization import archive_write
        write_array = archive_write._npy_bytes
        def slow(arr):
            open(sys.argv[1] + ".writing", "w").close()
            time.sleep(0.2)
            return write_array(arr)
        archive_write._npy_bytes = slow
        torch.save({"w": torch.full((64, 64), 2.0), "b": torch.zeros(64)}, sys.argv[1])
    """))
    target = tmp_path / "model.pt"
    cr.save({"w": cr.ones(64, 64), "b": cr.ones(64)}, target)
    old = target.read_bytes()
    rng = random.Random(7)
    for _ in range(3):
        flag = tmp_path / "model.pt.writing"
        if flag.exists():
            flag.unlink()
        proc = subprocess.Popen([sys.executable, str(script), str(target)])
        assert _wait_for(flag.exists, proc, time.time() + 20)
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert target.read_bytes() == old
        assert float(cr.load(target)["w"].sum()) == 64 * 64
