"""The process group: torch.distributed's API on MPI (mpi4py), one rank per process.

Every collective is started non-blocking and waited on with a deadline, so a rank that
died or stopped calling collectives makes the others fail with a message naming the
collective instead of waiting forever; the job is then aborted so no rank is left stuck."""
import atexit
import datetime
import sys
import time

import numpy as np

from ..tensors.tensor import Tensor

_DEFAULT_TIMEOUT = 1800.0  # seconds, PyTorch's default of 30 minutes
_state = {"comm": None, "timeout": _DEFAULT_TIMEOUT, "failed": False, "bytes": 0,
          "seconds": 0.0}


class DistributedTimeoutError(RuntimeError):
    """A collective did not complete before the process group's timeout."""


class ReduceOp:
    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"
    PRODUCT = "product"


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError("chainrule.distributed needs mpi4py and an MPI library; install "
                          "them with: pip install 'chainrule[mpi]'") from None
    return MPI


def _seconds(timeout):
    if timeout is None:
        return _DEFAULT_TIMEOUT
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"init_process_group: timeout must be a positive number of seconds "
                         f"or a datetime.timedelta, got {timeout!r}")
    return float(timeout)


def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1,
                       rank=-1, store=None, group_name=""):
    """Join the MPI job this process was started in (by mpiexec); a process started
    alone is a job of one rank. Rank and world size come from MPI, not from arguments."""
    if backend not in ("mpi", None):
        raise ValueError(f"init_process_group: backend {backend!r} is not supported; "
                         "chainrule.distributed runs on MPI (backend='mpi')")
    if _state["comm"] is not None:
        raise RuntimeError("init_process_group: the default process group is already "
                           "initialized; call destroy_process_group() first")
    seconds = _seconds(timeout)
    comm = _mpi().COMM_WORLD.Dup()
    for name, value, actual in (("world_size", world_size, comm.Get_size()),
                                ("rank", rank, comm.Get_rank())):
        if value not in (-1, None) and value != actual:
            comm.Free()
            raise ValueError(f"init_process_group: {name}={value} does not match MPI's "
                             f"{actual}; start the processes with mpiexec -n N instead")
    _state.update(comm=comm, timeout=seconds, bytes=0, seconds=0.0)


def is_available():
    # without importing mpi4py, which would start MPI in this process
    import importlib.util
    try:
        return importlib.util.find_spec("mpi4py") is not None
    except ValueError:  # a module set to None in sys.modules
        return False


def is_initialized():
    return _state["comm"] is not None


def _comm(op):
    comm = _state["comm"]
    if comm is None:
        raise RuntimeError(f"{op}: the default process group has not been initialized; "
                           "call chainrule.distributed.init_process_group() first")
    return comm


def get_rank(group=None):
    return _comm("get_rank").Get_rank()


def get_world_size(group=None):
    return _comm("get_world_size").Get_size()


def get_backend(group=None):
    _comm("get_backend")
    return "mpi"


def destroy_process_group(group=None):
    comm = _comm("destroy_process_group")
    _state["comm"] = None
    comm.Free()


def _wait(request, op, nbytes=0):
    """Poll `request` until it completes or the timeout passes. For the first 10 ms a
    waiting rank only yields the CPU between polls (a fast allreduce is not delayed by a
    sleep); after that it sleeps up to 1 ms, leaving the cores to the others."""
    start = time.perf_counter()
    deadline = start + _state["timeout"]
    pause = 0.0
    while not request.Test():
        now = time.perf_counter()
        if now - start > 0.01:
            pause = min(pause * 2 or 1e-4, 1e-3)
        if now > deadline:
            _state["failed"] = True
            rank = _state["comm"].Get_rank()
            raise DistributedTimeoutError(
                f"{op}: rank {rank} waited {_state['timeout']:g} s for the other ranks, "
                "which did not join; a rank has died or stopped calling collectives "
                "(the job is aborted)")
        time.sleep(pause)  # sleep(0) yields the CPU
    _state["bytes"] += nbytes
    _state["seconds"] += time.perf_counter() - start


