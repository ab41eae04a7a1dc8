"""How many BLAS threads a matrix product gets.

A minibatch GEMM is small: a second thread gains nothing below about a million
multiply-adds, and on a machine where another process holds a core, OpenBLAS's workers
spin-wait for it and an epoch becomes several times slower (the "cliff"). So each product
asks for one thread when it is small, and otherwise for as many threads as there are cores
that other processes are not using right now (sampled from /proc/stat a few times a
second). `set_num_threads(n)` fixes the count, as `torch.set_num_threads` does; an
explicit OMP_NUM_THREADS / OPENBLAS_NUM_THREADS caps it.
"""
import os
import time
from math import prod

import numpy as np

from . import _capture

SMALL_GEMM = 1 << 20       # multiply-adds below which one thread is as fast as two
_SAMPLE_EVERY = 0.25       # seconds between load samples

_user = [None]             # set_num_threads() override
_current = [None]          # the count BLAS has now (None: not set by us yet)
_free = [1, 0.0, None]     # free cores, time of next sample, last (busy, total, own) ticks
_blas = []                 # threadpoolctl controllers of NumPy's BLAS, found once


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _env_cap():
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


_CORES = _cores()
_CAP = min(_CORES, _env_cap() or _CORES)
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _controllers():
    if not _blas:
        try:
            from threadpoolctl import ThreadpoolController
            found = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
        except ImportError:  # a broken install: BLAS keeps its own thread count
            found = []
        numpy_dir = os.path.dirname(os.path.dirname(np.__file__))
        ours = [c for c in found if c.filepath.startswith(numpy_dir) and "numpy" in c.filepath]
        _blas.extend(ours or found)
        _blas.append(None)  # marks "searched", even when nothing was found
    return _blas


def _set_blas(n):
    for c in _controllers():
        if c is not None:
            c.set_num_threads(n)
    _current[0] = n


def _read_ticks():
    """(busy ticks of the whole machine, total ticks, this process's ticks)."""
    with open("/proc/stat", "rb") as f:
        fields = f.readline().split()[1:9]
    ticks = [int(v) for v in fields]
    idle = ticks[3] + ticks[4]
    t = os.times()
    return sum(ticks) - idle, sum(ticks), (t.user + t.system) * _TICK


def free_cores():
    """Cores that other processes left free over the last sample interval (at least 1)."""
    now = time.monotonic()
    if now < _free[1]:
        return _free[0]
    _free[1] = now + _SAMPLE_EVERY
    try:
        sample = _read_ticks()
    except (OSError, ValueError, IndexError):
        _free[0] = _CAP
        return _CAP
    last, _free[2] = _free[2], sample
    if last is None:
        return _free[0] if _free[0] > 1 else _CAP
    busy, total, own = (a - b for a, b in zip(sample, last))
    if total <= 0:
        return _free[0]
    machine_cores = os.cpu_count() or _CORES
    others = max(0.0, busy - own) / total * machine_cores
    _free[0] = max(1, min(_CAP, int(_CORES - others + 0.5)))
    return _free[0]


@_capture.replayed  # a compiled replay sets the thread count where eager code would
def for_gemm(macs):
    """Give BLAS the thread count for a product of `macs` multiply-adds (cheap when it
    does not change)."""
    n = _user[0] or (1 if macs < SMALL_GEMM or _CAP == 1 else free_cores())
    if n != _current[0]:
        _set_blas(n)


def matmul(a, b):
    """np.matmul under the thread policy (a and b may be tensors under create_graph)."""
    sa, sb = a.shape, b.shape
    if len(sa) == 2 and len(sb) == 2:
        macs = sa[0] * sa[1] * sb[1]
    elif len(sa) >= 2 and len(sb) >= 2:
        macs = max(prod(sa[:-2]), prod(sb[:-2])) * sa[-2] * sa[-1] * sb[-1]
    else:
        return np.matmul(a, b)
    # the common cases inline: a count the user fixed, or a small product while BLAS
    # already has one thread (a compile recording keeps every automatic choice: the
    # count at replay time may differ)
    if _user[0]:
        if _current[0] != _user[0]:
            for_gemm(macs)
    elif macs >= SMALL_GEMM or _current[0] != 1 or _capture.ACTIVE[0] is not None:
        for_gemm(macs)
    return np.matmul(a, b)


def set_num_threads(n):
    """Use `n` BLAS threads for every product from now on (PyTorch's set_num_threads)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    _user[0] = n
    _set_blas(n)


def get_num_threads():
    """The fixed count from set_num_threads, else the most threads a product may get."""
    return _user[0] or _CAP
