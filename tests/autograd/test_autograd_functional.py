"""chainrule.autograd.functional against torch.autograd.functional: values, return
structures (tensor vs tuple vs tuple of tuples), create_graph, strict mode and errors."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import functional as CF
from helpers import TOL, assert_close, requires_torch, torch

pytestmark = requires_torch

F64 = TOL[np.float64]
RNG = np.random.default_rng(4)
A = RNG.uniform(-1.5, 1.5, (3,))
B = RNG.uniform(-1.5, 1.5, (2, 2))
M = RNG.uniform(-1.5, 1.5, (2, 3))


def TF():
    from torch.autograd import functional
    return functional


def build(m, value):
    """Tensors (or tuples of them) of `value` in framework m."""
    if isinstance(value, tuple):
        return tuple(build(m, v) for v in value)
    return m.tensor(value)


def assert_same(c, t):
    """Same nesting (tensor / tuple / tuple of tuples) and values."""
    if isinstance(t, tuple):
        assert isinstance(c, tuple) and len(c) == len(t), (type(c), c)
        for a, b in zip(c, t):
            assert_same(a, b)
        return
    assert isinstance(c, cr.Tensor), type(c)
    assert tuple(c.shape) == tuple(t.shape)
    assert_close(c.detach().numpy(), t.detach().numpy(), **F64)


def run_both(name, func, inputs, *extra, **kwargs):
    c = getattr(CF, name)(lambda *a: func(cr, *a), build(cr, inputs),
                          *[build(cr, e) for e in extra], **kwargs)
    t = getattr(TF(), name)(lambda *a: func(torch, *a), build(torch, inputs),
                            *[build(torch, e) for e in extra], **kwargs)
    assert_same(c, t)
    return c, t


def mixed(m, x, y):
    return (x.sin() * y.sum() + x ** 2).tanh()


def two_out(m, x):
    return x.exp() * 0.5, (x * x).sum()


@pytest.mark.parametrize("func, inputs", [
    (lambda m, x: x.sin() * x.sum(), A),                        # tensor -> tensor
    (mixed, (A, B)),                                             # tuple -> tensor
    (two_out, A),                                                # tensor -> tuple
    (lambda m, x, y: (x * y.sum(), (x @ m.tensor(M.T)).exp()), (A, B)),  # tuple -> tuple
    (lambda m, x: (x * 3).sum(), np.array(1.5)),                 # 0-d
], ids=["tensor_tensor", "tuple_in", "tuple_out", "tuple_tuple", "zero_d"])
def test_jacobian_values_and_structure(func, inputs):
    run_both("jacobian", func, inputs)


def test_jacobian_of_empty_output_has_shape_out_plus_in():
    # torch's loop stacks zero rows and fails here; the empty Jacobian is the answer
    jac = CF.jacobian(lambda v: v * 2, cr.zeros(0, dtype=cr.float64))
    assert tuple(jac.shape) == (0, 0) and jac.dtype == cr.float64
    jac = CF.jacobian(lambda v: v[:0] * 2, cr.tensor(A))
    assert tuple(jac.shape) == (0, 3)


def test_jacobian_of_sigmoid_layer_is_diag_sigma_prime_times_w():
    w = RNG.uniform(-1, 1, (4, 3))
    x = cr.tensor(A)
    W = cr.tensor(w)
    jac = CF.jacobian(lambda v: cr.sigmoid(W @ v), x)
    s = 1 / (1 + np.exp(-(w @ A)))
    assert_close(jac.numpy(), np.diag(s * (1 - s)) @ w, **F64)


def test_jacobian_of_independent_output_is_zeros():
    run_both("jacobian", lambda m, x, y: x * 2, (A, B))


def test_jacobian_create_graph_differentiates_again():
    res = []
    for m, F in ((cr, CF), (torch, TF())):
        x = m.tensor(A, requires_grad=True)
        jac = F.jacobian(lambda v: v.sin() * v.sum(), x, create_graph=True)
        assert jac.requires_grad
        g, = m.autograd.grad((jac * jac).sum(), x)
        res.append(g.numpy())
    assert_close(res[0], res[1], **F64)


def test_jacobian_without_create_graph_is_detached():
    x = cr.tensor(A, requires_grad=True)
    jac = CF.jacobian(lambda v: v ** 2, x)
    assert not jac.requires_grad


def test_jacobian_vectorize_gives_the_same_values():
    run_both("jacobian", mixed, (A, B), vectorize=True)


@pytest.mark.parametrize("func, inputs", [
    (lambda m, x: (x ** 3).sum() + x.prod(), A),
    (lambda m, x, y: (x.sin().sum() * (y ** 2).sum()), (A, B)),
    (lambda m, x: (x ** 4).sum(), np.array(0.7)),
], ids=["single", "tuple", "zero_d"])
def test_hessian_values_and_structure(func, inputs):
    run_both("hessian", func, inputs)


def test_hessian_of_linear_function_is_zeros():
    run_both("hessian", lambda m, x: (x * 3).sum(), A)


@pytest.mark.parametrize("name", ["vjp", "jvp"])
def test_vjp_jvp_single_tensor(name):
    v = RNG.uniform(-1, 1, (3,))
    run_both(name, lambda m, x: x.sin() * x.sum(), A, v)


def test_vjp_tuple_inputs_and_outputs():
    v = (RNG.uniform(-1, 1, (3,)), np.array(0.5))
    run_both("vjp", lambda m, x, y: (x * y.sum(), (x ** 2).sum() * y.mean()), (A, B), v)


def test_jvp_tuple_inputs_and_outputs():
    v = (RNG.uniform(-1, 1, (3,)), RNG.uniform(-1, 1, (2, 2)))
    run_both("jvp", lambda m, x, y: (x * y.sum(), (x ** 2).sum() * y.mean()), (A, B), v)


def test_vjp_without_v_for_scalar_output():
    run_both("vjp", lambda m, x: (x ** 2).sum(), A)


def test_jvp_without_v_for_scalar_input():
    run_both("jvp", lambda m, x: x * float(A.sum()), np.array(2.0))


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_vhp(name):
    v = RNG.uniform(-1, 1, (3,))
    run_both(name, lambda m, x: (x ** 3).sum() * x.sum() + x.prod(), A, v)


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_vhp_tuple_inputs(name):
    v = (RNG.uniform(-1, 1, (3,)), RNG.uniform(-1, 1, (2, 2)))
    run_both(name, lambda m, x, y: x.sin().sum() * (y ** 2).sum(), (A, B), v)


def test_vjp_create_graph_second_order():
    res = []
    for m, F in ((cr, CF), (torch, TF())):
        x = m.tensor(A, requires_grad=True)
        _, g = F.vjp(lambda v: (v ** 3).sum(), x, create_graph=True)
        h, = m.autograd.grad(g.sum(), x)
        res.append(h.numpy())
    assert_close(res[0], res[1], **F64)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # exp overflows, 0 * inf in the rows
def test_extreme_inputs_give_torchs_inf_and_nan():
    x = np.array([30.0, -30.0, 1e30, 0.0])
    c = CF.jacobian(lambda v: v.exp(), cr.tensor(x))
    t = TF().jacobian(lambda v: v.exp(), torch.tensor(x))
    np.testing.assert_array_equal(np.isinf(c.numpy()), np.isinf(t.numpy()))
    np.testing.assert_array_equal(np.isnan(c.numpy()), np.isnan(t.numpy()))
    finite = np.isfinite(t.numpy())
    assert_close(c.numpy()[finite], t.numpy()[finite], **F64)


def test_float32_jacobian_matches_torch():
    x = A.astype(np.float32)
    c = CF.jacobian(lambda v: v.tanh() * v.sum(), cr.tensor(x))
    t = TF().jacobian(lambda v: v.tanh() * v.sum(), torch.tensor(x))
    assert c.dtype == cr.float32
    assert_close(c.numpy(), t.numpy(), **TOL[np.float32])


def error_of(F, m, call):
    with pytest.raises((RuntimeError, TypeError)) as err:
        call(F, m)
    return type(err.value), str(err.value).replace("torch.Size", "Size").replace(
        "chainrule.Size", "Size")


@pytest.mark.parametrize("call", [
    lambda F, m: F.jacobian(lambda a: 3, m.tensor(A)),
    lambda F, m: F.jacobian(lambda a: a, 1.0),
    lambda F, m: F.jacobian(lambda a, b: a, (m.tensor(A), 2)),
    lambda F, m: F.jacobian(lambda a: a, [m.tensor(A)]),
    lambda F, m: F.jacobian(lambda a: m.ones(2), m.tensor(A), strict=True),
    lambda F, m: F.jacobian(lambda a, b: a * 2, (m.tensor(A), m.tensor(B)), strict=True),
    lambda F, m: F.hessian(lambda a: a, m.tensor(A)),
    lambda F, m: F.hessian(lambda a: (a.sum(), a.sum()), m.tensor(A)),
    lambda F, m: F.hessian(lambda a: a.sum(), m.tensor(A), strict=True),
    lambda F, m: F.vjp(lambda a: a * 2, m.tensor(A)),
    lambda F, m: F.vjp(lambda a: a * 2, m.tensor(A), m.ones(5)),
    lambda F, m: F.vjp(lambda a: a * 2, m.tensor(A), (m.ones(3), m.ones(3))),
    lambda F, m: F.vjp(lambda a: a * 2, m.tensor(A), m.ones(3), strict=True,
                       create_graph=True),
    lambda F, m: F.jvp(lambda a: a * 2, m.tensor(A)),
    lambda F, m: F.hvp(lambda a: a ** 3, m.tensor(A), m.ones(3)),
    lambda F, m: F.vhp(lambda a: (a ** 3, a), m.tensor(A), m.ones(3)),
    lambda F, m: F.hvp(lambda a: (a ** 3).sum(), m.tensor(A)),
], ids=["output_not_tensor", "input_not_tensor", "tuple_with_int", "list_inputs",
        "strict_constant_output", "strict_independent_input", "hessian_vector_output",
        "hessian_tuple_output", "strict_linear_hessian", "vjp_needs_v", "v_wrong_size",
        "v_wrong_count", "strict_create_graph_linear", "jvp_needs_v", "hvp_vector_output",
        "vhp_tuple_output", "hvp_needs_v"])
def test_errors_match_torch(call):
    assert error_of(CF, cr, call) == error_of(TF(), torch, call)
