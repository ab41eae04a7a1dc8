"""Indexing with ints, slices, None, ..., integer arrays and masks mixed: the result's axis
order (get and set) must be PyTorch's, which differs from NumPy's when advanced indices are
separated by ints, None or an Ellipsis."""
import random

import numpy as np

import chainrule as cr
from helpers import requires_torch, torch

pytestmark = requires_torch


def _random_index(rng, shape):
    items, dims, ellipsis = [], 0, False
    for _ in range(rng.randint(1, 5)):
        kind = rng.choice(["int", "slice", "none", "ellipsis", "ints", "mask"])
        if kind == "none":
            items.append(None)
        elif kind == "ellipsis" and not ellipsis:
            items.append(Ellipsis)
            ellipsis = True
        elif dims < len(shape):
            n = shape[dims]
            dims += 1
            if kind == "int":
                items.append(rng.randint(-n, n - 1))
            elif kind == "slice":
                items.append(slice(rng.choice([None, 0, 1]), None, rng.choice([1, 2])))
            elif kind == "ints":
                items.append(np.array([rng.randint(-n, n - 1) for _ in range(2)]))
            else:
                items.append(np.array([rng.random() < 0.7 for _ in range(n)]))
    return tuple(items)


def _wrap(m, index):
    return tuple(m.from_numpy(i) if isinstance(i, np.ndarray) else i for i in index)


def test_mixed_indexing_matches_pytorch_axis_order_for_get_and_set():
    rng = random.Random(0)
    compared = 0
    for _ in range(1500):
        shape = tuple(rng.randint(1, 3) for _ in range(rng.randint(1, 4)))
        x = np.arange(int(np.prod(shape))).reshape(shape)
        index = _random_index(rng, shape)
        try:
            want = torch.from_numpy(x)[_wrap(torch, index)].numpy()
        except (IndexError, RuntimeError):
            continue
        got = cr.from_numpy(x)[_wrap(cr, index)].numpy()
        assert got.shape == want.shape and np.array_equal(got, want), index
        value = np.asarray(np.arange(want.size).reshape(want.shape) + 100)
        xt, xc = torch.from_numpy(x.copy()), cr.from_numpy(x.copy())
        xt[_wrap(torch, index)] = torch.from_numpy(value)
        xc[_wrap(cr, index)] = cr.from_numpy(value)
        assert np.array_equal(xc.numpy(), xt.numpy()), index
        compared += 1
    assert compared > 1000
