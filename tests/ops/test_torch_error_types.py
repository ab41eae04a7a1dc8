"""Where PyTorch refuses, chainrule refuses with the same exception type: NumPy's own
errors from inside an op become PyTorch's types (one conversion in ops/core.py), and
the checks PyTorch makes that NumPy doesn't (minus on bools, float alpha with integer
tensors, bool matmul, BCE targets outside [0, 1]) are made."""
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

CASES = {
    "neg_bool": lambda m: -m.tensor([True]),
    "neg_bool_fn": lambda m: m.neg(m.tensor([True, False])),
    "bool_minus_bool": lambda m: m.tensor([True]) - m.tensor([False]),
    "bool_minus_int": lambda m: m.tensor([True]) - 1,
    "int_minus_bool": lambda m: 1 - m.tensor([True]),
    "int_tensor_minus_bool_tensor": lambda m: m.tensor([3], dtype=m.int16).sub_(m.tensor([True])),
    "div_rounding_mode_typo": lambda m: m.div(m.tensor([1.0]), 2, rounding_mode="typo"),
    "int_to_negative_python_int": lambda m: m.tensor([3]) ** -2,
    "flip_repeated_dim": lambda m: m.tensor([[1, 2]]).flip((0, 0)),
    "gather_index_out_of_range": lambda m: m.gather(m.tensor([1, 2]), 0, m.tensor([5])),
    "gather_negative_index": lambda m: m.gather(m.tensor([1, 2]), 0, m.tensor([-1])),
    "bool_matmul": lambda m: m.tensor([[True]]) @ m.tensor([[True]]),
    "bool_mm": lambda m: m.mm(m.tensor([[True]]), m.tensor([[False]])),
    "float_alpha_int_add": lambda m: m.add(m.tensor([1]), m.tensor([1]), alpha=0.5),
    "float_alpha_int_sub": lambda m: m.sub(m.tensor([1]), m.tensor([1]), alpha=1.5),
    "float_alpha_int_add_": lambda m: m.tensor([1]).add_(m.tensor([1]), alpha=0.5),
    "float_alpha_int_scalar": lambda m: m.add(m.tensor([1]), 2, alpha=0.5),
    "bce_target_above_one": lambda m: m.nn.functional.binary_cross_entropy(
        m.tensor([0.5]), m.tensor([2.0])),
    "bce_target_negative": lambda m: m.nn.functional.binary_cross_entropy(
        m.tensor([0.5]), m.tensor([-0.5])),
    "bitwise_and_float": lambda m: m.tensor([5.0]) & 1,
    "invert_float": lambda m: ~m.tensor([5.0]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_refusal_has_pytorchs_exception_type(name):
    with pytest.raises(Exception) as ref:
        CASES[name](torch)
    with pytest.raises(ref.type) as ours:
        CASES[name](cr)
    assert type(ours.value).__module__.split(".")[0] in ("builtins", "chainrule")
    assert "numpy" not in str(ours.value).lower()


@pytest.mark.parametrize("case", [
    lambda m: m.add(m.tensor([True]), m.tensor([True]), alpha=2),
    lambda m: m.add(m.tensor([1.0]), m.tensor([1.0]), alpha=2),
    lambda m: m.add(m.tensor([1]), m.tensor([1.5]), alpha=2),
    lambda m: m.sub(m.tensor([5], dtype=m.int8), m.tensor([100], dtype=m.int8), alpha=2),
])
def test_alpha_keeps_the_promoted_dtype(case):
    ours, ref = case(cr), case(torch)
    assert ours.tolist() == ref.tolist()
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]


BITWISE = [
    lambda m: m.tensor([5, -5, 7]) & 3,
    lambda m: 3 | m.tensor([4, -8], dtype=m.int8),
    lambda m: m.tensor([True, False]) ^ m.tensor([3, 1]),
    lambda m: ~m.tensor([5, 0], dtype=m.uint8),
    lambda m: m.tensor([5, -5]) << 2,
    lambda m: 2 << m.tensor([5, 70, -1]),
    lambda m: m.tensor([-5, 5]) >> m.tensor([1, 70]),
    lambda m: m.tensor([200], dtype=m.uint8) << 1,
    lambda m: m.tensor([100], dtype=m.int8) << 2,
    lambda m: m.tensor([200], dtype=m.uint8) >> m.tensor([3], dtype=m.int8),
    lambda m: m.bitwise_left_shift(m.tensor([1, 2]), 3),
    lambda m: m.bitwise_right_shift(m.tensor([-128], dtype=m.int8), 9),
    lambda m: m.tensor([5]).bitwise_and_(3),
    lambda m: m.tensor([5]).bitwise_left_shift_(1),
    lambda m: m.tensor([5]).bitwise_right_shift_(1),
    lambda m: m.tensor([True]).bitwise_not_(),
    lambda m: m.tensor([5]).__ilshift__(1),
    lambda m: m.tensor([5]).__irshift__(1),
    lambda m: m.tensor([5], dtype=m.uint8).__ixor__(300),
]


@pytest.mark.parametrize("case", BITWISE)
def test_bitwise_and_shift_ops_match_torch(case):
    ours, ref = case(cr), case(torch)
    assert ours.tolist() == ref.tolist()
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]


