"""In-place ops compute in the promoted dtype and cast into `self` as PyTorch does
(integers wrap around; floats never go into integer tensors), integer powers truncate,
and an in-place op refuses an input that partly overlaps what it writes."""
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _both(fn):
    return fn(cr), fn(torch)


@pytest.mark.parametrize("case", [
    lambda m: m.tensor([250, 3], dtype=m.uint8).add_(m.tensor([10, -5], dtype=m.int8)),
    lambda m: m.tensor([100, -100], dtype=m.int8).mul_(m.tensor([3, 3], dtype=m.int16)),
    lambda m: m.tensor([2 ** 31 - 1], dtype=m.int32).add_(m.tensor([1])),
    lambda m: m.tensor([1.5], dtype=m.float16).add_(m.tensor([70000.0], dtype=m.float64)),
    lambda m: m.tensor([3, 4], dtype=m.int16).add_(m.tensor([True, False])),
    lambda m: m.tensor([200], dtype=m.uint8).add_(300),
])
def test_inplace_result_casts_into_self_wrapping_integers(case):
    ours, ref = _both(case)
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    assert ours.tolist() == ref.tolist()


@pytest.mark.parametrize("case", [
    lambda m: m.tensor([1], dtype=m.int8).add_(m.tensor([1.5])),
    lambda m: m.tensor([1], dtype=m.int8).add_(1.5),
    lambda m: m.tensor([True]).add_(m.tensor([1])),
])
def test_inplace_refuses_float_into_int_and_number_into_bool(case):
    with pytest.raises(RuntimeError):
        case(torch)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        case(cr)


@pytest.mark.parametrize("case", [
    lambda m: m.tensor([2, 1, -1, 0, -1, 3]) ** m.tensor([-2, -2, -3, -1, -2, -1]),
    lambda m: 2 ** m.tensor([-2, 1]),
    lambda m: m.tensor([2], dtype=m.uint8) ** m.tensor([-1], dtype=m.int8),
    lambda m: m.pow(m.tensor([2, 3]), m.tensor(-1)),
])
def test_integer_to_negative_integer_tensor_power_truncates(case):
    ours, ref = _both(case)
    assert ours.tolist() == ref.tolist()
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]


@pytest.mark.parametrize("case", [lambda m: m.tensor([2]) ** -2,
                                  lambda m: m.pow(m.tensor([2], dtype=m.int8), -1),
                                  lambda m: m.tensor([2]).pow_(-1)])
def test_integer_tensor_to_negative_python_int_raises_runtime_error(case):
    with pytest.raises(RuntimeError):
        case(torch)
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        case(cr)


@pytest.mark.parametrize("case", [
    lambda m, a: a[1:].add_(a[:-1]),
    lambda m, a: a[:-1].mul_(a[1:]),
    lambda m, a: a[1:].copy_(a[:-1]),
    lambda m, a: a[2:].sub_(a[:3]),
    lambda m, a: m.neg(a[:-1], out=a[1:]),
])
def test_inplace_refuses_partially_overlapping_input(case):
    with pytest.raises(RuntimeError):
        case(torch, torch.arange(5.0))
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        case(cr, cr.arange(5.0))


@pytest.mark.parametrize("case", [
    lambda m, a: a.add_(a),                 # the same elements: fine
    lambda m, a: a[::2].add_(a[1::2]),      # interleaved, not dense: PyTorch does not check
    lambda m, a: a[:2].add_(a[4:]),         # disjoint
])
def test_inplace_allows_full_or_disjoint_or_strided_inputs(case):
    ours, ref = case(cr, cr.arange(6.0)), case(torch, torch.arange(6.0))
    assert ours.tolist() == ref.tolist()
