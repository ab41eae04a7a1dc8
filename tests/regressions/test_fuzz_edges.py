"""Regressions from the edge-value, long-reduction and second-order fuzz profiles: each
recipe is a failure the fuzzer found (shrunk), replayed in chainrule and PyTorch and
compared value by value, gradient by gradient (NaN and inf positions included)."""
from math import inf, nan  # noqa: F401  (recipes hold them)

import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402


def test_uint8_plus_out_of_range_python_int_wraps():
    check_recipe([("leaf", (3,), "uint8", 61506), ("scalar", "add", 0, 300),
                  ("scalar", "add", 1, -1), ("scalar", "mul", 2, -1)])


def test_python_int_base_of_pow_wraps_to_int8():
    check_recipe([("leaf", (3, 4, 2, 1), "int8", 55775), ("scalar", "rpow", 0, 300)])


def test_sigmoid_of_0d_tensor_and_its_gradient():
    check_recipe([("leaf", (), "float32", 7, "edge"), ("unary", "sigmoid", 0),
                  ("leaf", (), "float64", 8), ("unary", "sigmoid", 2)])


def test_numpy_float64_scalar_leaf_stays_float64():
    check_recipe([("leaf", (), "float64", 11953, "edge"), ("unary", "neg", 0)])


def test_integer_clamp_casts_negative_bound_to_uint8():
    check_recipe([("leaf", (1, 3), "uint8", 12855, "edge"), ("unary", "exp", 0)])


def test_integer_exponent_clamp_in_pow_of_int16_and_uint8():
    check_recipe([("leaf", (2, 1), "int16", 9191), ("leaf", (1, 2, 1), "uint8", 49402, "edge"),
                  ("binary", "pow", 0, 1)])


def test_masked_fill_of_int64_extremes_casts_the_value_first():
    check_recipe([("leaf", (4, 4, 1), "int64", 21961, "edge"),
                  ("leaf", (1, 4, 1), "bool", 40499, "edge"), ("masked_fill", 0, 1, -1.5)])


def test_sign_of_nan_is_zero():
    check_recipe([("leaf", (4,), "float16", 12145, "edge"), ("unary", "sigmoid", 0),
                  ("unary", "sign", 1)])


def test_sign_gradient_is_zero_even_for_nan_incoming_gradient():
    check_recipe([("leaf", (4, 1), "float16", 30655), ("unary", "sign", 0),
                  ("leaf", (), "bool", 12197, "edge"), ("where", 2, 0, 1), ("where", 2, 3, 3),
                  ("scalar", "rpow", 4, -0.75), ("reduce", "std", 5, 1, False)])


def test_float32_norm_of_huge_values_does_not_overflow():
    check_recipe([("leaf", (1,), "float32", 60361, "edge"), ("scalar", "mul", 0, 0.5),
                  ("reduce", "norm", 1, None, True)])


def test_max_of_float16_with_nan_routes_gradient_to_the_nan():
    check_recipe([("leaf", (4, 1, 4, 2), "float16", 58487, "edge"),
                  ("reduce", "max_all", 0, None, True)])


def test_prod_gradient_of_infinite_input_is_nan_as_result_over_input():
    check_recipe([("leaf", (1,), "float16", 58333, "edge"), ("scalar", "rmul", 0, inf),
                  ("reduce", "prod", 1, -1, True)])


def test_std_of_huge_float32_values_is_finite():
    check_recipe([("leaf", (3, 1), "float32", 5915, "edge"), ("reduce", "logsumexp", 0, 1, False),
                  ("reduce", "std", 1, -1, False)])


def test_std_of_int16_plus_minus_1e30_does_not_overflow():
    check_recipe([("leaf", (4, 3, 3), "int16", 50221, "edge"), ("scalar", "add", 0, -1e30),
                  ("reduce", "std", 1, -1, False)])


def test_maximum_of_uint8_and_int64_scalar_tensor_casts_first():
    check_recipe([("leaf", (3,), "uint8", 44079, "edge"), ("leaf", (), "int64", 45043),
                  ("binary", "maximum", 0, 1)])


def test_float16_times_tiny_python_float_keeps_inf():
    check_recipe([("leaf", (3,), "float16", 28319, "edge"), ("scalar", "rmul", 0, 1e-40)])


def test_float16_var_over_100000_elements_does_not_overflow():
    check_recipe([("leaf", (100000,), "float16", 3), ("reduce", "var", 0, -1, False)])


def test_float16_mean_and_sum_over_70000_elements_and_gradients():
    check_recipe([("leaf", (2, 35000), "float16", 5), ("reduce", "mean", 0, None, False),
                  ("leaf", (70000,), "float16", 6), ("reduce", "sum", 2, -1, False)])


def test_float32_cumsum_over_a_million_elements():
    check_recipe([("leaf", (1000000,), "float32", 7), ("reduce", "cumsum", 0, -1, False)])


def test_second_order_through_prod_softmax_and_matmul():
    check_recipe([("leaf", (2, 3), "float64", 1), ("reduce", "prod", 0, 1, False),
                  ("leaf", (3, 2), "float64", 2), ("matmul", 0, 2),
                  ("reduce", "softmax", 3, -1, False), ("binary", "mul", 4, 1),
                  ("second_order",)])


