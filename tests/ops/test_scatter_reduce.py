"""scatter_reduce (function, method, in place) and torch.scatter's reduce='multiply'
against PyTorch: values, gradients for self and src, dtypes, and the exceptions PyTorch
raises for bad input."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

REDUCTIONS = ["sum", "prod", "mean", "amax", "amin"]


def _case(m, dtype, seed, ties=False, zeros=False):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, (4, 5))
    src = rng.uniform(-2, 2, (3, 5))
    if ties:  # equal values compete for amax/amin
        x, src = np.round(x), np.round(src)
    if zeros:
        x[0, :2] = 0
        src[1, 1] = src[2, 2] = 0
    index = rng.integers(0, 4, (3, 5))
    index[:, 0] = 1  # three values reduced into one position
    return (m.tensor(x.astype(dtype), requires_grad=True),
            m.tensor(src.astype(dtype), requires_grad=True), m.tensor(index))


def _run(m, reduce, include_self, dtype="float64", **kw):
    x, src, index = _case(m, dtype, 7, **kw)
    out = m.scatter_reduce(x, 0, index, src, reduce, include_self=include_self)
    weights = m.tensor(np.linspace(0.5, 1.5, 20).reshape(4, 5).astype(dtype))
    (out * weights).sum().backward()
    return [t.detach().numpy().astype(np.float64) for t in (out, x.grad, src.grad)]


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("kind", ["plain", "ties", "zeros"])
def test_scatter_reduce_values_and_gradients_match_torch(reduce, include_self, kind):
    kw = {"ties": kind == "ties", "zeros": kind == "zeros"}
    for got, want in zip(_run(cr, reduce, include_self, **kw),
                         _run(torch, reduce, include_self, **kw)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_scatter_reduce_in_low_precision_matches_torch(reduce, dtype):
    for got, want in zip(_run(cr, reduce, True, dtype), _run(torch, reduce, True, dtype)):
        np.testing.assert_allclose(got, want, rtol=2e-3 if dtype == "float16" else 1e-6,
                                   atol=1e-3 if dtype == "float16" else 1e-6)


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype", ["int64", "int8", "uint8"])
def test_scatter_reduce_of_integers_matches_torch_mean_rounding_down(reduce, include_self, dtype):
    def run(m):
        x = m.tensor(np.array([5, 7, 9, -3], dtype=np.int64).astype(dtype))
        src = m.tensor(np.array([-2, 3, 4, 1, -7], dtype=np.int64).astype(dtype))
        index = m.tensor([0, 0, 1, 3, 3])
        out = m.scatter_reduce(x, 0, index, src, reduce, include_self=include_self)
        return str(out.dtype).split(".")[-1], out.tolist()
    assert run(cr) == run(torch)


def test_scatter_reduce_method_and_in_place_forms_match_torch():
    results = []
    for m in (torch, cr):
        x, src, index = _case(m, "float32", 3)
        x, src = x.detach(), src.detach()
        method = x.scatter_reduce(0, index, src, reduce="amax", include_self=False)
        y = x.clone()
        returned = y.scatter_reduce_(0, index, src, "mean")
        assert returned is y
        results.append((method.numpy(), y.numpy()))
    for got, want in zip(*results[::-1]):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_scatter_reduce_in_place_records_the_gradient_of_self_and_src():
    grads = []
    for m in (torch, cr):
        x, src, index = _case(m, "float64", 5)
        y = x * 1
        y.scatter_reduce_(0, index, src, "prod")
        y.sum().backward()
        grads.append((x.grad.numpy(), src.grad.numpy()))
    for got, want in zip(*grads[::-1]):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_scatter_reduce_of_a_0d_tensor_and_an_empty_index_match_torch():
    for reduce in REDUCTIONS:
        got, want = [m.scatter_reduce(m.tensor(2.0), 0, m.tensor(0), m.tensor(3.0), reduce)
                     for m in (cr, torch)]
        assert got.shape == want.shape and float(got) == float(want)
        got, want = [m.scatter_reduce(m.ones(2, 3), 1, m.zeros(2, 0, dtype=m.int64),
                                      m.ones(2, 2), reduce, include_self=False)
                     for m in (cr, torch)]
        assert got.tolist() == want.tolist()


@pytest.mark.parametrize("case", [
    lambda m: m.scatter_reduce(m.ones(4), 0, m.tensor([0, 1]), m.ones(2), "typo"),
    lambda m: m.scatter_reduce(m.ones(4), 0, m.tensor([0, 9]), m.ones(2), "sum"),
    lambda m: m.scatter_reduce(m.ones(4), 0, m.tensor([0, 1]), m.ones(2).double(), "sum"),
    lambda m: m.scatter_reduce(m.ones(4), 0, m.tensor([0.0, 1.0]), m.ones(2), "sum"),
    lambda m: m.scatter_reduce(m.ones(4), 0, m.tensor([0, 1]), 2.0, "sum"),
    lambda m: m.scatter_reduce(m.ones(4), 1, m.tensor([0, 1]), m.ones(2), "sum"),
    lambda m: m.scatter_reduce(m.ones(4), 0, m.tensor([[0]]), m.ones(2), "sum"),
    lambda m: m.scatter_reduce(m.ones(4), 0, m.tensor([0, 1, 2, 3]), m.ones(2), "sum"),
])
def test_scatter_reduce_refuses_bad_input_as_torch(case):
    with pytest.raises(Exception) as want:
        case(torch)
    with pytest.raises(want.type, match="scatter_reduce|reduce argument|Dimension|index"):
        case(cr)


def test_scatter_with_reduce_multiply_matches_torch_and_has_no_derivative():
    for m in (torch, cr):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        out = m.scatter(x, 0, m.tensor([0, 0, 2]), m.tensor([2.0, 3.0, 4.0]), reduce="multiply")
        assert out.tolist() == [6.0, 2.0, 12.0]
        assert type(out.grad_fn).__name__ == "NotImplemented"
        with pytest.raises(RuntimeError, match="derivative for aten::scatter"):
            out.sum().backward()
        value = m.scatter(x.detach(), 0, m.tensor([0, 0]), 3.0, reduce="multiply")
        assert value.tolist() == [9.0, 2.0, 3.0]
        with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply"):
            m.scatter(x.detach(), 0, m.tensor([0]), 3.0, reduce="typo")
