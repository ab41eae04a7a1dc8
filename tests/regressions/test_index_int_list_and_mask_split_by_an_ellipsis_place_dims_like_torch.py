"""Differential-fuzzing regression (fuzz_seed3_case3013416): chainrule must match PyTorch on this
recipe (forward values, dtypes, shapes and gradients). Found with: tools/fuzz_campaign.py --seed 3 (shape_index graph).
First failure seen: value 1 ('index', 0, (None, -4, slice(None, None, 2), None, ('ints', [0, -1]), Ellipsis, ('mask', [True, True]))): shape (2, 1, 1, 1) != torch (1, 1, 1, 2)"""
import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402

RECIPE = [
    ('leaf', (4, 1, 1, 2), 'float32', 15193),
    ('index', 0, (None, -4, slice(None, None, 2), None, ('ints', [0, -1]), Ellipsis, ('mask', [True, True]))),
]


def test_index_int_list_and_mask_split_by_an_ellipsis_place_dims_like_torch():
    check_recipe(RECIPE)
