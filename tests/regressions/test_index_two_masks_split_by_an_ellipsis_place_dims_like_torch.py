"""Differential-fuzzing regression (fuzz_seed3_case3013784): chainrule must match PyTorch on this
recipe (forward values, dtypes, shapes and gradients). Found with: tools/fuzz_campaign.py --seed 3 (shape_index graph).
First failure seen: value 3 ('index', 2, (None, slice(0, 2, 2), ('mask', [True]), Ellipsis, ('mask', [True, True, True, False]))): shape (3, 1, 1) != torch (1, 1, 3)"""
import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402

RECIPE = [
    ('leaf', (1, 3), 'int32', 23284),
    ('gather', 0, 1, [[1, 2, 1, 1]]),
    ('expand', 1, (1, 1, -1)),
    ('index', 2, (None, slice(0, 2, 2), ('mask', [True]), Ellipsis, ('mask', [True, True, True, False]))),
]


def test_index_two_masks_split_by_an_ellipsis_place_dims_like_torch():
    check_recipe(RECIPE)
