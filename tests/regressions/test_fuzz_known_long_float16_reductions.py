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
