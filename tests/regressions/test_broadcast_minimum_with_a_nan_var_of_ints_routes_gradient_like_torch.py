"""Differential-fuzzing regression (fuzz_seed3_case3002749): chainrule must match PyTorch on this
recipe (forward values, dtypes, shapes and gradients). Found with: tools/fuzz_campaign.py --seed 3 (elementwise graph).
First failure seen: grad of leaf 3 ('leaf', (1, 1, 1, 4), 'float32', 28965): values differ (max abs err 1.31, scale 1.31)"""
import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402

RECIPE = [
    ('leaf', (1, 1, 1, 4), 'int32', 22951),
    ('unary', 'log1p', 0),
    ('reduce', 'var', 1, 2, True),
    ('leaf', (1, 1, 1, 4), 'float32', 28965),
    ('binary', 'minimum', 2, 3),
]


def test_broadcast_minimum_with_a_nan_var_of_ints_routes_gradient_like_torch():
    check_recipe(RECIPE)
