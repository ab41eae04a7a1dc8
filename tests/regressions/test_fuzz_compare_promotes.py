"""Differential-fuzzing regression (fuzz_seed3_case3058987): chainrule must match PyTorch on this
recipe (forward values, dtypes, shapes and gradients). Found with: tools/fuzz_campaign.py --seed 3 (reduce graph).
First failure seen: value 3 ('binary', 'ne', 0, 2): values differ"""
import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402

RECIPE = [
    ('leaf', (), 'float64', 25750),
    ('leaf', (2,), 'float32', 14232),
    ('binary', 'maximum', 1, 0),
    ('binary', 'ne', 0, 2),
]


def test_comparison_uses_pytorch_common_dtype():
    check_recipe(RECIPE)
