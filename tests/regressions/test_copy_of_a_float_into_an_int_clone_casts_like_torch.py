"""Differential-fuzzing regression (fuzz_seed11_case11003258): chainrule must match PyTorch on this
recipe (forward values, dtypes, shapes and gradients). Found with: tools/fuzz_campaign.py --seed 11 (mixed graph).
First failure seen: only chainrule raised at step 3 ('inplace', 'copy_', 2, ('__value__', 1)): RuntimeError: copy_: result type chainrule.float32 can't be cast to the desired outpu"""
import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402

RECIPE = [
    ('leaf', (1, 1, 1), 'int64', 63564),
    ('leaf', (1,), 'float32', 3353),
    ('clone', 0),
    ('inplace', 'copy_', 2, ('__value__', 1)),
]


def test_copy_of_a_float_into_an_int_clone_casts_like_torch():
    check_recipe(RECIPE)
