"""Model selection without touching the test set (d2l ch. 3.6, 5.7): a train/val/test
split, K-fold cross-validation, and grid / random search ranked by K-fold score."""
import csv
import inspect
import io
import itertools
import json
import math
import numbers

import numpy as np

from ..runtime.atomic_files import atomic_write_text
from .backends import check_backend, run_tasks
from .history import _num
from .tables import format_table

__all__ = ["train_val_test_split", "k_fold_indices", "k_fold", "KFoldResult",
           "grid_search", "random_search", "SearchResult"]


def _rows(X, y):
    from .data import as_tensor
    Xt, yt = as_tensor(X, "X"), as_tensor(y, "y")
    if Xt.ndim == 0 or yt.ndim == 0:
        raise ValueError("X and y need a first (row) dimension")
    if len(Xt) != len(yt):
        raise ValueError(f"X has {len(Xt)} rows but y has {len(yt)}; they must match")
    return Xt, yt


def _take(t, idx):
    import chainrule
    return t[chainrule.tensor(np.asarray(idx, dtype=np.int64))]


def train_val_test_split(X, y, val=0.15, test=0.15, seed=None, shuffle=True):
    """Shuffle the rows (with `seed`) and cut them into ((X_train, y_train), (X_val,
    y_val), (X_test, y_test)). Sizes: round(n*val) and round(n*test) rows, at least 1."""
    Xt, yt = _rows(X, y)
    n = len(Xt)
    for name, f in (("val", val), ("test", test)):
        if not isinstance(f, numbers.Real) or not 0 <= f < 1:
            raise ValueError(f"{name} must be a fraction in [0, 1), got {f!r}")
    if val + test >= 1:
        raise ValueError(f"val + test = {val + test} leaves no training rows")
    n_val = max(1, round(n * val)) if val > 0 else 0
    n_test = max(1, round(n * test)) if test > 0 else 0
    if n - n_val - n_test < 1:
        raise ValueError(f"{n} rows are too few for val={val}, test={test}")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    parts = (order[:n - n_val - n_test], order[n - n_val - n_test:n - n_test], order[n - n_test:])
    return tuple((_take(Xt, p), _take(yt, p)) for p in parts)


