"""Every op against PyTorch: forward and gradient, float32 and float64, broadcasting."""
import numpy as np
import pytest

import chainrule as cr
from helpers import compare, torch, requires_torch

pytestmark = requires_torch
DTYPES = [np.float32, np.float64]
BCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (5, 2)), ((), (2, 3))]

BINARY = {
    "add": (lambda a, b: a + b), "sub": (lambda a, b: a - b), "mul": (lambda a, b: a * b),
    "div": (lambda a, b: a / b), "maximum": (lambda a, b: a.maximum(b) if hasattr(a, "maximum") else None),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", BCAST)
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "rsub", "rdiv"])
def test_binary(name, shapes, dtype):
    fns = {
        "add": lambda m, a, b: a + b, "sub": lambda m, a, b: a - b,
        "mul": lambda m, a, b: a * b, "div": lambda m, a, b: a / b,
        "pow": lambda m, a, b: a ** b, "maximum": lambda m, a, b: m.maximum(a, b),
        "minimum": lambda m, a, b: m.minimum(a, b), "rsub": lambda m, a, b: 2.5 - a * b,
        "rdiv": lambda m, a, b: 1.5 / (a * a + b * b + 1),
    }
    f = fns[name]
    compare(lambda a, b: f(cr, a, b), lambda a, b: f(torch, a, b), shapes, dtype,
            positive=name == "pow")


