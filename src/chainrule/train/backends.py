"""Where model selection's independent fits run: one after another ("sequential"), in
worker processes on this machine ("processes", joblib's loky) or on a Dask cluster
("dask", through the running dask.distributed Client: a LocalCluster, or a scheduler on
many machines). Each task carries its own seed, so the results do not depend on which
worker ran it, and come back in task order.

A worker that dies takes its task with it: the finished results are kept and a
WorkerLostError names the tasks that were lost."""
import os

__all__ = ["run_tasks", "WorkerLostError", "BACKENDS"]

BACKENDS = ("sequential", "processes", "dask")


class WorkerLostError(RuntimeError):
    """Some tasks were lost with their worker. `results` holds every task's result in
    task order, None for the lost ones; `lost` the labels of the lost tasks."""

    def __init__(self, message, results, lost):
        super().__init__(message)
        self.results, self.lost = results, lost


def check_backend(backend, n_jobs):
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, got "
                         f"{backend!r}")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int)
                               or n_jobs == 0 or n_jobs < -1):
        raise ValueError(f"n_jobs must be a positive integer, -1 (all CPUs) or None, got "
                         f"{n_jobs!r}")


def _needs(module, extra):
    raise ImportError(f"backend needs {module}; install it with: pip install "
                      f"'chainrule[{extra}]'")


def _worker_death_types():
    types = []
    try:
        from joblib.externals.loky.process_executor import BrokenProcessPool
        types.append(BrokenProcessPool)
    except ImportError:
        pass
    try:
        from distributed import KilledWorker
        from distributed.client import FutureCancelledError
        # a task whose shipped data went down with a worker is cancelled by the scheduler
        types += [KilledWorker, FutureCancelledError]
    except ImportError:
        pass
    from concurrent.futures.process import BrokenProcessPool as StdBroken
    return tuple(types) + (StdBroken,)


def _submit_processes(fn, tasks, n_jobs):
    try:
        from joblib.externals.loky import ProcessPoolExecutor
    except ImportError:
        _needs("joblib", "dask")
    workers = (os.cpu_count() or 1) if n_jobs in (None, -1) else n_jobs
    # a pool of our own: loky's reusable executor is joblib's shared pool, and creating it
    # outside joblib leaves it unusable for every later joblib.Parallel (scikit-learn's)
    executor = ProcessPoolExecutor(max_workers=min(workers, max(len(tasks), 1)))
    return [executor.submit(fn, *task) for task in tasks], executor


def _submit_dask(fn, tasks):
    try:
        from distributed import get_client
    except ImportError:
        _needs("dask.distributed", "dask")
    try:
        client = get_client()
    except ValueError:
        raise RuntimeError("backend='dask' runs on a dask.distributed Client: start one "
                           "first, e.g. Client(LocalCluster()) or Client('scheduler:8786')"
                           ) from None
    # an argument shared by several tasks (the data, the folds) goes to the cluster once
    counts = {}
    for task in tasks:
        for a in task:
            counts[id(a)] = counts.get(id(a), 0) + 1
    shipped = {}
    for task in tasks:
        for a in task:
            if counts[id(a)] > 1 and id(a) not in shipped and _array(a):
                shipped[id(a)] = client.scatter(a, hash=False, broadcast=True)
    # pure=False: two tasks with equal arguments are still two fits. The shipped data is
    # returned too: it must outlive the tasks, or a task rerun after a worker died finds
    # its inputs forgotten
    return [client.submit(fn, *[shipped.get(id(a), a) for a in task], pure=False)
            for task in tasks], list(shipped.values())


def _array(a):
    # arrays and tensors only: scatter() would split a dict or a list into its items
    return hasattr(a, "shape") and hasattr(a, "dtype")


def run_tasks(fn, tasks, labels, n_jobs=None, backend="sequential"):
    """[fn(*task) for task in tasks] on `backend`. An exception raised by fn itself is
    raised again here; a lost worker gives a WorkerLostError naming `labels` of the lost."""
    check_backend(backend, n_jobs)
    if backend == "sequential":
        return [fn(*task) for task in tasks]
    futures, held = (_submit_processes(fn, tasks, n_jobs) if backend == "processes"
                     else _submit_dask(fn, tasks))
    try:
        return _collect(tasks, labels, futures)
    finally:
        if backend == "processes":
            held.shutdown(wait=True)
        del held  # Dask: the shipped data is held until every task has finished


def _collect(tasks, labels, futures):
    deaths = _worker_death_types()
    results, lost = [], []
    try:
        for label, future in zip(labels, futures):
            try:
                results.append(future.result())
            except deaths as err:
                results.append(None)
                lost.append((label, err))
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    if lost:
        names = "; ".join(str(label) for label, _ in lost)
        raise WorkerLostError(
            f"{len(lost)} of {len(tasks)} tasks were lost with their worker "
            f"({type(lost[0][1]).__name__}: {lost[0][1]}): {names}. The other results "
            "are in this error's .results", results, [label for label, _ in lost])
    return results
