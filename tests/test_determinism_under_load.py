"""Same seed, same bits, whatever else the machine is doing: a bounded busy-loop process
is started beside the second run of each pair, and the bytes must not change. Products
large enough to be cut into parts are in every case (the main job's evaluation passes, the
batch-512 steps below), since those are where a load-dependent thread count used to round
differently."""
import subprocess
import sys
import time

import numpy as np
import pytest

import chainrule
from chainrule import nn, threads
from cli_helpers import ok, run_cli

pytestmark = pytest.mark.slow  # starts processes or runs long work: `-m "not slow"` skips it


@pytest.fixture
def busy_loop():
    """Start a busy-loop process (bounded: it ends by itself after 120 s) on demand."""
    procs = []

    def start():
        procs.append(subprocess.Popen([sys.executable, "-c",
                                       "import time\nt = time.time() + 120\nwhile time.time() < t: pass"]))
        time.sleep(0.6)   # long enough for the load sampler to see it
        threads._free[1] = 0.0
    yield start
    for p in procs:
        p.kill()
        p.wait()
    threads._free[1] = 0.0


@pytest.fixture(autouse=True)
def thread_policy_restored():
    yield
    chainrule.set_num_threads("auto")


LARGE = ("--batch-size", "500", "--hidden", "1000", "--patience", "0")  # products cut into parts


def _model_bytes(tmp_path, name):
    return (tmp_path / "runs" / name / "model.safetensors").read_bytes()


def test_same_seed_main_job_gives_identical_model_bytes_idle_and_beside_a_busy_loop(tmp_path, busy_loop):
    ok(run_cli(tmp_path, "train", "--name", "idle", *LARGE, "--epochs", "3"))
    busy_loop()
    ok(run_cli(tmp_path, "train", "--name", "busy", *LARGE, "--epochs", "3"))
    assert _model_bytes(tmp_path, "idle") == _model_bytes(tmp_path, "busy")


def test_resume_beside_a_busy_loop_gives_the_straight_runs_model_bytes(tmp_path, busy_loop):
    ok(run_cli(tmp_path, "train", "--name", "straight", *LARGE, "--epochs", "4"))
    busy_loop()
    ok(run_cli(tmp_path, "train", "--name", "halves", *LARGE, "--epochs", "2"))
    ok(run_cli(tmp_path, "train", "--resume", tmp_path / "runs" / "halves", "--epochs", "4"))
    assert _model_bytes(tmp_path, "straight") == _model_bytes(tmp_path, "halves")


def _train_large(steps=3, compiled=False):
    """Batch-500 steps whose products are cut into parts (forward and both gradients); at
    these shapes OpenBLAS gives other bits with one thread than with two."""
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 1000), nn.ReLU(), nn.Linear(1000, 10))
    opt = chainrule.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    X = chainrule.tensor(rng.standard_normal((500, 64)).astype(np.float32))
    y = chainrule.tensor(rng.integers(0, 10, 500))

    def step(X, y):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        return loss
    run = chainrule.compile(step) if compiled else step
    for _ in range(steps):
        run(X, y)
    return [p.detach().numpy().copy() for p in model.parameters()]


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def test_large_product_training_gives_the_same_bits_for_every_thread_count_and_load(busy_loop):
    assert len(threads.plan((500, 64), (64, 1000))[1]) > 2   # really cut into parts
    idle = _train_large()
    chainrule.set_num_threads(1)
    one = _train_large()
    busy_loop()
    chainrule.set_num_threads("auto")
    busy_auto = _train_large()
    chainrule.set_num_threads(2)
    busy_two = _train_large()
    assert _same(idle, one) and _same(idle, busy_auto) and _same(idle, busy_two)


def test_compiled_training_beside_a_busy_loop_equals_idle_eager_bit_for_bit(busy_loop):
    eager = _train_large(steps=4)
    busy_loop()
    compiled = _train_large(steps=4, compiled=True)
    assert _same(eager, compiled)