def k_fold_indices(n, k, seed=None):
    """k (train_idx, val_idx) pairs covering all n rows: fold sizes differ by at most one
    (the n % k remainder rows go one each to the first folds, none is dropped). Rows are
    shuffled with `seed`; seed=None keeps their order (d2l's contiguous folds)."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer, got {type(k).__name__}")
    if k < 2:
        raise ValueError(f"k-fold needs k >= 2, got k={k}")
    if k > n:
        raise ValueError(f"k={k} folds need at least {k} rows, got {n}")
    order = np.arange(n) if seed is None else np.random.default_rng(seed).permutation(n)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    bounds = np.cumsum([0] + sizes)
    folds = []
    for i in range(k):
        val_idx = order[bounds[i]:bounds[i + 1]]
        train_idx = np.concatenate([order[:bounds[i]], order[bounds[i + 1]:]])
        folds.append((train_idx, val_idx))
    return folds


def _build(build_model, fit_kwargs, params=None, model_params=()):
    """Call build_model with the params named in `model_params`; it returns a model or
    (model, optimizer). Params named like fit's keywords go to fit; the rest go to an
    optimizer factory in fit_kwargs (e.g. lr)."""
    from .fit import fit
    params = dict(params or {})
    fit_names = set(inspect.signature(fit).parameters) - {"model", "train", "val"}
    to_model = {k: v for k, v in params.items() if k in model_params}
    rest = {k: v for k, v in params.items() if k not in to_model}
    to_fit = {k: v for k, v in rest.items() if k in fit_names}
    to_opt = {k: v for k, v in rest.items() if k not in to_fit}
    built = _call_build(build_model, to_model, to_fit, to_opt)
    kwargs = dict(fit_kwargs or {})
    kwargs.update(to_fit)
    if isinstance(built, tuple):
        # an optimizer built with its model, once per fold: bound to the right parameters
        model, opt = built[0], built[1]
        if to_opt:
            raise ValueError(f"parameters {sorted(to_opt)} are taken neither by build_model "
                             "nor by fit; build_model returns its own optimizer, so accept "
                             "them in build_model")
        kwargs["optimizer"] = opt
        return model, kwargs
    model = built
    opt = kwargs.get("optimizer")
    if to_opt:
        if opt is None or hasattr(opt, "param_groups") or not callable(opt):
            raise ValueError(f"parameters {sorted(to_opt)} are taken neither by build_model nor "
                             "by fit; give fit_kwargs['optimizer'] as a factory (e.g. "
                             "functools.partial(optim.SGD)) to receive them")
        kwargs["optimizer"] = lambda ps, _o=opt, _kw=to_opt: _o(ps, **_kw)
    if kwargs.get("optimizer") is None:
        raise ValueError("no optimizer: give fit_kwargs['optimizer'] as a factory (params -> "
                         "optimizer) or return (model, optimizer) from build_model")
    if hasattr(kwargs["optimizer"], "param_groups"):
        raise ValueError("fit_kwargs['optimizer'] is an optimizer bound to one model's "
                         "parameters; each fold builds a new model, so give a factory instead, "
                         "e.g. lambda params: optim.SGD(params, lr=0.1)")
    return model, kwargs


def _routing(to_model, to_fit, to_opt):
    parts = [f"{sorted(names)} to {where}" for names, where in
             ((to_model, "build_model"), (to_fit, "fit"), (to_opt, "the optimizer factory"))
             if names]
    return "; ".join(parts) or "nothing"


def _call_build(build_model, to_model, to_fit, to_opt):
    """build_model(**to_model), with an error that says where each searched name went
    when build_model wanted one it did not get."""
    try:
        wanted = set(inspect.signature(build_model).parameters)
    except (TypeError, ValueError):
        wanted = set()
    misrouted = sorted(wanted & (set(to_fit) | set(to_opt)))
    if misrouted:
        raise TypeError(f"build_model takes {misrouted}, but searched names go to build_model "
                        f"only when listed in model_params; they went: "
                        f"{_routing(to_model, to_fit, to_opt)}. Pass "
                        f"model_params={sorted(set(to_model) | set(misrouted))}")
    try:
        return build_model(**to_model)
    except TypeError as err:
        if "argument" not in str(err):
            raise
        raise TypeError(f"build_model({', '.join(f'{k}=' for k in sorted(to_model))}) failed: "
                        f"{err}; searched names went: {_routing(to_model, to_fit, to_opt)} "
                        "(model_params=[...] routes names to build_model)") from err


class KFoldResult:
    """Per-fold histories and the mean ± std of each final-epoch value."""

    def __init__(self, histories, k, folds):
        self.histories, self.k, self.fold_sizes = histories, k, [len(v) for _, v in folds]
        keys = [key for key in histories[0].columns() if key != "seconds"]
        self.final = {key: [h.history[key][-1] for h in histories if key in h.history]
                      for key in keys}
        self.mean = {key: float(np.mean(v)) for key, v in self.final.items()}
        self.std = {key: float(np.std(v)) for key, v in self.final.items()}

    def __getitem__(self, key):
        return self.mean[key]

    def to_table(self):
        keys = [key for key in self.final if key != "lr"]
        header = ["metric", "mean ± std"] + [f"fold {i + 1}" for i in range(self.k)]
        rows = [[key, f"{self.mean[key]:.4f} ± {self.std[key]:.4f}"]
                + [f"{v:.4f}" for v in self.final[key]] for key in keys]
        return (f"{self.k}-fold cross-validation (fold sizes {self.fold_sizes})\n"
                + format_table(header, rows, align="l" + "r" * (len(header) - 1)))

    __str__ = to_table

    def __repr__(self):
        return f"KFoldResult(k={self.k}, mean={self.mean})"

    def to_dict(self):
        return {"k": self.k, "fold_sizes": self.fold_sizes,
                "mean": {k: _num(v) for k, v in self.mean.items()},
                "std": {k: _num(v) for k, v in self.std.items()},
                "folds": [h.to_dict() for h in self.histories]}

    def to_json(self, path=None):
        text = json.dumps(self.to_dict(), indent=1)
        return text if path is None else atomic_write_text(path, text)

    def plot(self, path=None, **kw):
        from .plots import plot_k_fold
        return plot_k_fold(self, path, **kw)


def _fit_fold(build_model, X, y, tr, va, fit_kwargs, params, model_params, seed):
    """One fold's fit, the same in any process: seeded before its model is built."""
    import chainrule
    from .fit import fit
    if seed is not None:
        chainrule.manual_seed(seed)
    model, kwargs = _build(build_model, fit_kwargs, params, model_params)
    if seed is not None and "seed" not in kwargs:
        kwargs["seed"] = seed
    return fit(model, (_take(X, tr), _take(y, tr)), (_take(X, va), _take(y, va)), **kwargs)


