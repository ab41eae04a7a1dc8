"""Differential-fuzzing regression (fuzz_seed11_case11000571): chainrule must match PyTorch on this
recipe (forward values, dtypes, shapes and gradients). Found with: tools/fuzz_campaign.py --seed 11 (reduce graph).
First failure seen: grad of leaf 0 ('leaf', (2, 3, 2, 4), 'float32', 2906): NaN positions differ"""
import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402

RECIPE = [
    ('leaf', (2, 3, 2, 4), 'float32', 2906),
    ('reduce', 'max_all', 0, None, False),
    ('reduce', 'std', 1, None, True),
]


def test_std_of_the_max_of_all_values_gives_torchs_nan_gradient():
    check_recipe(RECIPE)
