"""How matrix products use the cores, without letting the machine's load change a bit.

OpenBLAS rounds differently with a different thread count, so a count chosen from the
load (or changed by the user) would make the same seed give other weights. Here BLAS always
runs one thread, and a large product is cut into parts by its shape alone (row or column
blocks of the result, never the summed dimension): each part is one single-threaded BLAS
call, so the bits depend only on the operands' shapes. How many parts run at once is then
free to follow the machine: as many as there are cores other processes leave free (sampled
from /proc/stat a few times a second), so a busy machine never meets OpenBLAS's spin-wait
cliff. `set_num_threads(n)` fixes that count, as `torch.set_num_threads` does (the bits
stay the same); an explicit OMP_NUM_THREADS / OPENBLAS_NUM_THREADS caps it.
"""
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from math import prod

import numpy as np

from .runtime import recording_hooks

SMALL_GEMM = 1 << 20       # multiply-adds below which a product is one part
MAX_PARTS = 4              # most parts a product is cut into
PART_ROWS = 128            # fewest rows (or columns) a part gets; a multiple of 16
_SAMPLE_EVERY = 0.25       # seconds between load samples

_user = [None]             # set_num_threads() override (None: follow the free cores)
_current = [None]          # the count BLAS has now (None: not set by us yet)
_free = [1, 0.0, None]     # free cores, time of next sample, last (busy, total, own) ticks
_blas = []                 # threadpoolctl controllers of NumPy's BLAS, found once
_pool = []                 # the worker threads, made at the first product that needs them
_pool_lock = threading.Lock()


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


def single_threaded_blas():
    """Give NumPy's BLAS one thread (cheap once done): every product's bits then depend
    on its shape only."""
    if _current[0] != 1:
        _set_blas(1)


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


def _macs(sa, sb):
    if len(sa) == 2 and len(sb) == 2:
        return sa[0] * sa[1] * sb[1]
    return max(prod(sa[:-2]), prod(sb[:-2])) * sa[-2] * sa[-1] * sb[-1]


def plan(shape_a, shape_b):
    """(axis of the result to cut, cut points) for operands of at least two dims: a
    function of the shapes alone. Axis -2 cuts rows of `a`, -1 columns of `b`; one part
    (two cut points) means no cut."""
    rows, cols = shape_a[-2], shape_b[-1]
    axis, length = (-2, rows) if rows >= cols else (-1, cols)
    parts = min(MAX_PARTS, _macs(shape_a, shape_b) // SMALL_GEMM, length // PART_ROWS)
    parts = max(parts, 1)
    cuts = [(length * i // parts) // 16 * 16 for i in range(parts)] + [length]
    return axis, tuple(cuts)


def _part(axis, lo, hi, a, b, out=None):
    if axis == -2:
        return np.matmul(a[..., lo:hi, :], b, out=None if out is None else out[..., lo:hi, :])
    return np.matmul(a, b[..., lo:hi], out=None if out is None else out[..., lo:hi])


def _workers():
    n = _user[0] or free_cores()
    if n > 1 and not _pool:
        with _pool_lock:
            if not _pool:
                _pool.append(ThreadPoolExecutor(max(1, _CAP - 1), thread_name_prefix="chainrule-gemm"))
    return n


def _run_parts(axis, cuts, a, b):
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
    out = np.empty(shape, np.result_type(a.dtype, b.dtype))
    spans = list(zip(cuts[:-1], cuts[1:]))
    n = min(_workers(), len(spans))

    def share(k):  # worker k's parts: k, k + n, ...; the order does not change a bit
        for lo, hi in spans[k::n]:
            _part(axis, lo, hi, a, b, out)
    futures = [_pool[0].submit(share, k) for k in range(1, n)]
    share(0)
    for f in futures:
        f.result()
    return out


def matmul(a, b):
    """np.matmul under the deterministic plan (a and b may be tensors under create_graph:
    their own matmul op comes back here with arrays)."""
    if _current[0] != 1:
        single_threaded_blas()
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.ndim < 2 or b.ndim < 2:
        return np.matmul(a, b)
    axis, cuts = plan(a.shape, b.shape)
    if len(cuts) == 2:
        return np.matmul(a, b)
    if type(a) is np.ndarray and type(b) is np.ndarray and recording_hooks.ACTIVE[0] is None:
        return _run_parts(axis, cuts, a, b)
    return _joined_parts(axis, cuts, a, b)


def map_parts(fn, count):
    """[fn(0), ..., fn(count - 1)], up to as many at once as a product's parts may run
    (the free cores, or set_num_threads), in index order. Each fn(i) must depend on i
    alone (its own buffers, its own slice of an output), so the bits never depend on
    how many ran at once; under a compile recording they run one after another."""
    n = min(_workers(), count) if recording_hooks.ACTIVE[0] is None else 1
    if n <= 1:
        return [fn(i) for i in range(count)]
    results = [None] * count

    def share(k):
        for i in range(k, count, n):
            results[i] = fn(i)
    futures = [_pool[0].submit(share, k) for k in range(1, n)]
    share(0)
    for f in futures:
        f.result()
    return results


def _joined_parts(axis, cuts, a, b):
    """The same parts for arrays a compile recording follows: made one after another into
    one result, which a replay refills in place (no copy to join them)."""
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
    out = recording_hooks.buffer(shape, np.result_type(a.dtype, b.dtype))
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        _part(axis, lo, hi, a, b, out)
    return out


def set_num_threads(n):
    """Run up to `n` parts of a large product at once from now on (PyTorch's
    set_num_threads); "auto" goes back to following the free cores. Results are the same
    bits for every count."""
    if n == "auto":
        _user[0] = None
        return
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer or 'auto', got {n!r}")
    _user[0] = n
    single_threaded_blas()


def get_num_threads():
    """The fixed count from set_num_threads, else the most parts a product may run at once."""
    return _user[0] or _CAP