def _task_seed(seed, backend):
    """Workers do not share this process's random state: without a seed, one is drawn
    here so that the run still follows chainrule.manual_seed."""
    if seed is None and backend != "sequential":
        import chainrule
        seed = int(chainrule.randint(0, 2 ** 31, (1,)).item())
    return seed


def k_fold(build_model, X, y, k=5, fit_kwargs=None, seed=None, params=None, model_params=(),
           n_jobs=None, backend="sequential"):
    """d2l's K-fold procedure: for each of k folds, build a fresh model, train it on the
    other k-1 folds and validate on this one. `build_model(**{the params named in
    model_params})` returns a model or (model, optimizer); `fit_kwargs` are passed to `fit`
    (loss, epochs, optimizer as a factory, ...). Returns a KFoldResult (histories, mean and
    std of final values). backend: "sequential", "processes" (n_jobs worker processes)
    or "dask" (the running dask.distributed Client); fold i is seeded with seed + i
    wherever it runs, so all three give the same result."""
    check_backend(backend, n_jobs)
    seed = _task_seed(seed, backend)
    tasks, folds = _fold_tasks(build_model, X, y, k, fit_kwargs, seed, params, model_params)
    histories = run_tasks(_fit_fold, tasks, [f"fold {i + 1}" for i in range(len(tasks))],
                          n_jobs, backend)
    return KFoldResult(histories, k, folds)


def _fold_tasks(build_model, X, y, k, fit_kwargs, seed, params, model_params):
    """The arguments of _fit_fold for each fold, and the folds."""
    if not callable(build_model):
        raise TypeError("build_model must be a function returning a fresh model")
    model_params = _check_model_params(model_params, params)
    Xt, yt = _rows(X, y)
    fit_kwargs = dict(fit_kwargs or {})
    for bad in ("val", "validation_split", "checkpoint_dir", "resume"):
        if fit_kwargs.get(bad) is not None and fit_kwargs.get(bad) is not False:
            raise ValueError(f"fit_kwargs[{bad!r}] cannot be used in k_fold (each fold "
                             "brings its own validation rows)")
    fit_kwargs.setdefault("progress", False)
    folds = k_fold_indices(len(Xt), k, seed)
    tasks = [(build_model, Xt, yt, tr, va, fit_kwargs, params, model_params,
              None if seed is None else seed + i) for i, (tr, va) in enumerate(folds)]
    return tasks, folds


