"""train_val_test_split, K-fold (remainder rows kept), grid and random search."""
import functools
import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.train import (grid_search, k_fold, k_fold_indices, random_search,
                             train_val_test_split)


def regression(n=53, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5]) + rng.normal(0, 0.1, n)).astype(np.float32)[:, None]
    return X, y


FIT = dict(loss=nn.MSELoss(), epochs=3, metrics=("rmse",), batch_size=8,
           optimizer=functools.partial(optim.SGD, lr=0.05))


def test_k_fold_indices_spread_the_remainder():
    folds = k_fold_indices(53, 5)
    sizes = [len(v) for _, v in folds]
    assert sizes == [11, 11, 11, 10, 10]
    all_val = np.concatenate([v for _, v in folds])
    assert sorted(all_val.tolist()) == list(range(53))        # every row validated once
    for tr, va in folds:
        assert len(tr) + len(va) == 53 and not set(tr) & set(va)
    assert folds[0][1].tolist() == list(range(11))             # seed=None: contiguous (d2l)
    shuffled = k_fold_indices(53, 5, seed=0)
    assert sorted(np.concatenate([v for _, v in shuffled]).tolist()) == list(range(53))
    assert shuffled[0][1].tolist() != list(range(11))
    with pytest.raises(ValueError, match="k >= 2"):
        k_fold_indices(10, 1)
    with pytest.raises(ValueError, match="at least 11 rows"):
        k_fold_indices(10, 11)
    with pytest.raises(TypeError, match="integer"):
        k_fold_indices(10, 2.5)


def test_k_fold_runs_every_fold_on_a_ragged_dataset():
    X, y = regression(53)
    built = []

    def build():
        net = nn.Linear(3, 1)
        built.append(net)
        return net

    res = k_fold(build, X, y, k=5, fit_kwargs=FIT, seed=0)
    assert len(res.histories) == 5 and len(built) == 5 and len({id(m) for m in built}) == 5
    assert res.fold_sizes == [11, 11, 11, 10, 10]
    finals = [h["val_rmse"][-1] for h in res.histories]
    assert res.mean["val_rmse"] == pytest.approx(np.mean(finals))
    assert res.std["val_rmse"] == pytest.approx(np.std(finals))
    text = res.to_table()
    assert "5-fold" in text and "val_rmse" in text and "±" in text
    assert json.loads(res.to_json())["fold_sizes"] == [11, 11, 11, 10, 10]


def test_k_fold_argument_errors():
    X, y = regression(20)
    with pytest.raises(ValueError, match="rows"):
        k_fold(lambda: nn.Linear(3, 1), X, y[:10], k=2, fit_kwargs=FIT)
    with pytest.raises(ValueError, match="k >= 2"):
        k_fold(lambda: nn.Linear(3, 1), X, y, k=1, fit_kwargs=FIT)
    with pytest.raises(ValueError, match="at least 21 rows"):
        k_fold(lambda: nn.Linear(3, 1), X, y, k=21, fit_kwargs=FIT)
    net = nn.Linear(3, 1)
    with pytest.raises(ValueError, match="factory"):
        k_fold(lambda: net, X, y, k=2, fit_kwargs=dict(FIT, optimizer=optim.SGD(net.parameters(), lr=0.1)))
    with pytest.raises(ValueError, match="validation"):
        k_fold(lambda: nn.Linear(3, 1), X, y, k=2, fit_kwargs=dict(FIT, validation_split=0.2))


def test_train_val_test_split():
    X, y = regression(100)
    (Xtr, ytr), (Xva, yva), (Xte, yte) = train_val_test_split(X, y, val=0.15, test=0.15, seed=0)
    assert (len(Xtr), len(Xva), len(Xte)) == (70, 15, 15)
    rows = np.concatenate([Xtr.numpy(), Xva.numpy(), Xte.numpy()])
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, X.tolist()))
    # pairs stay together
    idx = [np.where((X == r).all(1))[0][0] for r in Xte.numpy()]
    np.testing.assert_array_equal(y[idx], yte.numpy())
    again = train_val_test_split(X, y, seed=0)[2][0].numpy()
    np.testing.assert_array_equal(again, Xte.numpy())
    assert not np.array_equal(train_val_test_split(X, y, seed=1)[2][0].numpy(), Xte.numpy())
    with pytest.raises(ValueError, match="no training rows"):
        train_val_test_split(X, y, val=0.5, test=0.5)
    with pytest.raises(ValueError, match="must match"):
        train_val_test_split(X, y[:50])
    with pytest.raises(ValueError, match="fraction"):
        train_val_test_split(X, y, val=-0.1)


