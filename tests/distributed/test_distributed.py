"""chainrule.distributed, DistributedDataParallel and DistributedSampler. The collective
tests start real MPI jobs (mpiexec -n 2) running the scripts in tests/distributed/mpi/."""
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
import chainrule.distributed as dist
from chainrule.nn.parallel import DistributedDataParallel
from chainrule.utils.data import DistributedSampler

pytestmark = pytest.mark.slow  # starts processes or runs long work: `-m "not slow"` skips it

MPI_DIR = Path(__file__).parent / "mpi"
_MPIEXEC = shutil.which("mpiexec", path=os.pathsep.join(
    [str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
needs_mpi = pytest.mark.skipif(
    importlib.util.find_spec("mpi4py") is None or _MPIEXEC is None,
    reason="mpi4py and mpiexec (the chainrule[mpi] extra) are needed to start MPI jobs")


def mpirun(n, script, *args, timeout=60, cwd=None):
    """Run tests/distributed/mpi/<script> (or `-m module`) on n ranks; mpich's launcher forks locally
    and Open MPI may run as root and oversubscribe the CPUs, as in CI containers."""
    env = dict(os.environ, HYDRA_LAUNCHER="fork", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1",
               PYTHONUNBUFFERED="1")
    target = [script] if script == "-m" else [str(MPI_DIR / script)]
    cmd = [_MPIEXEC, "-n", str(n), sys.executable, *target, *map(str, args)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)


@needs_mpi
def test_collectives_and_ddp_mechanics_on_two_ranks():
    r = mpirun(2, "collectives.py")
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(r.stdout.split("\n")[:-1]) == ["ok 0", "ok 1"], r.stdout


def _weights(tmp_path, n, batch, momentum, weight_decay, seed, tag=""):
    out = tmp_path / f"w{n}{tag}.npz"
    r = mpirun(n, "train_ddp.py", out, batch, momentum, weight_decay, seed)
    assert r.returncode == 0, r.stdout + r.stderr
    with np.load(out, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


@needs_mpi
@pytest.mark.parametrize("momentum,weight_decay", [(0.0, 0.0), (0.9, 0.01)])
def test_two_ranks_with_half_batches_match_one_rank_with_the_whole_batch(
        tmp_path, momentum, weight_decay):
    one = _weights(tmp_path, 1, 16, momentum, weight_decay, seed=3)
    two = _weights(tmp_path, 2, 16, momentum, weight_decay, seed=3)
    assert one.keys() == two.keys()
    for k in one:
        # float32 round-off of summing a batch in two halves, over a dozen steps
        scale = np.abs(one[k]).max()
        np.testing.assert_allclose(two[k], one[k], rtol=1e-5, atol=1e-6 * scale, err_msg=k)


@needs_mpi
def test_two_rank_training_is_deterministic_for_a_fixed_seed(tmp_path):
    a = _weights(tmp_path, 2, 16, 0.9, 0.0, seed=5, tag="a")
    b = _weights(tmp_path, 2, 16, 0.9, 0.0, seed=5, tag="b")
    c = _weights(tmp_path, 2, 16, 0.9, 0.0, seed=6, tag="c")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert any(not np.array_equal(a[k], c[k]) for k in a)


@needs_mpi
def test_rank_that_stops_calling_collectives_makes_the_other_fail_with_a_timeout():
    start = time.perf_counter()
    r = mpirun(2, "dead_rank.py", "hang", timeout=30)
    assert time.perf_counter() - start < 20  # the 1 s timeout, not rank 1's 60 s sleep
    assert r.returncode != 0
    assert "all_reduce: rank 0 waited 1 s" in r.stderr, r.stderr
    assert "a rank has died" in r.stderr
    assert "returned without rank 1" not in r.stdout


@needs_mpi
def test_rank_that_exits_ends_the_whole_job_instead_of_hanging():
    r = mpirun(2, "dead_rank.py", "exit", timeout=30)
    assert r.returncode != 0
    assert "returned without rank 1" not in r.stdout


# ---- in this process: no MPI job needed -----------------------------------------------
def test_missing_mpi4py_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r"chainrule\[mpi\]"):
        dist.init_process_group("mpi")
    assert dist.is_available() is False


def test_rank_queries_before_init_process_group_name_the_missing_call():
    assert not dist.is_initialized()
    for fn in (dist.get_rank, dist.get_world_size, dist.barrier):
        with pytest.raises(RuntimeError, match="init_process_group"):
            fn()
    with pytest.raises(RuntimeError, match="all_reduce.*init_process_group"):
        dist.all_reduce(cr.ones(2))
    with pytest.raises(RuntimeError, match="DistributedDataParallel.*init_process_group"):
        DistributedDataParallel(cr.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="DistributedSampler.*num_replicas"):
        DistributedSampler(range(4))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="backend 'nccl' is not supported"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="timeout must be a positive"):
        dist.init_process_group("mpi", timeout=-1)
    with pytest.raises(TypeError, match="all_reduce: tensor must be a chainrule Tensor"):
        dist.all_reduce(np.ones(2))
    with pytest.raises(NotImplementedError, match="async_op"):
        dist.broadcast(cr.ones(2), async_op=True)
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be a positive integer"):
        DistributedSampler(range(4), num_replicas=0, rank=0)


# ---- DistributedSampler against torch's ---------------------------------------------
torch = pytest.importorskip("torch")
from torch.utils.data.distributed import DistributedSampler as TorchSampler  # noqa: E402


@pytest.mark.parametrize("n", [0, 1, 5, 8, 11, 17])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_distributed_sampler_gives_torchs_index_lists(n, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        if n == 0 and not drop_last:
            continue  # torch divides by zero padding an empty data set
        assert list(ours) == list(theirs), (n, replicas, rank, drop_last)
        assert len(ours) == len(theirs)


@pytest.mark.parametrize("n,replicas", [(10, 3), (7, 2), (2, 4), (12, 4)])
def test_shuffled_sampler_pads_and_splits_one_shared_permutation_like_torch(n, replicas):
    for epoch in range(3):
        parts = []
        for rank in range(replicas):
            s = DistributedSampler(range(n), replicas, rank, shuffle=True, seed=4)
            s.set_epoch(epoch)
            parts.append(list(s))
        assert len({len(p) for p in parts}) == 1  # every rank as many samples
        # interleaving the ranks back gives the epoch order, padded by repeating its head
        order = [parts[i % replicas][i // replicas] for i in range(len(parts[0]) * replicas)]
        assert sorted(order[:n]) == list(range(n))
        assert order[n:] == (order[:n] * replicas)[:len(order) - n]
        # torch splits and pads its own permutation in exactly this way
        t = TorchSampler(range(n), replicas, 0, shuffle=False)
        assert len(t) == len(parts[0])
    s0 = DistributedSampler(range(50), 2, 0, seed=4)
    first = list(s0)
    s0.set_epoch(1)
    assert list(s0) != first  # a new epoch, a new order
    s0.set_epoch(0)
    assert list(s0) == first  # the same epoch, the same order


# ---- fit(distributed=True) -----------------------------------------------------------
def _fit_run(tmp_path, n, epochs, tag, ckpt=None):
    out = tmp_path / f"fit{n}{tag}.npz"
    r = mpirun(n, "fit_ddp.py", out, epochs, *([ckpt] if ckpt else []))
    assert r.returncode == 0, r.stdout + r.stderr
    with np.load(out, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}, r.stdout


@needs_mpi
def test_fit_on_two_ranks_follows_the_one_rank_run_and_rank_0_alone_reports(tmp_path):
    one, _ = _fit_run(tmp_path, 1, 3, "")
    two, shown = _fit_run(tmp_path, 2, 3, "")
    assert shown.count("training on 2 MPI ranks") == 1
    assert shown.count("Epoch 3/3") == 1  # progress from rank 0 only
    for k in one:
        if k == "h_seconds":
            continue
        scale = np.abs(one[k]).max()
        # the logs are averaged over the ranks' shards: the loss and accuracy of all rows
        np.testing.assert_allclose(two[k], one[k], rtol=1e-5, atol=1e-6 * scale, err_msg=k)


@needs_mpi
def test_fit_on_two_ranks_resumes_from_rank_0s_checkpoint_as_if_never_stopped(tmp_path):
    straight, _ = _fit_run(tmp_path, 2, 3, "s")
    ckpt = tmp_path / "ckpt"
    _fit_run(tmp_path, 2, 2, "a", ckpt)
    resumed, shown = _fit_run(tmp_path, 2, 3, "b", ckpt)
    assert "resuming from the checkpoint after epoch 2" in shown
    for k in straight:
        if k != "h_seconds":
            np.testing.assert_array_equal(resumed[k], straight[k], err_msg=k)


@needs_mpi
def test_cli_train_under_mpiexec_says_so_and_only_rank_0_writes(tmp_path):
    r = mpirun(2, "-m", "chainrule", "train", "--epochs", "2", "--out", tmp_path / "runs",
               "--name", "r", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("running on 2 ranks") == 1
    assert r.stdout.count("saved to") == 1 and r.stdout.count("Epoch 2/2") == 1
    assert os.listdir(tmp_path / "runs") == ["r"]
    assert (tmp_path / "runs" / "r" / "model.safetensors").exists()
    r = mpirun(2, "-m", "chainrule", "train", "--resume", tmp_path / "runs" / "r",
               "--epochs", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "resuming from the checkpoint after epoch 2" in r.stdout
    assert r.stdout.count("Epoch 3/3") == 1


def test_fit_distributed_argument_is_checked():
    X, y = np.zeros((4, 2), np.float32), np.zeros(4, np.int64)
    with pytest.raises(TypeError, match="distributed must be True, False or None"):
        cr.train.fit(cr.nn.Linear(2, 2), (X, y), loss="cross_entropy", optimizer="sgd",
                     lr=0.1, epochs=1, distributed="yes", progress=False)