class SearchResult:
    """Settings ranked by mean K-fold validation score (best first)."""

    def __init__(self, rows, monitor, mode):
        self.monitor, self.mode = monitor, mode
        sign = 1 if mode == "min" else -1
        self.rows = sorted(rows, key=lambda r: (math.isnan(r["mean"]), sign * r["mean"]
                                                if not math.isnan(r["mean"]) else 0))
        for rank, r in enumerate(self.rows, 1):
            r["rank"] = rank

    @property
    def best_params(self):
        return dict(self.rows[0]["params"])

    @property
    def best_score(self):
        return self.rows[0]["mean"]

    def _flat(self):
        keys = sorted({k for r in self.rows for k in r["params"]})
        out = []
        for r in self.rows:
            d = {"rank": r["rank"], **{k: r["params"].get(k) for k in keys},
                 f"mean_{self.monitor}": r["mean"], f"std_{self.monitor}": r["std"]}
            out.append(d)
        return out

    def to_table(self):
        flat = self._flat()
        cells = [[f"{v:.4g}" if isinstance(v, float) else str(v) for v in d.values()] for d in flat]
        return format_table(list(flat[0]), cells)

    __str__ = to_table

    def __repr__(self):
        return f"SearchResult(best_params={self.best_params}, best_score={self.best_score:.4g})"

    def to_csv(self, path=None):
        flat = self._flat()
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(flat[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(flat)
        return buf.getvalue() if path is None else atomic_write_text(path, buf.getvalue())

    def to_json(self, path=None):
        data = {"monitor": self.monitor, "mode": self.mode,
                "rows": [{"rank": r["rank"], "params": r["params"], "mean": _num(r["mean"]),
                          "std": _num(r["std"]), "folds": [_num(v) for v in r["folds"]]}
                         for r in self.rows]}
        text = json.dumps(data, indent=1, default=str)
        return text if path is None else atomic_write_text(path, text)


def _check_model_params(model_params, params):
    if isinstance(model_params, str) or not all(isinstance(n, str) for n in model_params):
        raise TypeError(f"model_params must be a list of parameter names, got {model_params!r}")
    unknown = sorted(set(model_params) - set(params or {}))
    if unknown:
        raise ValueError(f"model_params names {unknown}, which are not searched parameters; "
                         f"searched: {sorted(params or {})}")
    return tuple(model_params)


def _search(build_model, settings, X, y, k, fit_kwargs, monitor, mode, seed, model_params,
            n_jobs=None, backend="sequential"):
    """Every (candidate, fold) fit is one task, so the workers share all of them."""
    from .metrics import resolve_mode
    mode = resolve_mode(monitor, mode)
    check_backend(backend, n_jobs)
    seed = _task_seed(seed, backend)
    X, y = _rows(X, y)  # one copy of the data for all candidates (shipped to workers once)
    tasks, labels, folds = [], [], None
    for c, params in enumerate(settings):
        mine, folds = _fold_tasks(build_model, X, y, k, fit_kwargs, seed, params, model_params)
        tasks += mine
        labels += [f"candidate {c + 1} {params}, fold {i + 1}" for i in range(len(mine))]
    histories = run_tasks(_fit_fold, tasks, labels, n_jobs, backend)
    rows = []
    for c, params in enumerate(settings):
        res = KFoldResult(histories[c * k:(c + 1) * k], k, folds)
        if monitor not in res.final:
            raise ValueError(f"monitor {monitor!r} is not logged; logged: {sorted(res.final)}")
        vals = res.final[monitor]
        rows.append({"params": dict(params), "mean": float(np.mean(vals)),
                     "std": float(np.std(vals)), "folds": list(vals)})
    return SearchResult(rows, monitor, mode)


def _check_grid(param_grid):
    if not isinstance(param_grid, dict) or not param_grid:
        raise TypeError("param_grid must be a non-empty dict {name: list of values}")
    for name, values in param_grid.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
            raise ValueError(f"param_grid[{name!r}] must be a non-empty list of values")


def grid_search(build_model, param_grid, X, y, k=5, fit_kwargs=None, monitor="val_loss",
                mode="auto", seed=None, model_params=(), n_jobs=None, backend="sequential"):
    """Try every combination in `param_grid` ({name: [values]}) with k-fold CV on (X, y)
    and rank them by the mean final `monitor`. Give it training rows only: the test set
    stays untouched. Params named in `model_params` go to build_model, fit keywords
    (epochs, batch_size) to fit, the others to the optimizer factory (lr, ...).
    n_jobs / backend: where the fits run, as in k_fold (the same results on each)."""
    _check_grid(param_grid)
    names = list(param_grid)
    settings = [dict(zip(names, combo)) for combo in itertools.product(*param_grid.values())]
    return _search(build_model, settings, X, y, k, fit_kwargs, monitor, mode, seed,
                   model_params, n_jobs, backend)


def random_search(build_model, param_distributions, X, y, k=5, fit_kwargs=None, n_iter=10,
                  seed=None, monitor="val_loss", mode="auto", model_params=(), n_jobs=None,
                  backend="sequential"):
    """Like grid_search over `n_iter` random settings: each value is drawn from a list
    (uniformly) or from a function rng -> value (e.g. lambda r: 10 ** r.uniform(-3, -1))."""
    if not isinstance(param_distributions, dict) or not param_distributions:
        raise TypeError("param_distributions must be a non-empty dict")
    if isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral) or n_iter < 1:
        raise ValueError(f"n_iter must be a positive integer, got {n_iter!r}")
    rng = np.random.default_rng(seed)
    settings = []
    for _ in range(n_iter):
        s = {}
        for name, dist in param_distributions.items():
            if callable(dist):
                v = dist(rng)
            elif hasattr(dist, "__len__") and len(dist) > 0 and not isinstance(dist, str):
                v = dist[int(rng.integers(len(dist)))]
            else:
                raise ValueError(f"param_distributions[{name!r}] must be a list or a function rng -> value")
            s[name] = v.item() if isinstance(v, np.generic) else v
        settings.append(s)
    return _search(build_model, settings, X, y, k, fit_kwargs, monitor, mode, seed,
                   model_params, n_jobs, backend)
