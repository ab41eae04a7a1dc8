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


def test_inf_norm_gradient_is_zero_over_a_slice_whose_norm_is_nan():
    # PyTorch's rule: sign(x) * mask where |x| is the norm or NaN; amax's rule spread NaN
    check_recipe([("leaf", (2, 4, 1), "float16", 23808, "edge"),
                  ("reduce", "norm_inf", 0, (1, 2), False)])


def test_inf_norm_ties_share_the_gradient_and_second_order_is_zero():
    import numpy as np
    import torch
    import chainrule as cr
    data = np.array([[1.0, -3.0, 3.0, nan], [2.0, -2.0, inf, 0.0], [0.0, 0.0, 0.0, 0.0],
                     [1.0, -3.0, 3.0, -3.0]])
    out = []
    for lib in (torch, cr):
        x = lib.tensor(data, requires_grad=True)
        n = x.norm(p=inf, dim=1)
        g, = lib.autograd.grad((n * lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64)).sum(),
                               x, create_graph=True)
        (g * x).sum().backward()  # d/dx <g(x), x>: g itself, the mask being constant
        out.append((type(n.grad_fn).__name__, n.tolist(), g.tolist(), x.grad.tolist()))
    assert out[1][0] == out[0][0] == "LinalgVectorNormBackward0"
    for got, want in zip(out[1][1:], out[0][1:]):
        np.testing.assert_array_equal(np.array(got), np.array(want))


def test_std_is_one_op_whose_second_order_matches_torch():
    import numpy as np
    import torch
    import chainrule as cr
    data = np.array([[1.0, 2.0, 4.0], [3.0, -1.0, 7.0]])
    out = []
    for lib in (torch, cr):
        x = lib.tensor(data, requires_grad=True)
        s = x.std(1)
        g, = lib.autograd.grad((s * s * s).sum(), x, create_graph=True)
        h, = lib.autograd.grad((g * g).sum(), x)
        out.append((type(s.grad_fn).__name__, np.array(g.tolist()), np.array(h.tolist())))
    assert out[1][0] == out[0][0] == "StdBackward0"
    for got, want in zip(out[1][1:], out[0][1:]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


def test_var_of_integers_names_the_op_and_the_dtype():
    import chainrule as cr
    for fn in (cr.var, cr.std):
        with pytest.raises(RuntimeError, match=f"{fn.__name__}: expected a floating-point "
                                                "tensor, got chainrule.int64"):
            fn(cr.tensor([1, 2, 4]))


def test_relu_zeroes_a_nan_incoming_gradient_where_its_output_is_zero():
    check_recipe([("leaf", (1, 1, 1), "float32", 46987), ("unary", "relu", 0),
                  ("scalar", "div", 1, nan)])
    check_recipe([("leaf", (4, 3, 4, 1), "float64", 29438, "edge"), ("unary", "relu", 0),
                  ("reduce", "softmax", 1, 2, False)])


def test_second_derivative_of_a_zero_2_norm_is_nan_like_torch():
    check_recipe([("leaf", (4,), "float32", 62630), ("binary", "sub", 0, 0), ("clone", 1),
                  ("reduce", "norm", 2, -1, False), ("second_order",)])


def test_reciprocal_gradient_squares_the_result_first_like_torch():
    # -g * (o * o): the square of 5.9e-31 underflows float32, so the gradient is 0
    check_recipe([("leaf", (), "float32", 53720), ("scalar", "mul", 0, 1e30),
                  ("scalar", "rdiv", 1, -1e30)])


def test_std_over_a_dim_of_equal_float64_values_is_exactly_zero_like_torch():
    # several results: PyTorch's Welford pass gives 0; one result: its two-pass mean
    # rounds (three 0.7s have variance 1.8e-32 there), and chainrule follows both
    check_recipe([("leaf", (2, 3, 3), "float64", 35323, "edge"), ("unary", "rsqrt", 0),
                  ("reduce", "std", 1, -1, False), ("scalar", "mul", 2, inf)])
    import torch
    import chainrule as cr
    for shape, dim in (((3,), None), ((2, 3), 1), ((2, 7), 1), ((7,), 0), ((3, 2), 0)):
        want = torch.full(shape, 0.7, dtype=torch.float64).var(dim).tolist()
        assert cr.full(shape, 0.7, dtype=cr.float64).var(dim).tolist() == want


def test_prod_of_a_0d_tensor_passes_the_gradient_on_like_torch():
    # PyTorch returns g for a 0-d input; g * (result / x) was inf / inf = nan
    check_recipe([("leaf", (), "float64", 14957, "edge"), ("unary", "log1p", 0),
                  ("reduce", "prod", 1, 0, True)])
    check_recipe([("leaf", (3,), "float32", 1499, "edge"), ("reduce", "sum", 0, (0,), False),
                  ("reduce", "prod", 1, -1, False)])
    check_recipe([("leaf", (), "float32", 41791), ("scalar", "rmul", 0, 3), ("unary", "abs", 1),
                  ("reduce", "var", 2, -1, False), ("reduce", "prod", 3, 0, True),
                  ("second_order",)])


def test_abs_second_derivative_sends_nothing_through_sgn_like_torch():
    # the var of one element is nan; PyTorch's sgn passes no gradient back to it
    check_recipe([("leaf", (1,), "float64", 24192), ("reduce", "var", 0, None, True),
                  ("unary", "abs", 1), ("second_order",)])


def test_reduction_results_are_contiguous_so_a_later_view_works_like_torch():
    check_recipe([("leaf", (3, 2, 4, 2), "float32", 44371), ("clone", 0), ("view_of", 1, "T", ()),
                  ("reduce", "amin", 2, -2, False), ("clone", 3),
                  ("view_of", 4, "view", ((2, 3, 4),))])
    import chainrule as cr
    x = cr.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)
    for r in (x.sum(1), x.mean(1), x.amax(1), x.max(1)[0], x.max(1)[1], x.var(1), x.std(1),
              x.prod(1), x.norm(dim=1), x.norm(p=float("inf"), dim=1), x.norm(p=3, dim=1)):
        assert r.is_contiguous()


