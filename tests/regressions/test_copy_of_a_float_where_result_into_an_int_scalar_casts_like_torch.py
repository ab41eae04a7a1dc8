"""Differential-fuzzing regression (fuzz_seed3_case3001194): chainrule must match PyTorch on this
recipe (forward values, dtypes, shapes and gradients). Found with: tools/fuzz_campaign.py --seed 3 (mixed graph).
First failure seen: only chainrule raised at step 7 ('inplace', 'copy_', 6, ('__value__', 5)): RuntimeError: copy_: result type chainrule.float32 can't be cast to the desired outpu"""
import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402

RECIPE = [
    ('leaf', (), 'int64', 51038),
    ('leaf', (), 'bool', 37075),
    ('masked_fill', 0, 1, 0.0),
    ('leaf', (), 'bool', 19753),
    ('where', 3, 0, 2),
    ('where', 3, 2, (0.5,)),
    ('clone', 4),
    ('inplace', 'copy_', 6, ('__value__', 5)),
]


def test_copy_of_a_float_where_result_into_an_int_scalar_casts_like_torch():
    check_recipe(RECIPE)
