"""k_fold / grid_search / random_search on worker processes (joblib's loky) and on a real
Dask cluster (a LocalCluster of two worker processes): the same results as the
sequential run for the same seed, and a worker that dies is reported with its task."""
import importlib.util
import os
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule.train import grid_search, k_fold, random_search
from chainrule.train.backends import WorkerLostError

pytestmark = pytest.mark.slow  # starts processes or runs long work: `-m "not slow"` skips it

needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None or importlib.util.find_spec("joblib") is None,
    reason="dask.distributed and joblib (the chainrule[dask] extra) are needed")

rng = np.random.default_rng(0)
X = rng.standard_normal((60, 4)).astype(np.float32)
Y = (X[:, :1] * 2 - X[:, 1:2]).astype(np.float32)
FIT = {"loss": "mse", "optimizer": "sgd", "epochs": 3, "batch_size": 10, "metrics": ()}


def _builders():
    # local functions travel to the workers by value (cloudpickle)
    def build(hidden=8):
        return cr.nn.Sequential(cr.nn.Linear(4, hidden), cr.nn.Tanh(), cr.nn.Linear(hidden, 1))

    def build_or_die(hidden=8):
        if hidden == 5 and os.environ.get("CHAINRULE_TEST_IN_WORKER"):
            time.sleep(0.5)  # the first candidate's fits finish meanwhile
            os._exit(1)  # the worker process dies mid-task
        return build(hidden)
    return build, build_or_die


def _logs(result):
    """Each fold's logged values, less the wall time."""
    return [{k: v for k, v in h.history.items() if k != "seconds"} for h in result.histories]


def _rows(result):
    return [(r["params"], r["folds"]) for r in result.rows]


@pytest.fixture(scope="module")
def dask_client():
    if importlib.util.find_spec("distributed") is None:
        pytest.skip("dask.distributed is not installed")
    import dask
    from distributed import Client, LocalCluster
    # a task is given up after killing two workers (the nanny restarts them); the tasks
    # that shared a worker with it are rerun elsewhere
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        os.environ["CHAINRULE_TEST_IN_WORKER"] = "1"  # inherited by the spawned workers
        try:
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
        finally:
            del os.environ["CHAINRULE_TEST_IN_WORKER"]
        client = Client(cluster)
        yield client
        client.close()
        cluster.close()


@needs_dask
def test_grid_search_on_dask_and_on_processes_gives_the_sequential_result(dask_client):
    build, _ = _builders()
    grid = {"hidden": [3, 6], "lr": [0.05, 0.1]}
    kw = dict(k=3, fit_kwargs=FIT, seed=4, model_params=("hidden",))
    seq = grid_search(build, grid, X, Y, **kw)
    on_dask = grid_search(build, grid, X, Y, backend="dask", **kw)
    on_procs = grid_search(build, grid, X, Y, backend="processes", n_jobs=2, **kw)
    assert _rows(on_dask) == _rows(seq)  # bit for bit: every fit seeded from seed alone
    assert _rows(on_procs) == _rows(seq)
    assert on_dask.best_params == seq.best_params


@needs_dask
def test_k_fold_and_random_search_on_dask_match_sequential(dask_client):
    build, _ = _builders()
    fk = dict(FIT, optimizer=lambda ps: cr.optim.SGD(ps, lr=0.1))
    a = k_fold(build, X, Y, k=4, fit_kwargs=fk, seed=1)
    b = k_fold(build, X, Y, k=4, fit_kwargs=fk, seed=1, backend="dask")
    assert _logs(a) == _logs(b)
    dists = {"lr": lambda r: 10 ** r.uniform(-2, -1)}
    s = random_search(build, dists, X, Y, k=2, fit_kwargs=FIT, n_iter=3, seed=2)
    d = random_search(build, dists, X, Y, k=2, fit_kwargs=FIT, n_iter=3, seed=2,
                      backend="dask")
    assert _rows(s) == _rows(d)


@needs_dask
def test_without_a_seed_the_parallel_run_follows_manual_seed(dask_client):
    build, _ = _builders()
    fk = dict(FIT, optimizer=lambda ps: cr.optim.SGD(ps, lr=0.1))
    cr.manual_seed(9)
    a = k_fold(build, X, Y, k=2, fit_kwargs=fk, backend="dask")
    cr.manual_seed(9)
    b = k_fold(build, X, Y, k=2, fit_kwargs=fk, backend="processes", n_jobs=2)
    assert _logs(a) == _logs(b)