def test_var_of_one_infinite_element_has_torchs_nan_gradient():
    # 2 / 0 over everything: PyTorch's factor is NaN where x equals its mean (inf does)
    check_recipe([("leaf", (), "float64", 49927, "edge"), ("reduce", "var", 0, 0, False)])
    check_recipe([("leaf", (), "float32", 34031, "edge"), ("reduce", "var", 0, -1, True)])
    check_recipe([("leaf", (), "float16", 26637), ("unary", "log_sigmoid", 0),
                  ("scalar", "mul", 1, inf), ("reduce", "var", 2, None, True)])


def test_inf_norm_second_derivative_sends_nothing_through_sgn():
    check_recipe([("leaf", (), "float32", 39201), ("leaf", (), "bool", 60340),
                  ("reduce", "max_all", 0, None, False), ("where", 1, 2, 2),
                  ("reduce", "var", 3, None, False), ("reduce", "norm_inf", 4, -1, True),
                  ("second_order",)])


def test_softmax_result_is_contiguous_and_float16_is_one_op_like_torch():
    check_recipe([("leaf", (4, 3, 1), "float64", 28670), ("clone", 0),
                  ("view_of", 1, "permute", ((2, 1, 0),)), ("reduce", "softmax", 2, 2, False),
                  ("clone", 3), ("view_of", 4, "view", ((-1, 1, 6),))])
    import numpy as np
    import torch
    import chainrule as cr
    data = np.array([[1.0, -2.0, 30.0], [0.5, 11.0, -11.0]], dtype=np.float16)
    out = []
    for lib in (torch, cr):
        x = lib.tensor(data, requires_grad=True)
        ys = (lib.softmax(x, 1), lib.log_softmax(x, 0), lib.logsumexp(x, 1))
        g, = lib.autograd.grad(sum((y * y).sum() for y in ys), x)
        out.append(([type(y.grad_fn).__name__ for y in ys], [y.tolist() for y in ys], g.tolist()))
    assert out[1][0] == out[0][0]
    for got, want in zip(out[1][1] + [out[1][2]], out[0][1] + [out[0][2]]):
        np.testing.assert_allclose(np.array(got, np.float64), np.array(want, np.float64),
                                   rtol=2e-3, atol=2e-3)


def test_python_number_to_a_tensors_power_is_contiguous_like_torch():
    # PyTorch allocates 2 ** x contiguous even for a permuted x (x * 2 keeps x's layout)
    check_recipe([("leaf", (4, 1, 2, 1), "float64", 57510), ("unary", "relu", 0), ("clone", 1),
                  ("view_of", 2, "permute", ((2, 1, 0, 3),)), ("scalar", "rpow", 3, 2),
                  ("clone", 4), ("view_of", 5, "view", ((8, -1),))])


def test_relu_second_derivative_sends_zeros_to_its_output_like_torch():
    # PyTorch's threshold_backward passes zeros back to relu's output under double
    # backward; through a var of one element (NaN factor) that is NaN, as here
    check_recipe([("leaf", (), "float64", 36202), ("leaf", (), "bool", 61313),
                  ("masked_fill", 0, 1, 0.0), ("reduce", "var", 2, None, False),
                  ("unary", "relu", 3), ("second_order",)])
