"""Intended differences on long float16 reductions, excused in tests/fuzz/fuzz_known.py:
chainrule's own answers, and the excuses' reach on fixed values."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")
from fuzz_known import excused  # noqa: E402


def test_float16_log_softmax_of_a_long_row_rounds_once():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (2, 35000)).astype(np.float16)
    got = cr.log_softmax(cr.tensor(x), -1).numpy()
    exact = torch.log_softmax(torch.tensor(x).double(), -1).numpy()
    assert got.dtype == np.float16
    assert np.all(np.abs(got - exact) <= np.spacing(np.abs(exact).astype(np.float16)))
    assert np.mean(got == exact.astype(np.float16)) > 0.99


def test_fuzz_comparison_excuses_float16_log_softmax_only_where_chainrule_is_the_rounded_exact():
    x = torch.tensor([[0.5, 1.0, -1.0]], dtype=torch.float16)
    recipe = [("leaf", (1, 3), "float16", 0), ("reduce", "log_softmax", 0, -1, True)]
    exact = torch.log_softmax(x.double(), -1).numpy().astype(np.float16)
    off = exact.copy()
    off[0, 1] = np.nextafter(off[0, 1], np.float16(0))
    mask = excused(recipe, 1, [x, None], exact, off)
    assert mask.tolist() == [[False, True, False]]
    assert excused(recipe, 1, [x, None], off, exact) is None      # chainrule's is not exact
    assert excused(recipe, 1, [x.float(), None], exact.astype(np.float32), off.astype(np.float32)) is None


def test_long_float16_product_that_overflows_then_underflows_stays_inf_in_order():
    values = np.array([1000.0] * 4 + [1e-4] * 40, np.float16)
    assert cr.prod(cr.tensor(values)).item() == float("inf")


def test_fuzz_comparison_excuses_a_product_only_for_torchs_nan_against_inf_or_zero():
    recipe = [("leaf", (3,), "float16", 0), ("reduce", "prod", 0, -1, True)]
    x = torch.tensor([1000.0, 1e-4, 2.0], dtype=torch.float16)
    nan = np.array([np.nan], np.float16)
    assert excused(recipe, 1, [x, None], np.array([np.inf], np.float16), nan).tolist() == [True]
    assert excused(recipe, 1, [x, None], np.array([0.0], np.float16), nan).tolist() == [True]
    assert excused(recipe, 1, [x, None], np.array([3.0], np.float16), nan) is None
    with_nan = torch.tensor([np.nan, 1.0, 2.0], dtype=torch.float16)
    assert excused(recipe, 1, [with_nan, None], np.array([np.inf], np.float16), nan) is None


def test_long_float16_sum_is_the_exact_sum_rounded_once():
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, 100_000).astype(np.float16)
    exact = np.float16(x.astype(np.float64).sum())
    assert cr.tensor(x).sum().item() == float(exact)
    big = np.full(70_000, 300.0, np.float16)          # the exact total overflows: inf
    assert cr.tensor(big).sum().item() == float("inf")


def test_fuzz_comparison_excuses_a_float16_sum_only_where_chainrule_is_exact():
    x = torch.tensor([0.5, 0.25, 1.0], dtype=torch.float16)
    recipe = [("leaf", (3,), "float16", 0), ("reduce", "sum", 0, None, False)]
    exact, other = np.array(1.75, np.float16), np.array(1.875, np.float16)
    assert excused(recipe, 1, [x, None], exact, other).tolist() is True
    assert excused(recipe, 1, [x, None], other, exact) is None


def test_float16_log_softmax_of_a_row_whose_exponential_sum_passes_65504_is_finite():
    row = cr.zeros(70_000, dtype=cr.float16)
    got = cr.log_softmax(row, 0).numpy()
    assert np.all(got == np.float16(-np.log(70_000)))


def test_remainder_with_a_huge_quotient_is_a_valid_remainder_of_its_own_operands():
    a, b = cr.tensor([1.9449267e29, 4.1231092e07]), cr.tensor([1.9628587, -1.1916597])
    got = (a % b).numpy()
    assert np.array_equal(got, np.remainder(a.numpy(), b.numpy()))
    assert np.all(np.abs(got) <= np.abs(b.numpy())) and np.all(np.sign(got) == np.sign(b.numpy()))


def test_fuzz_comparison_excuses_a_remainder_only_past_the_floats_integer_range():
    a, b = torch.tensor([1.9449267e29, 6.0]), torch.tensor([1.9628587, 4.0])
    recipe = [("leaf", (2,), "float32", 0), ("leaf", (2,), "float32", 1),
              ("int_binary", "remainder", 0, 1, None, False)]
    got = np.array([0.65, 2.5], np.float32)
    want = np.array([0.47, 2.0], np.float32)
    assert excused(recipe, 2, [a, b, None], got, want).tolist() == [True, False]
    outside = np.array([2.5, 2.5], np.float32)       # not a remainder of y: never excused
    assert excused(recipe, 2, [a, b, None], outside, want) is None


def test_fuzz_comparison_excuses_dtype_reductions_as_the_plain_ones():
    x = torch.full((2, 3), 1e30)
    mean32 = float(x.mean())    # PyTorch's two-pass float32 std, from its own rounded mean
    want = np.float32(np.sqrt(np.sum((x.numpy().astype(np.float64) - mean32) ** 2) / 5))
    got = np.array(0.0, np.float32)
    plain = [("leaf", (2, 3), "float32", 0), ("reduce", "std", 0, None, False)]
    typed = [("leaf", (2, 3), "float32", 0), ("reduce_dtype", "std", 0, None, False, None)]
    as_plain = excused(plain, 1, [x, None], got, np.array(want))
    as_typed = excused(typed, 1, [x, None], got, np.array(want))
    assert (as_plain is None) == (as_typed is None)
    zero_d = torch.tensor(1e30)
    recipe = [("leaf", (), "float32", 0), ("reduce_dtype", "norm", 0, 0, False, None)]
    assert excused(recipe, 1, [zero_d, None], np.array(1e30, np.float32),
                   np.array(np.inf, np.float32)) is not None
