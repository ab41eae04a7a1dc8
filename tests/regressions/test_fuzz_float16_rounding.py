"""Float16 and mixed-dtype rounding found by the edge fuzz profile: chainrule rounds where
PyTorch's CPU kernels do (in float32 once for its fused kernels, after every step of its
formulas), each compared with PyTorch."""
from math import inf, nan  # noqa: F401  (recipes hold them)

import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402


def test_float16_sigmoid_is_computed_in_float32_and_rounded_once():
    # 1/(1 + exp(-x)) rounded after each step gave 0.998 for sigmoid(6.387), not 0.9985,
    # and exp(15) overflowed float16 inside sigmoid(-15)
    check_recipe([("leaf", (1,), "float16", 56514, "edge"), ("scalar", "pow", 0, 2.5),
                  ("unary", "sigmoid", 1)])
    check_recipe([("leaf", (1, 3, 4, 2), "float16", 38920, "edge"), ("scalar", "div", 0, 2),
                  ("unary", "log_sigmoid", 1)])


def test_float16_activations_and_gradients_round_once_like_torch():
    import numpy as np
    import torch
    import chainrule as cr
    data = np.array([-15.0, -10.0, 6.387, 12.0, 30.0, -30.0, 0.3, -2.0], dtype=np.float16)
    res = []
    for lib in (torch, cr):
        F = lib.nn.functional
        fns = (lib.sigmoid, F.logsigmoid, F.softplus, lib.tanh, F.gelu)
        out = []
        for fn in fns:
            x = lib.tensor(data, requires_grad=True)
            y = fn(x)
            g, = lib.autograd.grad((y * y).sum(), x)
            out.append((type(y.grad_fn).__name__, y.tolist(), g.tolist()))
        res.append(out)
    assert res[1] == res[0]


def test_float16_var_gradient_centres_in_float16_like_torch():
    # PyTorch's rule (2 / dof) * g * (x - x.mean()) runs in float16: the centred values are
    # multiples of float16's spacing near 104 (0.0625), which a float64 rule did not see
    check_recipe([("leaf", (1,), "float16", 17509), ("leaf", (2, 2), "uint8", 37636),
                  ("binary", "mul", 0, 1), ("reduce", "var", 2, None, False)])
    check_recipe([("leaf", (1,), "float16", 17509), ("leaf", (2, 2), "uint8", 37636),
                  ("binary", "mul", 0, 1), ("reduce", "std", 2, 1, True)])


def test_float16_divided_by_a_one_element_int_tensor_takes_it_in_float32():
    # PyTorch's float16 div/mul read a one-element right operand as a float32 scalar:
    # inf / int32 min is -inf (not inf / -inf = nan), 60000 / int32 min is -2.8e-05
    check_recipe([("leaf", (1,), "int32", 37625, "edge"),
                  ("leaf", (1, 2), "float16", 33809, "edge"), ("binary", "div", 1, 0)])
    import torch
    import chainrule as cr
    got = []
    for lib in (torch, cr):
        a = lib.tensor([0.5, inf, 60000.0, 1e-7], dtype=lib.float16)
        small, big = lib.tensor(70000), lib.tensor([-2147483648], dtype=lib.int32)
        got.append([str(v.tolist()) for v in (a / big, a * big, big * a, big / a, a * small,
                                              small * a, a / small, a + small)])
    assert got[1] == got[0]


def test_float16_prod_rounds_each_partial_product_like_torch():
    # 0.5 * 0.5 * 6e-8 underflows to 0 in float16 before meeting inf: nan, not inf
    check_recipe([("leaf", (4,), "float16", 15014, "edge"), ("leaf", (4,), "bool", 31968),
                  ("where", 1, 0, 0), ("unary", "relu", 2), ("reduce", "prod", 3, 0, False)])
    import torch
    import chainrule as cr
    got = []
    for lib in (torch, cr):
        x = lib.tensor([[300.0, 300.0, 1 / 300], [2.0, 0.5, 3.0]], dtype=lib.float16)
        got.append([str(v.tolist()) for v in (x.prod(1), x.prod(), x.t().prod(0, keepdim=True))])
    assert got[1] == got[0]


def test_float16_pow_gradient_overflows_where_torchs_does():
    # PyTorch's g * (b * a ** (b - 1)): 30 * 0.78 ** -31 is past float16's range already
    check_recipe([("leaf", (2, 4, 2, 3), "float16", 20384), ("unary", "tanh", 0),
                  ("scalar", "pow", 1, -30.0)])


def test_float16_logsigmoid_gradient_reads_exp_rounded_to_float16_like_torch():
    # PyTorch's backward reads exp(-|x|) from a float16 buffer: exp(-30) is 0 there, so an
    # inf incoming gradient becomes NaN (inf in float32 and float64)
    check_recipe([("leaf", (4,), "float16", 22138, "edge"), ("unary", "logsigmoid", 0),
                  ("leaf", (2, 1), "float16", 1930, "edge"), ("binary", "pow", 2, 1)])
    import torch
    import chainrule as cr
    out = []
    for lib in (torch, cr):
        for dt in (lib.float16, lib.float32):
            x = lib.tensor([30.0, -30.0, 0.5, 17.0], dtype=dt, requires_grad=True)
            g, = lib.autograd.grad(lib.nn.functional.logsigmoid(x), x,
                                   lib.tensor([inf, 1.0, 2.0, 3.0], dtype=dt))
            out.append(str(g.tolist()))
    assert out[2:] == out[:2]


