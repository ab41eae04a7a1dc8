"""Differential-fuzzing regression (fuzz_seed3_case3010355): chainrule must match PyTorch on this
recipe (forward values, dtypes, shapes and gradients). Found with: tools/fuzz_campaign.py --seed 3 (reduce graph).
First failure seen: grad of leaf 9 ('leaf', (), 'float64', 60320): values differ (max abs err 0.629, scale 1)"""
import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402

RECIPE = [
    ('leaf', (1,), 'float64', 29614),
    ('reduce', 'prod', 0, 0, False),
    ('reduce', 'min_values', 1, -1, False),
    ('reduce', 'var', 2, -1, False),
    ('binary', 'maximum', 3, 2),
    ('reduce', 'softmax', 0, 0, True),
    ('reduce', 'amax', 0, (0,), True),
    ('reduce', 'norm_inf', 3, None, True),
    ('reduce', 'std', 4, None, True),
    ('leaf', (), 'float64', 60320),
    ('binary', 'minimum', 9, 3),
]


def test_minimum_of_a_scalar_and_a_nan_var_routes_gradient_like_torch():
    check_recipe(RECIPE)
