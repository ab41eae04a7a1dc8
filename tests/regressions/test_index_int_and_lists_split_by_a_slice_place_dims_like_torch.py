"""Differential-fuzzing regression (fuzz_seed3_case3025764): chainrule must match PyTorch on this
recipe (forward values, dtypes, shapes and gradients). Found with: tools/fuzz_campaign.py --seed 3 (shape_index graph).
First failure seen: value 2 ('index', 1, (2, slice(-1, None, 2), ('ints', [-1]), Ellipsis, ('ints', [-1, 0]))): shape (2, 1) != torch (1, 2)"""
import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402

RECIPE = [
    ('leaf', (3, 1, 2, 1), 'float32', 6957),
    ('squeeze', 0, -2),
    ('index', 1, (2, slice(-1, None, 2), ('ints', [-1]), Ellipsis, ('ints', [-1, 0]))),
]


def test_index_int_and_lists_split_by_a_slice_place_dims_like_torch():
    check_recipe(RECIPE)