def test_grid_search_ranks_by_k_fold_score(tmp_path):
    X, y = regression(40)

    def build(hidden=0):
        cr.manual_seed(0)
        return nn.Linear(3, 1) if hidden == 0 else nn.Sequential(
            nn.Linear(3, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    fit_kwargs = dict(FIT, optimizer=functools.partial(optim.SGD))
    res = grid_search(build, {"hidden": [0], "lr": [1e-4, 0.05], "epochs": [2, 4]}, X, y, k=3,
                      fit_kwargs=fit_kwargs, seed=0, model_params=["hidden"])
    assert len(res.rows) == 4
    assert res.best_params == {"hidden": 0, "lr": 0.05, "epochs": 4}
    scores = [r["mean"] for r in res.rows]
    assert scores == sorted(scores)
    assert [r["rank"] for r in res.rows] == [1, 2, 3, 4]
    text = res.to_table()
    assert "mean_val_loss" in text and "lr" in text
    res.to_csv(tmp_path / "grid.csv")
    res.to_json(tmp_path / "grid.json")
    assert open(tmp_path / "grid.csv").read().splitlines()[0].startswith("rank,epochs,hidden,lr")
    assert json.load(open(tmp_path / "grid.json"))["rows"][0]["params"]["lr"] == 0.05
    with pytest.raises(ValueError, match="non-empty"):
        grid_search(build, {"lr": []}, X, y, k=3, fit_kwargs=fit_kwargs)
    with pytest.raises(ValueError, match="neither"):
        grid_search(build, {"momentum": [0.9]}, X, y, k=3, fit_kwargs=dict(FIT, optimizer=None))


def test_search_passes_build_model_exactly_the_params_named_in_model_params():
    X, y = regression(30)
    seen = []

    def build(**kwargs):
        seen.append(kwargs)
        return nn.Linear(3, 1)

    kw = dict(FIT, optimizer=functools.partial(optim.SGD), epochs=1)
    grid_search(build, {"width": [4], "lr": [0.01]}, X, y, k=2, fit_kwargs=kw,
                model_params=["width"])
    assert seen == [{"width": 4}] * 2  # lr went to the optimizer, not to build_model
    seen.clear()
    with pytest.raises(TypeError, match="width"):  # not named: it is an optimizer argument
        grid_search(build, {"width": [4]}, X, y, k=2, fit_kwargs=kw)
    with pytest.raises(ValueError, match=r"model_params names \['depth'\]"):
        grid_search(build, {"width": [4]}, X, y, k=2, fit_kwargs=kw, model_params=["depth"])
    with pytest.raises(TypeError, match="list of parameter names"):
        grid_search(build, {"width": [4]}, X, y, k=2, fit_kwargs=kw, model_params="width")


def test_random_search_is_seeded():
    X, y = regression(30)
    kw = dict(FIT, optimizer=functools.partial(optim.SGD), epochs=2)
    dist = {"lr": lambda r: float(10 ** r.uniform(-3, -1))}
    a = random_search(lambda: nn.Linear(3, 1), dist, X, y, k=2, fit_kwargs=kw, n_iter=3, seed=0)
    b = random_search(lambda: nn.Linear(3, 1), dist, X, y, k=2, fit_kwargs=kw, n_iter=3, seed=0)
    assert [r["params"] for r in a.rows] == [r["params"] for r in b.rows]
    assert len({r["params"]["lr"] for r in a.rows}) == 3
    c = random_search(lambda: nn.Linear(3, 1), {"lr": [0.01, 0.02]}, X, y, k=2, fit_kwargs=kw,
                      n_iter=2, seed=0, monitor="val_rmse")
    assert c.monitor == "val_rmse" and all(r["params"]["lr"] in (0.01, 0.02) for r in c.rows)
    with pytest.raises(ValueError, match="n_iter"):
        random_search(lambda: nn.Linear(3, 1), dist, X, y, k=2, fit_kwargs=kw, n_iter=0)


def test_a_searched_name_build_model_takes_but_did_not_get_says_how_to_route_it():
    import functools
    import re
    from chainrule.train import grid_search
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)

    def build(hidden):
        return nn.Sequential(nn.Linear(3, hidden), nn.ReLU(), nn.Linear(hidden, 2))
    kwargs = dict(loss="cross_entropy", epochs=1, progress=False,
                  optimizer=functools.partial(optim.SGD, lr=0.1))
    with pytest.raises(TypeError, match=re.escape(
            "build_model takes ['hidden'], but searched names go to build_model only when "
            "listed in model_params; they went: ['hidden'] to the optimizer factory. Pass "
            "model_params=['hidden']")):
        grid_search(build, {"hidden": [4, 8]}, X, y, k=2, fit_kwargs=kwargs)
    result = grid_search(build, {"hidden": [4, 8]}, X, y, k=2, fit_kwargs=kwargs,
                         model_params=["hidden"])
    assert len(result.rows) == 2