def test_float16_mul_gradient_reads_a_one_element_int_as_a_float32_scalar():
    # g * int64 max with g = 0: PyTorch's kernel reads the one-element int as a float32
    # scalar (0 * 9.2e18 = 0); cast to float16 first it would be 0 * inf = nan
    check_recipe([("leaf", (), "float16", 46576, "edge"), ("scalar", "add", 0, 2),
                  ("leaf", (1,), "int64", 20219, "edge"), ("binary", "maximum", 2, 0),
                  ("binary", "mul", 2, 1), ("unary", "sin", 4),
                  ("reduce", "sum", 3, (0,), True), ("binary", "mul", 6, 5)])


def test_float16_rsqrt_and_its_gradient_round_like_torch():
    check_recipe([("leaf", (3, 3, 4), "float16", 10052), ("leaf", (3, 1), "bool", 7781),
                  ("where", 1, 0, (0.5,)), ("scalar", "rpow", 2, -1), ("unary", "rsqrt", 0),
                  ("scalar", "rdiv", 3, -1e30), ("scalar", "rmul", 4, -30.0),
                  ("scalar", "div", 5, 0.5), ("binary", "eq", 2, 3), ("scalar", "add", 6, -1),
                  ("reduce", "softmax", 6, -3, True)])


def test_float16_logsumexp_rounds_op_by_op_like_torch():
    # PyTorch's logsumexp runs op by op (float16 rounds after each, its sum accumulates in
    # float32), and so does its gradient g * exp(x - result): float16 exp(-32) is 0 there
    check_recipe([("leaf", (1, 3, 1), "float16", 31498), ("reduce", "logsumexp", 0, -2, False),
                  ("scalar", "pow", 1, 30)])
    check_recipe([("leaf", (3, 2), "float16", 65120, "edge"),
                  ("reduce", "logsumexp", 0, -1, True), ("reduce", "var", 1, None, False)])


def test_minimum_of_int64_extremes_and_float16_inf_is_a_tie_in_float16():
    # int64 max is inf in float16: the gradient rule compares the cast operands, as PyTorch
    check_recipe([("leaf", (4, 3), "int64", 60517, "edge"),
                  ("leaf", (1, 1, 3), "float16", 7249, "edge"), ("binary", "minimum", 0, 1)])


def test_maximum_and_product_of_int64_and_float16_gradients_use_the_cast_int():
    import numpy as np
    import torch
    import chainrule as cr
    grads = []
    for lib in (torch, cr):
        a = lib.tensor([100, 2 ** 63 - 1, -2 ** 63, 70000], dtype=lib.int64)
        b = lib.tensor([0.5, inf, -inf, 1.0], dtype=lib.float16, requires_grad=True)
        for y in (lib.maximum(a, b), lib.minimum(b, a), a * b):  # ties at ±inf share g
            g, = lib.autograd.grad(y.sum(), b)
            grads.append(g.numpy().astype(np.float64))
    for got, want in zip(grads[3:], grads[:3]):
        np.testing.assert_array_equal(got, want)


def test_pow_of_a_python_base_takes_its_log_in_the_exponents_dtype():
    # float16 300 ** 1.67 * log(300) overflows to inf as in PyTorch; 0 * inf is then nan
    check_recipe([("leaf", (3, 2), "float16", 29970), ("scalar", "rpow", 0, 300),
                  ("leaf", (), "bool", 15471, "edge"), ("where", 2, 1, 1),
                  ("scalar", "rpow", 3, 0)])


def test_float16_gradient_summed_over_broadcast_dims_accumulates_in_float32():
    # the engine undoes broadcasting with a float32 total, as PyTorch: NumPy's float16 sum
    # along an outer axis overflowed (30000 + 30000)
    check_recipe([("leaf", (4, 1, 4, 3), "int16", 3742, "edge"), ("unary", "exp", 0),
                  ("scalar", "div", 1, -1), ("leaf", (3,), "bool", 4019, "edge"),
                  ("masked_fill", 0, 3, 2), ("scalar", "add", 0, -30.0),
                  ("leaf", (4, 1, 4, 1), "bool", 62727, "edge"), ("where", 6, 0, 2),
                  ("leaf", (4, 1, 1, 1), "float32", 2814),
                  ("leaf", (1, 3), "float16", 23912, "edge"), ("binary", "mul", 0, 9)])


def test_prod_gradient_with_zeros_rounds_its_cumulative_products_like_torch():
    # PyTorch's cumprod accumulates float16 in float32 (float32 in float64), rounding each
    # running product once
    check_recipe([("leaf", (4, 4, 1, 2), "float16", 54056, "edge"),
                  ("reduce", "prod", 0, -3, True)])
    import numpy as np
    import torch
    import chainrule as cr
    rng = np.random.default_rng(0)
    for dt in ("float16", "float32", "float64"):
        x = rng.uniform(-3, 3, (4, 5)).astype(dt)
        x[1, 2] = x[3, 0] = 0
        grads = []
        for lib in (torch, cr):
            t = lib.tensor(x, requires_grad=True)
            (t.prod() + t.prod(0).sum() + t.prod(1).sum()).backward()
            grads.append(t.grad.numpy().astype(np.float64))
        np.testing.assert_array_equal(grads[1], grads[0])
