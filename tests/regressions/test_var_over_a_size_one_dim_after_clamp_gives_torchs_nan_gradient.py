"""Differential-fuzzing regression (fuzz_seed3_case3000273): chainrule must match PyTorch on this
recipe (forward values, dtypes, shapes and gradients). Found with: tools/fuzz_campaign.py --seed 3 (elementwise graph).
First failure seen: grad of leaf 0 ('leaf', (4, 1), 'float64', 37698): NaN positions differ"""
import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402

RECIPE = [
    ('leaf', (4, 1), 'float64', 37698),
    ('unary', 'clamp_lo', 0),
    ('reduce', 'var', 1, -1, True),
]


def test_var_over_a_size_one_dim_after_clamp_gives_torchs_nan_gradient():
    check_recipe(RECIPE)
