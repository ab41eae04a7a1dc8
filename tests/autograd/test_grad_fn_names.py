"""grad_fn names and printing as PyTorch shows them: the class of `y.grad_fn` and its
name() agree with PyTorch's over a table of expressions (reductions over everything vs
over dims, `1 - x`, x[0] vs x[1:], x ** 2 vs x ** y vs 2 ** x, x.t(), squeeze/unsqueeze,
split/unbind, ...), tensors with a grad_fn print identically, print(param) starts with
`Parameter containing:`, and the ops given their own node keep PyTorch's gradients."""
import re

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd.function import Node


def inputs(m):
    g = lambda a: m.tensor(np.asarray(a, dtype=np.float32), requires_grad=True)  # noqa: E731
    x = g([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    y = g([[1.0, 2.0, 0.5], [0.5, 1.5, 2.5]])
    v = g([1.0, -2.0, 0.5])
    M = g(np.arange(9.0).reshape(3, 3) / 4)
    B = g(np.arange(24.0).reshape(2, 3, 4) / 10)
    return x, y, v, M, B


F = lambda m: m.nn.functional
EXPR = {
 "x.sum()": lambda m, x, y, v, M, B: x.sum(),
 "x.sum(0)": lambda m, x, y, v, M, B: x.sum(0),
 "x.mean()": lambda m, x, y, v, M, B: x.mean(),
 "x.mean(1)": lambda m, x, y, v, M, B: x.mean(1),
 "1 - x": lambda m, x, y, v, M, B: 1 - x,
 "x - 1": lambda m, x, y, v, M, B: x - 1,
 "x - y": lambda m, x, y, v, M, B: x - y,
 "x + y": lambda m, x, y, v, M, B: x + y,
 "2 + x": lambda m, x, y, v, M, B: 2 + x,
 "x * y": lambda m, x, y, v, M, B: x * y,
 "3 * x": lambda m, x, y, v, M, B: 3 * x,
 "x / y": lambda m, x, y, v, M, B: x / y,
 "x / 2": lambda m, x, y, v, M, B: x / 2,
 "2 / x": lambda m, x, y, v, M, B: 2 / x,
 "x ** 2": lambda m, x, y, v, M, B: x ** 2,
 "x ** y": lambda m, x, y, v, M, B: x ** y,
 "2 ** x": lambda m, x, y, v, M, B: 2 ** x,
 "x[0]": lambda m, x, y, v, M, B: x[0],
 "x[:, 1:]": lambda m, x, y, v, M, B: x[:, 1:],
 "x[0:1]": lambda m, x, y, v, M, B: x[0:1],
 "x[1, 2]": lambda m, x, y, v, M, B: x[1, 2],
 "x[[0, 1]]": lambda m, x, y, v, M, B: x[[0, 1]],
 "x[x > 0]": lambda m, x, y, v, M, B: x[x > 0],
 "x @ M": lambda m, x, y, v, M, B: x @ M,
 "v @ v": lambda m, x, y, v, M, B: v @ v,
 "M @ v": lambda m, x, y, v, M, B: M @ v,
 "mm": lambda m, x, y, v, M, B: m.mm(x, M),
 "bmm": lambda m, x, y, v, M, B: m.bmm(B, B.transpose(1, 2)),
 "x.view(6)": lambda m, x, y, v, M, B: x.view(6),
 "x.reshape(3, 2)": lambda m, x, y, v, M, B: x.reshape(3, 2),
 "x.flatten()": lambda m, x, y, v, M, B: x.flatten(),
 "x.t()": lambda m, x, y, v, M, B: x.t(),
 "x.T": lambda m, x, y, v, M, B: x.T,
 "x.transpose(0, 1)": lambda m, x, y, v, M, B: x.transpose(0, 1),
 "x.permute(1, 0)": lambda m, x, y, v, M, B: x.permute(1, 0),
 "x.unsqueeze(0)": lambda m, x, y, v, M, B: x.unsqueeze(0),
 "x[None].squeeze(0)": lambda m, x, y, v, M, B: x.unsqueeze(0).squeeze(0),
 "x[None].squeeze()": lambda m, x, y, v, M, B: x.unsqueeze(0).squeeze(),
 "x.expand(4, 2, 3)": lambda m, x, y, v, M, B: x.expand(4, 2, 3),
 "x.clone()": lambda m, x, y, v, M, B: x.clone(),
 "x.double()": lambda m, x, y, v, M, B: x.double(),
 "x.exp()": lambda m, x, y, v, M, B: x.exp(),
 "y.log()": lambda m, x, y, v, M, B: y.log(),
 "x.relu()": lambda m, x, y, v, M, B: x.relu(),
 "sigmoid": lambda m, x, y, v, M, B: m.sigmoid(x),
 "tanh": lambda m, x, y, v, M, B: m.tanh(x),
 "x.abs()": lambda m, x, y, v, M, B: x.abs(),
 "-x": lambda m, x, y, v, M, B: -x,
 "y.sqrt()": lambda m, x, y, v, M, B: y.sqrt(),
 "x.sin()": lambda m, x, y, v, M, B: x.sin(),
 "x.cos()": lambda m, x, y, v, M, B: x.cos(),
 "x.square()": lambda m, x, y, v, M, B: x.square(),
 "x.max()": lambda m, x, y, v, M, B: x.max(),
 "x.max(1).values": lambda m, x, y, v, M, B: x.max(1)[0],
 "x.min()": lambda m, x, y, v, M, B: x.min(),
 "x.amax(1)": lambda m, x, y, v, M, B: x.amax(1),
 "maximum": lambda m, x, y, v, M, B: m.maximum(x, y),
 "x.clamp(0, 1)": lambda m, x, y, v, M, B: x.clamp(0, 1),
 "x.clamp(min=0)": lambda m, x, y, v, M, B: x.clamp(min=0),
 "x.clamp(max=1)": lambda m, x, y, v, M, B: x.clamp(max=1),
 "softmax": lambda m, x, y, v, M, B: m.softmax(x, dim=1),
 "log_softmax": lambda m, x, y, v, M, B: F(m).log_softmax(x, dim=1),
 "logsumexp": lambda m, x, y, v, M, B: m.logsumexp(x, dim=1),
 "cat": lambda m, x, y, v, M, B: m.cat([x, y]),
 "stack": lambda m, x, y, v, M, B: m.stack([x, y]),
 "x.prod()": lambda m, x, y, v, M, B: x.prod(),
 "x.norm()": lambda m, x, y, v, M, B: x.norm(),
 "where": lambda m, x, y, v, M, B: m.where(x > 0, x, y),
 "masked_fill": lambda m, x, y, v, M, B: x.masked_fill(x > 0, 0.0),
 "x.cumsum(1)": lambda m, x, y, v, M, B: x.cumsum(1),
 "x.flip(0)": lambda m, x, y, v, M, B: x.flip(0),
 "gather": lambda m, x, y, v, M, B: x.gather(1, m.tensor([[0], [2]])),
 "index_select": lambda m, x, y, v, M, B: x.index_select(1, m.tensor([0, 2])),
 "linear": lambda m, x, y, v, M, B: F(m).linear(x, M, v),
 "linear no bias": lambda m, x, y, v, M, B: F(m).linear(x, M),
 "nn.Linear": lambda m, x, y, v, M, B: m.nn.Linear(3, 2)(x),
 "cross_entropy": lambda m, x, y, v, M, B: F(m).cross_entropy(x, m.tensor([0, 2])),
 "sum of squares": lambda m, x, y, v, M, B: (x ** 2).sum(),
 "x.split(1)[0]": lambda m, x, y, v, M, B: x.split(1)[0],
 "x.chunk(3, 1)[1]": lambda m, x, y, v, M, B: x.chunk(3, 1)[1],
 "x.unbind()[1]": lambda m, x, y, v, M, B: x.unbind()[1],
 "x.detach() * y": lambda m, x, y, v, M, B: x.detach() * y,
 "x.expand_as": lambda m, x, y, v, M, B: v.expand_as(x),
 "outer": lambda m, x, y, v, M, B: m.outer(v, v),
 "x.log1p()": lambda m, x, y, v, M, B: y.log1p(),
 "relu F": lambda m, x, y, v, M, B: F(m).relu(x),
 "leaky_relu": lambda m, x, y, v, M, B: F(m).leaky_relu(x, 0.1),
 "gelu": lambda m, x, y, v, M, B: F(m).gelu(x),
 "x.sign()": lambda m, x, y, v, M, B: x.sign(),
 "x.trunc()": lambda m, x, y, v, M, B: x.trunc(),
 "x.floor()": lambda m, x, y, v, M, B: x.floor(),
 "x.rsqrt": lambda m, x, y, v, M, B: y.rsqrt(),
}


@pytest.mark.parametrize("expr", sorted(EXPR))
def test_grad_fn_name_matches_torch(expr):
    c, t = EXPR[expr](cr, *inputs(cr)), EXPR[expr](torch, *inputs(torch))
    want = type(t.grad_fn).__name__
    assert type(c.grad_fn).__name__ == want and c.grad_fn.name() == t.grad_fn.name() == want
    assert isinstance(c.grad_fn, Node) and c.requires_grad


# expressions whose printed form (values and grad_fn) must be identical to PyTorch's
PRINTED = ["x.sum()", "x.mean()", "x.sum(0)", "1 - x", "x[0]", "x[:, 1:]", "x.t()",
           "x ** 2", "x @ M", "x.view(6)", "x.unsqueeze(0)", "x.max()", "softmax",
           "x.floor()", "x.split(1)[0]", "M @ v"]


@pytest.mark.parametrize("expr", PRINTED)
def test_tensor_with_grad_fn_prints_as_torch(expr):
    c, t = EXPR[expr](cr, *inputs(cr)), EXPR[expr](torch, *inputs(torch))
    assert repr(c) == repr(t) and str(c) == str(t)


def test_grad_fn_repr_and_next_functions_have_torchs_shape():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    assert re.fullmatch(r"<SumBackward0 object at 0x[0-9a-f]+>", repr(y.grad_fn))
    (prev, slot), = y.grad_fn.next_functions
    assert type(prev).__name__ == "MulBackward0" and slot == 0
    assert type(y.grad_fn) is type((x * 3).sum().grad_fn)  # one class per name


def test_same_name_different_ops_do_not_mix_their_rules():
    # SumBackward0 and SumBackward1 share one forward and rule; renaming changes nothing else
    for m in (cr, torch):
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        (x.sum() + x.sum(0).pow(2).sum() + x.mean() * 4 + x.mean(1).sum()).backward()
        if m is cr:
            got = x.grad.numpy()
        else:
            want = x.grad.numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_print_parameter_starts_with_parameter_containing():
    for make in (lambda m: m.nn.Parameter(m.ones(2)),
                 lambda m: m.nn.Parameter(m.zeros(2, 3), requires_grad=False)):
        c, t = make(cr), make(torch)
        assert str(c) == str(t) and repr(c) == repr(t)
        assert str(c).startswith("Parameter containing:\ntensor(")
    lin = cr.nn.Linear(2, 1)
    shown = str(lin.weight)
    assert shown.startswith("Parameter containing:") and "requires_grad=True" in shown
    assert str(lin.weight.detach()).startswith("tensor(")  # a detached copy is a plain tensor


# the ops that got their own node: values and first and second derivatives against PyTorch
GRADS = {
    "M @ v": lambda m, x, y, v, M, B: M @ v,
    "mv": lambda m, x, y, v, M, B: m.mv(M, v),
    "bmm": lambda m, x, y, v, M, B: m.bmm(B, B.transpose(1, 2)),
    "x.flip(1)": lambda m, x, y, v, M, B: x.flip(1),
    "x.flip((0, 1))": lambda m, x, y, v, M, B: x.flip((0, 1)),
    "y.rsqrt()": lambda m, x, y, v, M, B: y.rsqrt(),
    "x.floor()": lambda m, x, y, v, M, B: x.floor() * x,
    "x.round(decimals=1)": lambda m, x, y, v, M, B: x.round(decimals=1) + x,
    "x.ceil() + x.trunc()": lambda m, x, y, v, M, B: x.ceil() + x.trunc() + x * x,
    "1 - x": lambda m, x, y, v, M, B: (1 - x) * x,
    "2 ** x": lambda m, x, y, v, M, B: 2 ** x,
    "y ** 3": lambda m, x, y, v, M, B: y ** 3,
    "x.square()": lambda m, x, y, v, M, B: x.square(),
    "index_select": lambda m, x, y, v, M, B: x.index_select(1, m.tensor([2, 0, 2])) ** 2,
    "gather": lambda m, x, y, v, M, B: x.gather(1, m.tensor([[0, 0], [2, 1]])) ** 2,
    "split": lambda m, x, y, v, M, B: m.cat([p * (i + 1) for i, p in
                                             enumerate(x.split([1, 2], 1))], 1) ** 2,
    "unbind": lambda m, x, y, v, M, B: x.unbind(1)[2] ** 2,
    "x.t() @ y": lambda m, x, y, v, M, B: x.t() @ y,
    "squeeze/unsqueeze": lambda m, x, y, v, M, B: x.unsqueeze(1).squeeze(1).squeeze() ** 2,
    "linear no bias": lambda m, x, y, v, M, B: m.nn.functional.linear(x, M) ** 2,
    "x.max() + x.min()": lambda m, x, y, v, M, B: (x.max() + x.min()) * x,
    "x.norm()": lambda m, x, y, v, M, B: x.norm() * x,
}


@pytest.mark.parametrize("expr", sorted(GRADS))
def test_renamed_and_new_ops_keep_torchs_values_and_gradients(expr):
    results = []
    for m in (cr, torch):
        args = inputs(m)
        out = GRADS[expr](m, *args)
        used = [a for a in args if a.requires_grad]
        grads = m.autograd.grad(out.sum(), used, create_graph=True, allow_unused=True)
        pairs = [(a, g) for a, g in zip(used, grads) if g is not None and g.requires_grad]
        second = [m.autograd.grad((g * g).sum(), a, retain_graph=True, allow_unused=True)[0]
                  for a, g in pairs]
        plain = [None if g is None else g.detach().numpy() for g in grads]
        results.append((out.detach().numpy(), plain,
                        [None if s is None else s.detach().numpy() for s in second]))
    (co, cg, cs), (to, tg, ts) = results
    np.testing.assert_allclose(co, to, rtol=1e-5, atol=1e-6)
    assert [g is None for g in cg] == [g is None for g in tg]
    for c, t in zip(cg, tg):
        if c is not None:
            np.testing.assert_allclose(c, t, rtol=1e-5, atol=1e-5)
    assert len(cs) == len(ts)
    for c, t in zip(cs, ts):
        if c is None or t is None:
            assert (c is None or not np.any(c)) and (t is None or not np.any(t))
        else:
            np.testing.assert_allclose(c, t, rtol=1e-4, atol=1e-5)


def test_stepwise_functions_stay_in_the_graph_with_zero_gradient_like_torch():
    for name in ("floor", "ceil", "trunc", "round"):
        c = getattr(cr, name)(cr.tensor([1.5, -2.5], requires_grad=True))
        t = getattr(torch, name)(torch.tensor([1.5, -2.5], requires_grad=True))
        assert c.requires_grad and type(c.grad_fn).__name__ == type(t.grad_fn).__name__
        assert c.tolist() == t.tolist()
        # integer tensors keep their dtype, as PyTorch's do
        ci, ti = getattr(cr, name)(cr.tensor([3, -4])), getattr(torch, name)(torch.tensor([3, -4]))
        assert ci.tolist() == ti.tolist() and str(ci.dtype)[-5:] == str(ti.dtype)[-5:]
    x = cr.tensor([0.3, 1.7], requires_grad=True)
    x.floor().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_index_select_bad_index_names_the_function():
    x = cr.ones(2, 3)
    with pytest.raises(IndexError, match="index_select"):
        x.index_select(1, cr.tensor([3]))
    with pytest.raises(RuntimeError, match="index_select"):
        x.index_select(1, cr.tensor([[0]]))
    with pytest.raises(RuntimeError, match="index_select"):
        x.index_select(1, cr.tensor([0.5]))
    with pytest.raises(RuntimeError):
        torch.ones(2, 3).index_select(1, torch.tensor([0.5]))


def test_bmm_checks_shapes_and_dtypes():
    with pytest.raises(RuntimeError, match="bmm"):
        cr.bmm(cr.ones(2, 3, 4), cr.ones(2, 5, 4))
    with pytest.raises(RuntimeError, match="bmm"):
        cr.bmm(cr.ones(2, 3, 4), cr.ones(2, 4, 1, dtype=cr.float64))
    with pytest.raises(RuntimeError, match="bmm"):
        cr.bmm(cr.ones(2, 3, 4), cr.ones(3, 4, 1))


INDEXES = ["x[:]", "x[...]", "x[..., :1]", "x[:, :]", "x[:, 1]", "x[1, :]", "x[1:, 1]",
           "x[1, 1:]", "x[None]", "x[:, None]", "x[None, :, :]", "x[0, None]", "x[:5]",
           "x[:, :3]", "x[:, 1:3]", "x[::2]", "x[0][1]", "x[-1]", "x[..., 0]", "x[0, ...]",
           "x[:, 0:]", "x[1:2]", "x[(slice(None),)]", "x[(0,)]", "x[0:2, None]", "v[:]",
           "v[None, 1:]", "v[..., None]", "x[:, :, None]", "x[-2:, -1]"]


@pytest.mark.parametrize("expr", INDEXES)
def test_basic_index_is_named_by_its_last_effective_step_as_torch(expr):
    # a slice spanning a whole dimension inside a tuple does nothing in PyTorch (x[:, :]
    # is an alias), while a lone slice always records one (x[:] is SliceBackward0)
    names, values = [], []
    for m in (cr, torch):
        x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        v = m.tensor([7.0, 8.0], requires_grad=True)
        y = eval(expr, {"x": x, "v": v})
        names.append(type(y.grad_fn).__name__)
        values.append(y.tolist())
    assert names[0] == names[1] and values[0] == values[1]


def test_custom_function_node_is_named_after_the_class_as_torch():
    names = []
    for m in (cr, torch):
        class Cube(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 3 * x * x * g

        y = Cube.apply(m.tensor([2.0], requires_grad=True))
        names.append((type(y.grad_fn).__name__, y.grad_fn.name(), repr(y)))
    assert names[0] == names[1]


PRINT_DATA = {
    "zeros": [0.0, 0.0], "inf next to 1": [1.0, -np.inf], "nan": [1.5, np.nan],
    "only inf": [np.inf], "zero, inf, -0": [0.0, np.inf, -0.0], "big with nan": [1e10, np.nan, 0.0],
    "negative zero": [-0.0], "fraction and -inf": [123.25, -np.inf, 0.0],
    "long vector": np.linspace(-3, 3, 1100),
    "long with zeros": np.where(np.arange(1500) % 3, np.sin(np.arange(1500.0)), 0),
    "matrix wide": np.arange(2 * 3000).reshape(2, 3000) / 7,
    "cube": np.arange(11.0 ** 3).reshape(11, 11, 11) - 600,
    "tiny": [1e-30, -2e-30, 0.0], "wide row": np.arange(40) * 1000.5,
}


@pytest.mark.parametrize("name", sorted(PRINT_DATA))
@pytest.mark.parametrize("grad", [False, True])
def test_printing_matches_torch_for_special_values_and_summaries(name, grad):
    a = np.asarray(PRINT_DATA[name], dtype=np.float32)
    c, t = cr.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)
    if grad:
        c, t = c * 1, t * 1
    assert repr(c) == repr(t)


def test_suffixes_wrap_to_a_new_line_past_the_line_width_as_torch():
    a = (np.arange(7.0) * 1.37 - 3).astype(np.float32)
    c, t = cr.tensor(a, requires_grad=True) * 1, torch.tensor(a, requires_grad=True) * 1
    assert repr(c) == repr(t)
    c6 = cr.tensor(a[:6], requires_grad=True).view(6)
    t6 = torch.tensor(a[:6], requires_grad=True).view(6)
    assert repr(c6) == repr(t6)
    wide = (np.arange(9.0) * 1001.25 - 3.5).astype(np.float32)
    c, t = cr.tensor(wide, requires_grad=True) * 1.5, torch.tensor(wide, requires_grad=True) * 1.5
    assert repr(c) == repr(t) and "\n       grad_fn=<MulBackward0>)" in repr(c)


def test_scalar_divided_by_tensor_rounds_as_torch_reciprocal_times_scalar():
    # PyTorch computes `c / x` as reciprocal(x) * c; so does chainrule, bit for bit
    a = np.random.default_rng(0).standard_normal(10000).astype(np.float32)
    for c in (3, 2.5, -7.0):
        assert np.array_equal((c / cr.tensor(a)).numpy(), (c / torch.tensor(a)).numpy())
    h = np.array([3, 7, 0.1], dtype=np.float16)
    assert np.array_equal((2 / cr.tensor(h)).numpy(), (2 / torch.tensor(h)).numpy())
    assert (2 / cr.tensor([4, 0])).tolist() == (2 / torch.tensor([4, 0])).tolist()