@atexit.register
def _abort_after_timeout():
    # a timed-out collective is still pending, so MPI cannot finalize: end the whole job
    if _state["failed"] and _state["comm"] is not None:
        sys.stderr.flush()
        _state["comm"].Abort(1)


def communication_stats():
    """Bytes this rank sent through collectives and seconds it spent waiting on them."""
    return {"bytes": _state["bytes"], "seconds": _state["seconds"]}


def _check_tensor(t, op, name="tensor", async_op=False):
    if async_op:
        raise NotImplementedError(f"{op}: async_op=True is not supported; collectives "
                                  "complete before they return")
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a chainrule Tensor, got {type(t).__name__}")


# MPI has no half or bool types everywhere: those travel as float32 / uint8
_WIRE = {np.dtype(np.float16): np.float32, np.dtype(np.bool_): np.uint8}


def _wire(array):
    return np.ascontiguousarray(array, dtype=_WIRE.get(array.dtype, array.dtype))


def _store(t, array):
    """Write a collective's result into `t` in place (as torch.distributed does)."""
    t._data[...] = array.astype(t._data.dtype, copy=False)
    t._version[0] += 1


def _mpi_op(op, name):
    MPI = _mpi()
    table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.MAX: MPI.MAX,
             ReduceOp.MIN: MPI.MIN, ReduceOp.PRODUCT: MPI.PROD}
    if op not in table:
        raise ValueError(f"{name}: op must be one of ReduceOp.SUM, AVG, MAX, MIN, PRODUCT, "
                         f"got {op!r}")
    return table[op]


def all_reduce_array(buf, op=ReduceOp.SUM, name="all_reduce"):
    """Reduce a contiguous NumPy array in place across ranks (the fused-buffer path)."""
    comm = _comm(name)
    request = comm.Iallreduce(_mpi().IN_PLACE, buf, op=_mpi_op(op, name))
    _wait(request, name, buf.nbytes)
    if op == ReduceOp.AVG:
        buf /= comm.Get_size()
    return buf


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    _check_tensor(tensor, "all_reduce", async_op=async_op)
    if op == ReduceOp.AVG and not np.issubdtype(tensor._data.dtype, np.floating):
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating-point tensor, got "
                        f"{tensor._data.dtype}")
    buf = _wire(tensor._data).copy()
    _store(tensor, all_reduce_array(buf, op))


def broadcast_array(buf, src=0, name="broadcast"):
    comm = _comm(name)
    if not 0 <= src < comm.Get_size():
        raise ValueError(f"{name}: src={src} is not a rank of this group of "
                         f"{comm.Get_size()}")
    _wait(comm.Ibcast(buf, root=src), name, buf.nbytes)
    return buf


def broadcast(tensor, src=0, group=None, async_op=False):
    _check_tensor(tensor, "broadcast", async_op=async_op)
    buf = _wire(tensor._data).copy()
    _store(tensor, broadcast_array(buf, src))


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill `tensor_list[r]` with rank r's `tensor` (all the same shape and dtype)."""
    _check_tensor(tensor, "all_gather", async_op=async_op)
    comm = _comm("all_gather")
    size = comm.Get_size()
    if not isinstance(tensor_list, list) or len(tensor_list) != size:
        raise ValueError(f"all_gather: tensor_list must be a list of {size} tensors (one "
                         f"per rank), got {type(tensor_list).__name__} of "
                         f"{len(tensor_list) if isinstance(tensor_list, list) else '?'}")
    for i, t in enumerate(tensor_list):
        _check_tensor(t, "all_gather", f"tensor_list[{i}]")
        if t._data.shape != tensor._data.shape:
            raise ValueError(f"all_gather: tensor_list[{i}] has shape {t._data.shape}, "
                             f"expected {tensor._data.shape} like the input")
    send = _wire(tensor._data)
    recv = np.empty((size,) + send.shape, dtype=send.dtype)
    _wait(comm.Iallgather(send, recv), "all_gather", send.nbytes * size)
    for t, part in zip(tensor_list, recv):
        _store(t, part)


def barrier(group=None, async_op=False, device_ids=None):
    _wait(_comm("barrier").Ibarrier(), "barrier")