@pytest.mark.parametrize("name", ["LongTensor", "FloatTensor", "DoubleTensor", "IntTensor",
                                  "BoolTensor", "ByteTensor", "HalfTensor", "CharTensor",
                                  "ShortTensor"])
def test_legacy_typed_constructors_make_their_dtype(name):
    ours, ref = getattr(cr, name)([1, 0]), getattr(torch, name)([1, 0])
    assert ours.tolist() == ref.tolist()
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    assert tuple(getattr(cr, name)(2, 3).shape) == tuple(getattr(torch, name)(2, 3).shape)
    assert isinstance(ours, getattr(cr, name)) and isinstance(ours, cr.Tensor)
    other = "BoolTensor" if name != "BoolTensor" else "LongTensor"
    assert not isinstance(ours, getattr(cr, other))
    assert isinstance(ref, getattr(torch, name)) and not isinstance(ref, getattr(torch, other))


@pytest.mark.parametrize("expr", ["2 * b", "2 + b", "b * 2", "b + 2", "3 & i"])
def test_number_on_the_left_of_a_commutative_op_lists_the_tensor_first(expr):
    def names(m):
        b = (m.ones(2, requires_grad=True) * 1)
        i = m.tensor([1, 2])
        out = eval(expr, {"b": b, "i": i})
        if out.grad_fn is None:
            return None
        return [type(f).__name__ if f is not None else None
                for f, _ in out.grad_fn.next_functions]
    assert names(cr) == names(torch)


@pytest.mark.parametrize("case", [
    lambda m: m.tensor([5]).bitwise_xor_(2.5),          # the cast refused before the op
    lambda m: m.tensor([5], dtype=m.int8).sub_(False),  # a Python bool is a bool operand
    lambda m: m.tensor([5], dtype=m.uint8) - True,
    lambda m: True - m.tensor([5], dtype=m.uint8),
    lambda m: m.tensor([True]).abs(),
    lambda m: m.tensor([True]).trunc(),
    lambda m: m.tensor([True, False]) // True,
    lambda m: m.tensor([5], dtype=m.int8) // 2 ** 40,  # wraps to 0: division by zero
])
def test_integer_and_bool_refusals_found_by_fuzzing(case):
    with pytest.raises(Exception) as ref:
        case(torch)
    with pytest.raises(ref.type):
        case(cr)


@pytest.mark.parametrize("case", [
    lambda m: m.tensor([5, -7], dtype=m.int8) // -300,
    lambda m: m.tensor([5, -7], dtype=m.int8) % 300,
    lambda m: m.tensor([True, False]).sign(),
])
def test_integer_scalars_wrap_in_floor_divide_and_remainder(case):
    ours, ref = case(cr), case(torch)
    assert ours.tolist() == ref.tolist()
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
