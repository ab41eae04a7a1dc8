"""PyTorch's rules for integer and bool operands, each found by the integer fuzz profile
(tests/fuzz/fuzz_ints.py) and checked here against PyTorch: values, dtypes and the type
of the exception where PyTorch refuses."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _outcome(m, case):
    try:
        out = case(m)
    except Exception as err:  # noqa: BLE001 - the type is what is compared
        return type(err)
    return str(out.dtype).split(".")[-1], repr(out.detach().numpy().tolist())  # nan == nan


def _same_as_torch(case):
    want = _outcome(torch, case)
    got = _outcome(cr, case)
    if isinstance(want, type):
        # chainrule's integer division by zero is a RuntimeError that is also ZeroDivisionError
        assert isinstance(got, type) and issubclass(got, want), (got, want)
    else:
        assert got == want


def _edges(m, dtype):
    info = np.iinfo(dtype)
    return m.tensor(np.array([info.min, -3 if info.min else 0, 3, info.max], dtype=dtype))


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "int64"])
@pytest.mark.parametrize("count", [-1, -300, 7, 8, 31, 32, 63, 64, 300, 2 ** 40])
@pytest.mark.parametrize("left", [True, False])
def test_shift_by_a_count_outside_the_width_clears_or_keeps_the_sign(dtype, count, left):
    _same_as_torch(lambda m: (_edges(m, dtype) << count) if left else (_edges(m, dtype) >> count))
    # the count as a tensor of the same dtype, and a number shifted by the tensor
    _same_as_torch(lambda m: m.bitwise_right_shift(_edges(m, dtype), _edges(m, dtype)))
    _same_as_torch(lambda m: (count << _edges(m, dtype)) if left else (count >> _edges(m, dtype)))


def test_bitwise_not_of_a_float_tensor_is_not_implemented_but_tilde_is_a_type_error():
    _same_as_torch(lambda m: m.bitwise_not(m.tensor([1.0], dtype=m.float64)))
    _same_as_torch(lambda m: m.tensor([1.0]).bitwise_not())
    _same_as_torch(lambda m: ~m.tensor([1.0]))
    with pytest.raises(NotImplementedError, match="bitwise_not"):
        cr.bitwise_not(cr.tensor([1.0]))


@pytest.mark.parametrize("case", [
    lambda m: m.tensor([[1, 2, 3]] * 2, dtype=m.uint8) << m.ones(4),  # float, shapes first
    lambda m: m.tensor([1.0, 2.0, 3.0]).bitwise_right_shift_(m.ones(2, 3, dtype=m.int64)),
    lambda m: m.ones(3).bitwise_and_(m.ones(2, 3)),
    lambda m: m.tensor([True, False, True]).bitwise_left_shift_(m.tensor([True, True])),
    lambda m: m.tensor([True, False, True]) // m.tensor([True, True]),
    lambda m: m.tensor([True, False, True]) % m.tensor([True, True]),
    lambda m: m.tensor([True, False, True]) ** m.tensor([True, True]),
    lambda m: m.ones(3, dtype=m.uint8).add_(m.ones(2, 3) * 1.5),
])
def test_shapes_are_checked_before_the_dtype_is_refused(case):
    _same_as_torch(case)
    with pytest.raises(RuntimeError, match="shape"):
        case(cr)


@pytest.mark.parametrize("op", ["lt", "le", "gt", "ge", "eq", "ne"])
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32"])
@pytest.mark.parametrize("number", [-1, 128, 256, -300, 2 ** 40, 2 ** 63 - 1, 1.5])
def test_comparison_with_a_number_out_of_range_wraps_it_to_the_tensors_dtype(op, dtype, number):
    _same_as_torch(lambda m: getattr(m, op)(_edges(m, dtype), number))
    _same_as_torch(lambda m: getattr(m, op)(_edges(m, dtype), m.tensor(number)))


def test_comparison_of_float16_with_a_number_rounds_the_number_to_float16():
    _same_as_torch(lambda m: m.tensor([1.0, 0.1], dtype=m.float16) < 1.0001)
    _same_as_torch(lambda m: m.tensor([1.0, 0.1], dtype=m.float16) == 0.1)
    _same_as_torch(lambda m: m.tensor([16777217], dtype=m.int32) == 16777216.0)


@pytest.mark.parametrize("op", ["floor_divide", "remainder", "pow"])
@pytest.mark.parametrize("other", [True, False, 2, -3, 2.5, "bool", "int8"])
@pytest.mark.parametrize("swap", [False, True])
def test_floor_divide_remainder_and_pow_refuse_only_a_bool_result_type(op, other, swap):
    def case(m):
        a = m.tensor([True, False, True])
        b = (m.tensor([True, True, False]) if other == "bool" else
             m.tensor([1, 2, 3], dtype=m.int8) if other == "int8" else other)
        return getattr(m, op)(*((b, a) if swap else (a, b)))
    _same_as_torch(case)


def test_bool_tensor_to_a_python_bool_power_is_itself_or_ones():
    _same_as_torch(lambda m: m.tensor([True, False]) ** True)
    _same_as_torch(lambda m: m.tensor([True, False]) ** False)
    _same_as_torch(lambda m: m.tensor([True, False]).pow_(True))
    _same_as_torch(lambda m: m.tensor([True, False]).pow_(2))


@pytest.mark.parametrize("a", ["int8", "uint8", "int32", "float32", "float16", "bool"])
@pytest.mark.parametrize("b", ["int8", "uint8", "int64", 2.5, -1.5, 2 ** 63 - 1, True])
@pytest.mark.parametrize("op,alpha", [("add", 2), ("sub", 2), ("add", -1), ("sub", -1)])
def test_alpha_scales_the_other_operand_in_the_promoted_dtype(a, b, op, alpha):
    def case(m):
        x = m.tensor([True, False]) if a == "bool" else _edges(m, "int8")[:2].to(getattr(m, a))
        y = b if not isinstance(b, str) else _edges(m, b)[:2]
        return getattr(m, op)(x, y, alpha=alpha)
    _same_as_torch(case)
    _same_as_torch(lambda m: getattr(m, op)(2.5, _edges(m, "int8")[:2], alpha=alpha))


@pytest.mark.parametrize("exponent", [65504, 65520, 1e10, -1e10, 2 ** 40, float("inf")])
def test_float16_power_refuses_an_exponent_past_float16s_range(exponent):
    _same_as_torch(lambda m: m.tensor([1.0, 2.0], dtype=m.float16) ** exponent)
    _same_as_torch(lambda m: m.tensor([1.0, 2.0], dtype=m.float16).pow_(exponent))
    _same_as_torch(lambda m: exponent ** m.tensor([1.0, 2.0], dtype=m.float16))


@pytest.mark.parametrize("op", ["remainder", "floor_divide", "fmod"])
def test_a_divisor_that_wraps_to_zero_in_the_common_dtype_is_a_division_by_zero(op):
    _same_as_torch(lambda m: getattr(m, op)(m.tensor([[100], [1]], dtype=m.uint8),
                                            m.tensor(-2 ** 63)))
    _same_as_torch(lambda m: getattr(m, op)(m.tensor([5], dtype=m.int8), 256))
    _same_as_torch(lambda m: getattr(m, op)(m.tensor([5], dtype=m.int8), m.tensor(3)))


@pytest.mark.parametrize("case", [
    lambda m: m.maximum(m.tensor([1.0]), 2),
    lambda m: m.minimum(2, m.tensor([1.0])),
    lambda m: m.tensor([1.0]).maximum(2.5),
    lambda m: m.tensor([1]).minimum(True),
])
def test_maximum_and_minimum_refuse_a_python_number(case):
    _same_as_torch(case)
    with pytest.raises(TypeError, match="must be Tensor"):
        case(cr)


def test_gradient_rules_still_take_the_maximum_with_a_number():
    # relu's and clamp's rules call np.maximum(x, 0) on tensors under create_graph
    for m in (cr, torch):
        x = m.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        (g,) = m.autograd.grad(m.nn.functional.softplus(x).sum(), x, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x)
        if m is cr:
            got = (g.detach().numpy(), h.numpy())
    np.testing.assert_allclose(got[0], g.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(got[1], h.numpy(), rtol=1e-5)


@pytest.mark.parametrize("expr", ["x // y", "x // 2", "2 // x", "m.floor_divide(x, y)",
                                  "2 % x", "m.remainder(2.5, x)"])
def test_backward_through_floor_divide_or_a_number_modulo_a_tensor_raises(expr):
    for m in (torch, cr):
        x = m.tensor([1.5, -2.5], requires_grad=True)
        y = m.tensor([2.0, 3.0], requires_grad=True)
        out = eval(expr, {"x": x, "y": y, "m": m})
        assert out.requires_grad and type(out.grad_fn).__name__ == "NotImplemented"
        with pytest.raises(RuntimeError, match="derivative for aten::"):
            out.sum().backward()


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_div_with_a_rounding_mode_has_zero_gradients(mode):
    grads = []
    for m in (torch, cr):
        x = m.tensor([1.5, -2.5], requires_grad=True)
        y = m.tensor([2.0, 3.0], requires_grad=True)
        out = m.div(x, y, rounding_mode=mode)
        assert type(out.grad_fn).__name__ == "DivBackward2"
        out.sum().backward()
        grads.append((x.grad.tolist(), y.grad.tolist()))
    assert grads[0] == grads[1] == ([0.0, 0.0], [0.0, 0.0])


@pytest.mark.parametrize("dtype", ["int8", "int64", "float16", "float32"])
def test_trunc_division_of_integers_is_exact(dtype):
    big = 2 ** 62 + 1 if dtype == "int64" else 7
    _same_as_torch(lambda m: m.div(m.tensor(np.array([-7, 7, big, -big]).astype(dtype)),
                                   m.tensor(np.array([2, -3, 3, 1]).astype(dtype)),
                                   rounding_mode="trunc"))
    _same_as_torch(lambda m: m.div(m.tensor(np.array([-7, 7]).astype(dtype)), -2,
                                   rounding_mode="trunc"))


@pytest.mark.parametrize("make", ["linspace", "logspace", "arange"])
def test_ranges_of_bool_dtype_are_not_implemented(make):
    args = (3,) if make == "arange" else (5, 10, 3)
    _same_as_torch(lambda m: getattr(m, make)(*args, dtype=m.bool))
    _same_as_torch(lambda m: getattr(m, make)(*args, dtype=m.int8))


@pytest.mark.parametrize("dim", [1, -2, 0, -1])
def test_cumprod_of_a_0d_tensor_takes_only_dim_0_or_minus_1(dim):
    _same_as_torch(lambda m: m.cumprod(m.tensor(2.0), dim=dim))