@needs_dask
def test_sklearn_grid_search_runs_on_the_dask_joblib_backend(dask_client):
    pytest.importorskip("sklearn")
    import joblib
    from sklearn.model_selection import GridSearchCV

    from chainrule.sklearn import NeuralNetRegressor
    net = NeuralNetRegressor(cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.Tanh(),
                                              cr.nn.Linear(8, 1)),
                             lr=0.05, max_epochs=3, batch_size=10, random_state=0, verbose=0)
    grid = {"lr": [0.02, 0.05]}
    local = GridSearchCV(net, grid, cv=2).fit(X, Y)
    with joblib.parallel_backend("dask"):
        remote = GridSearchCV(net, grid, cv=2, n_jobs=2).fit(X, Y)
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])


@needs_dask
def test_dead_dask_worker_is_reported_with_the_lost_candidate_and_fold(dask_client):
    _, build_or_die = _builders()
    grid = {"hidden": [4, 5]}
    with pytest.raises(WorkerLostError, match=r"candidate 2 \{'hidden': 5\}, fold 1") as e:
        grid_search(build_or_die, grid, X, Y, k=2, fit_kwargs=dict(FIT, lr=0.1), seed=0,
                    backend="dask", model_params=("hidden",))
    results = e.value.results
    assert results[0] is not None and results[1] is not None  # candidate 1 is kept
    assert e.value.lost == ["candidate 2 {'hidden': 5}, fold 1",
                            "candidate 2 {'hidden': 5}, fold 2"]
    assert results[2] is None and results[3] is None


@needs_dask
def test_dead_process_worker_is_reported_and_finished_folds_are_kept():
    parent = os.getpid()

    def build(hidden=8):
        if hidden == 5 and os.getpid() != parent:
            time.sleep(0.5)  # the first candidate's fits finish meanwhile
            os._exit(1)
        return cr.nn.Sequential(cr.nn.Linear(4, hidden), cr.nn.Linear(hidden, 1))
    with pytest.raises(WorkerLostError, match=r"candidate 2 \{'hidden': 5\}, fold 1") as e:
        grid_search(build, {"hidden": [4, 5]}, X, Y, k=2, fit_kwargs=dict(FIT, lr=0.1),
                    seed=0, backend="processes", n_jobs=2, model_params=("hidden",))
    assert e.value.results[0] is not None and e.value.results[1] is not None
    assert set(e.value.lost) == {"candidate 2 {'hidden': 5}, fold 1",
                                 "candidate 2 {'hidden': 5}, fold 2"}


def test_unknown_backend_and_missing_client_are_named(monkeypatch):
    build, _ = _builders()
    with pytest.raises(ValueError, match="backend must be one of 'sequential', 'processes'"):
        k_fold(build, X, Y, k=2, fit_kwargs=FIT, backend="threads")
    with pytest.raises(ValueError, match="n_jobs must be a positive integer"):
        k_fold(build, X, Y, k=2, fit_kwargs=FIT, backend="processes", n_jobs=0)
    monkeypatch.setitem(__import__("sys").modules, "distributed", None)
    with pytest.raises(ImportError, match=r"chainrule\[dask\]"):
        k_fold(build, X, Y, k=2, fit_kwargs=FIT, backend="dask", seed=0)



@needs_dask
def test_process_backend_leaves_joblib_parallel_usable_afterwards():
    # the search runs on a pool of its own: joblib's shared loky pool, created outside
    # joblib, broke every later joblib.Parallel (scikit-learn's n_jobs) in the process
    import joblib

    def build(hidden=8):
        return cr.nn.Sequential(cr.nn.Linear(4, hidden), cr.nn.Linear(hidden, 1))
    grid_search(build, {"hidden": [4]}, X, Y, k=2, fit_kwargs=dict(FIT, lr=0.1), seed=0,
                backend="processes", n_jobs=2, model_params=("hidden",))
    assert joblib.Parallel(n_jobs=2)(joblib.delayed(abs)(-i) for i in range(4)) == [0, 1, 2, 3]
