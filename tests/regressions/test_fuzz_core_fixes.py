"""Regressions for core bugs the differential fuzzer found (each recipe failed before
its fix: chainrule raised, or its dtype/shape/values differed from PyTorch)."""
import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402

RECIPES = {
    # clamp of an integer tensor with float bounds promotes to float (was kept int64)
    "clamp_int_float_bounds": [("leaf", (3,), "int64", 0), ("unary", "clamp_both", 0)],
    # reductions with dim=0/-1 on a 0-d tensor (raised AxisError / IndexError)
    "var_0d_dim": [("leaf", (), "float64", 1), ("reduce", "var", 0, 0, False)],
    "amin_0d_keepdim": [("leaf", (), "float32", 2), ("reduce", "amin", 0, -1, True)],
    "sum_0d_tuple": [("leaf", (), "float32", 3), ("reduce", "sum", 0, (0,), True)],
    "prod_0d": [("leaf", (), "float64", 4), ("reduce", "prod", 0, 0, False)],
    "norm_0d": [("leaf", (), "float64", 5), ("reduce", "norm", 0, -1, False)],
    "logsumexp_0d": [("leaf", (), "float32", 6), ("reduce", "logsumexp", 0, 0, True)],
    "cumsum_0d": [("leaf", (), "float64", 7), ("reduce", "cumsum", 0, 0, False)],
    # an int and an index array separated by ... / None: PyTorch selects with the int
    # first, NumPy moved the advanced dimensions to the front (shape (4,1,1) not (1,1,4))
    "int_then_array_index": [("leaf", (3, 1), "float64", 8),
                             ("index", 0, (2, Ellipsis, None, ("ints", [-1, -1, 0, -1])))],
    # x[i, j] of a 2-d tensor is a 0-d view in PyTorch; it was a NumPy scalar copy, so
    # an in-place update did not reach the base tensor
    "full_int_index_is_view": [("leaf", (2, 3), "float32", 9), ("clone", 0),
                               ("index", 1, (1, 2)), ("inplace", "mul_", 2, (3,)),
                               ("binary", "mul", 1, 0)],
    "empty_index_is_view": [("leaf", (), "float64", 10), ("clone", 0), ("index", 1, ()),
                            ("inplace", "add_", 2, (2,)), ("binary", "mul", 1, 0)],
}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_fixed_core_bug(name):
    check_recipe(RECIPES[name])