UNARY = ["exp", "log", "log1p", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "neg",
         "square", "log2", "rsqrt"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", UNARY)
def test_unary(name, dtype):
    positive = name in ("log", "sqrt", "log2", "rsqrt", "log1p")
    compare(lambda x: getattr(cr, name)(x), lambda x: getattr(torch, name)(x), [(3, 5)], dtype,
            positive=positive)


@pytest.mark.parametrize("dtype", DTYPES)
def test_clamp_and_where(dtype):
    compare(lambda x: cr.clamp(x, -0.5, 0.7), lambda x: torch.clamp(x, -0.5, 0.7), [(4, 5)], dtype)
    compare(lambda x: x.clamp(min=0.1), lambda x: x.clamp(min=0.1), [(4, 5)], dtype)
    compare(lambda x, y: cr.where(x > y, x, y * 2), lambda x, y: torch.where(x > y, x, y * 2),
            [(4, 5), (5,)], dtype)


REDUCTIONS = [
    ("sum", {}), ("sum", {"dim": 1}), ("sum", {"dim": (0, 2), "keepdim": True}),
    ("mean", {}), ("mean", {"dim": -1}), ("mean", {"dim": 0, "keepdim": True}),
    ("prod", {}), ("prod", {"dim": 1}), ("var", {}), ("var", {"dim": 1}),
    ("std", {"dim": 0, "keepdim": True}), ("amax", {"dim": 1}), ("amin", {"dim": (0, 1)}),
    ("max", {}), ("min", {}), ("logsumexp", {"dim": 1}), ("softmax", {"dim": 1}),
    ("log_softmax", {"dim": -1}), ("norm", {}), ("norm", {"dim": 1}), ("norm", {"p": 1}),
    ("cumsum", {"dim": 1}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kw", REDUCTIONS)
def test_reduction(name, kw, dtype):
    compare(lambda x: getattr(cr, name)(x, **kw), lambda x: getattr(torch, name)(x, **kw),
            [(3, 4, 5)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_with_dim_returns_values_and_indices(dtype):
    cx, tx = compare(lambda x: cr.max(x, 1).values * 2, lambda x: torch.max(x, 1).values * 2,
                     [(4, 6)], dtype)
    assert np.array_equal(cr.max(cx[0], 1).indices.numpy(), torch.max(tx[0], 1).indices.numpy())
    assert np.array_equal(cr.argmin(cx[0], dim=0).numpy(), torch.argmin(tx[0], dim=0).numpy())
    compare(lambda x: x.min(dim=0, keepdim=True)[0], lambda x: x.min(dim=0, keepdim=True)[0],
            [(4, 6)], dtype)


def test_max_ties_split_gradient_like_torch():
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    compare(lambda x: x.max(), lambda x: x.max(), None, arrays=[a])
    compare(lambda x, y: cr.maximum(x, y), lambda x, y: torch.maximum(x, y), None,
            arrays=[a, np.array([3.0, 2.0, 0.0])])


MATMUL_SHAPES = [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)),
                 ((1, 3, 4), (2, 4, 2)), ((4,), (4, 3)), ((3, 4), (4,)), ((4,), (4,))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES)
def test_matmul(shapes, dtype):
    compare(lambda a, b: a @ b, lambda a, b: a @ b, shapes, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_mm_bmm_dot(dtype):
    compare(lambda x, w, b: cr.ops.linalg.linear(x, w, b),
            lambda x, w, b: torch.nn.functional.linear(x, w, b), [(6, 4), (3, 4), (3,)], dtype)
    compare(lambda x, w, b: cr.ops.linalg.linear(x, w, b),
            lambda x, w, b: torch.nn.functional.linear(x, w, b), [(2, 6, 4), (3, 4), (3,)], dtype)
    compare(cr.mm, torch.mm, [(3, 4), (4, 2)], dtype)
    compare(cr.bmm, torch.bmm, [(2, 3, 4), (2, 4, 2)], dtype)
    compare(cr.dot, torch.dot, [(5,), (5,)], dtype)
    compare(cr.outer, torch.outer, [(3,), (4,)], dtype)


SHAPE_OPS = [
    (lambda m, x: x.reshape(4, 6), None), (lambda m, x: x.view(-1, 3), None),
    (lambda m, x: x.flatten(), None), (lambda m, x: x.flatten(1), None),
    (lambda m, x: x.unsqueeze(1).squeeze(), None), (lambda m, x: x.transpose(0, 2), None),
    (lambda m, x: x.permute(2, 0, 1), None), (lambda m, x: x.mT, None),
    (lambda m, x: x[:, :1].expand(2, 3, 4), None), (lambda m, x: x.unsqueeze(0).expand(5, -1, -1, -1), None),
    (lambda m, x: m.cat([x, x * 2], dim=1), None), (lambda m, x: m.stack([x, x + 1], dim=2), None),
    (lambda m, x: m.cat(x.split(1, dim=2)[::-1], dim=2), None),
    (lambda m, x: m.cat(x.chunk(2, dim=-1), dim=0), None),
    (lambda m, x: x.clone(), None), (lambda m, x: x.flip(1), None),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("i", range(len(SHAPE_OPS)))
def test_shape_ops(i, dtype):
    f = SHAPE_OPS[i][0]
    compare(lambda x: f(cr, x), lambda x: f(torch, x), [(2, 3, 4)], dtype)


INDEXES = [
    lambda x: x[1], lambda x: x[:, 1:3], lambda x: x[..., ::2], lambda x: x[None, 0, :, None],
    lambda x: x[[0, 1, 0]], lambda x: x[:, [2, 2, 0]], lambda x: x[x > 0],
    lambda x: x[[0, 1], [1, 2]], lambda x: x[-1, -1, -1],
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("i", range(len(INDEXES)))
def test_indexing(i, dtype):
    compare(INDEXES[i], INDEXES[i], [(2, 3, 4)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_index_tensor_repeated_indices_accumulate(dtype):
    compare(lambda x: x[cr.tensor([0, 0, 2, 0])], lambda x: x[torch.tensor([0, 0, 2, 0])],
            [(3, 2)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_fill_gather_setitem(dtype):
    compare(lambda x: x.masked_fill(x > 0.5, -1.0), lambda x: x.masked_fill(x > 0.5, -1.0), [(3, 4)], dtype)
    idx = np.array([[0, 2], [1, 1], [3, 0]])
    compare(lambda x: x.gather(1, cr.tensor(idx)), lambda x: x.gather(1, torch.tensor(idx)), [(3, 4)], dtype)

    def put(m):
        def f(x, v):
            y = x * 1
            y[1:, 2] = v
            return y
        return f
    compare(put(cr), put(torch), [(3, 4), (2,)], dtype)


def test_var_std_unbiased_options():
    for kw in ({"unbiased": False}, {"correction": 0}, {"dim": 1, "unbiased": True}):
        compare(lambda x: x.var(**kw), lambda x: x.var(**kw), [(4, 5)])
        compare(lambda x: x.std(**kw), lambda x: x.std(**kw), [(4, 5)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_composite_graph_with_fan_out(dtype):
    def f(m):
        def g(x, w, b):
            h = (x @ w + b).relu()
            s = m.sigmoid(h) * h.tanh() + h.exp().log1p()
            t = s / (1 + s.abs()) - h.mean(dim=0, keepdim=True)
            return (t * t).sum(1) + m.log_softmax(t, dim=1).max(1).values
        return g
    compare(f(cr), f(torch), [(5, 4), (4, 3), (3,)], dtype)


def test_softmax_log_softmax_stable_for_huge_logits():
    x = np.array([[1000.0, 0.0, -1000.0], [5e4, 5e4, 0.0]], dtype=np.float32)
    compare(lambda t: cr.softmax(t, 1), lambda t: torch.softmax(t, 1), None, np.float32, arrays=[x])
    compare(lambda t: cr.log_softmax(t, 1), lambda t: torch.log_softmax(t, 1), None, np.float32, arrays=[x])
