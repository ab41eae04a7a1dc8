"""Differential-fuzzing regression (fuzz_seed3_case3015020): chainrule must match PyTorch on this
recipe (forward values, dtypes, shapes and gradients). Found with: tools/fuzz_campaign.py --seed 3 (shape_index graph).
First failure seen: only chainrule raised at step 4 ('gather', 3, 1, [[1, 2, 1, 2]]): IndexError: gather: index 2 is out of bounds for dimension 1 with size 1"""
import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402

RECIPE = [
    ('leaf', (4,), 'float32', 16200),
    ('unsqueeze', 0, -1),
    ('index', 1, (None, ('ints', [-3]), Ellipsis, ('ints', [0, -1, -1]))),
    ('binary', 'gt', 2, 2),
    ('gather', 3, 1, [[1, 2, 1, 2]]),
]


def test_gather_after_lists_split_by_an_ellipsis_matches_torch():
    check_recipe(RECIPE)
