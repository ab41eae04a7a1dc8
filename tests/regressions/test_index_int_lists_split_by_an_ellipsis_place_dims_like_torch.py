"""Differential-fuzzing regression (fuzz_seed3_case3009762): chainrule must match PyTorch on this
recipe (forward values, dtypes, shapes and gradients). Found with: tools/fuzz_campaign.py --seed 3 (mixed graph).
First failure seen: value 1 ('index', 0, (slice(None, None, 1), None, None, None, ('ints', [-1, -1, -1]), Ellipsis, ('ints', [1]))): shape (3, 1, 1, 1, 1) != torch (1, 1, 1, 1, 3)"""
import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402

RECIPE = [
    ('leaf', (1, 1, 3), 'float32', 36780),
    ('index', 0, (slice(None, None, 1), None, None, None, ('ints', [-1, -1, -1]), Ellipsis, ('ints', [1]))),
]


def test_index_int_lists_split_by_an_ellipsis_place_dims_like_torch():
    check_recipe(RECIPE)