def test_norm_gradient_of_subnormal_divides_before_scaling():
    check_recipe([("leaf", (3, 4, 2, 1), "float32", 54310, "edge"), ("binary", "minimum", 0, 0),
                  ("scalar", "rmul", 1, -1), ("unary", "clamp_both", 2),
                  ("reduce", "norm", 3, (3,), True)])


def test_max_along_dim_routes_nan_gradient_to_the_picked_element():
    check_recipe([("leaf", (2,), "float32", 0, "edge"), ("reduce", "max_values", 0, 0, False),
                  ("unary", "log", 1)])


def test_float16_plus_huge_python_float_rounds_the_scalar_like_torch():
    check_recipe([("leaf", (1,), "float16", 244, "edge"), ("unary", "neg", 0),
                  ("scalar", "add", 0, 1e30)])


def test_relu_of_nan_passes_the_gradient_like_torch():
    check_recipe([("leaf", (3, 4, 4), "float16", 56969, "edge"),
                  ("reduce", "norm1", 0, (0, 2), False), ("unary", "relu", 0),
                  ("scalar", "sub", 2, 3)])


def test_float16_python_float_base_of_pow_rounds_to_float16_like_torch():
    check_recipe([("leaf", (4, 1, 1, 2), "float16", 182, "edge"), ("scalar", "rpow", 0, 1e30),
                  ("leaf", (4, 1), "float16", 65015), ("scalar", "rpow", 2, 1e-40)])


def test_int32_plus_float32_casts_the_int_to_float32_first():
    check_recipe([("leaf", (3, 1), "int32", 62195, "edge"), ("scalar", "rsub", 0, 1e-40),
                  ("binary", "add", 1, 0)])


def test_float16_gelu_gradient_is_computed_in_float32():
    check_recipe([("leaf", (1,), "float16", 20400, "edge"), ("scalar", "rsub", 0, -0.75),
                  ("unary", "gelu", 1), ("leaf", (2, 1), "uint8", 11524, "edge"),
                  ("binary", "mul", 3, 2)])


def test_std_of_rounded_equal_values_takes_torchs_centred_gradient():
    # 0.7 three times: the mean rounds off 0.7, so the centred values are a tiny nonzero
    # constant; PyTorch's rule 2(x - mean)/dof keeps them (differentiating the centring
    # would cancel them to 0)
    import torch
    import chainrule as cr
    grads = []
    for lib in (torch, cr):
        x = lib.tensor([0.7], dtype=lib.float64, requires_grad=True)
        lib.cat([x, x, x]).std(0).backward()
        grads.append(float(x.grad[0]))
    assert grads[0] != 0.0 and abs(grads[1] - grads[0]) <= 1e-9 * abs(grads[0])


def test_var_gradient_and_its_second_order_match_torch():
    import numpy as np
    import torch
    import chainrule as cr
    data = np.array([[1.0, 2.0, 4.0], [3.0, -1.0, 7.0]])
    out = []
    for lib in (torch, cr):
        x = lib.tensor(data, requires_grad=True)
        v = x.var(1)
        g, = lib.autograd.grad((v * v).sum(), x, create_graph=True)
        h, = lib.autograd.grad((g * g).sum(), x)
        out.append((np.array(g.tolist()), np.array(h.tolist())))
    for got, want in zip(out[1], out[0]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


def test_masked_gather_std_chain_gradient_matches_torch():
    check_recipe([("leaf", (1,), "float64", 51487), ("leaf", (1,), "bool", 35807),
                  ("masked_fill", 0, 1, 0.0), ("scalar", "rmul", 2, -1),
                  ("reduce", "softmax", 3, -1, True), ("leaf", (1, 3), "float64", 9782),
                  ("matmul", 3, 5), ("gather", 0, -1, [0, 0, 0]),
                  ("masked_fill", 3, 1, 0.0), ("leaf", (), "bool", 60015),
                  ("where", 9, 2, 3), ("masked_fill", 7, 1, 0.0),
                  ("reduce", "std", 7, (0,), False)])


def test_zero_base_pow_gradient_is_minus_inf_for_negative_exponents():
    check_recipe([("leaf", (4, 1), "float16", 48475, "edge"), ("scalar", "rpow", 0, 0)])
    check_recipe([("leaf", (4, 1), "float64", 48475, "edge"), ("scalar", "rpow", 0, 0)])


def test_float16_times_huge_python_float_backward_keeps_the_scalar_in_float32():
    # g * -1e30 with g = 0 is 0 in float32 (PyTorch), 0 * inf = nan had the scalar been rounded
    check_recipe([("leaf", (2, 1), "float16", 65436, "edge"), ("leaf", (), "bool", 53958),
                  ("masked_fill", 0, 1, 2), ("scalar", "rmul", 2, -1e30),
                  ("unary", "logsigmoid", 3), ("unary", "log2", 4)])


def test_float16_division_gradient_does_not_square_the_divisor():
    # -g * a / (b * b) overflows for |b| past 256 in float16; PyTorch divides twice
    check_recipe([("leaf", (2, 1, 3), "float16", 11421), ("scalar", "sub", 0, 300),
                  ("scalar", "add", 1, 3), ("leaf", (1,), "bool", 55859),
                  ("masked_fill", 2, 3, 2), ("reduce", "max_values", 2, -2, True),
                  ("leaf", (3,), "bool", 43312, "edge"), ("where", 6, 4, 5),
                  ("binary", "div", 1, 7)])
