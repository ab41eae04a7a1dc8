"""Regressions the `view_inplace` fuzz profile found: in-place ops on views of non-leaf
tensors while the graph records. Each recipe differed from PyTorch before its fix."""
import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402


def test_clone_of_expanded_permuted_view_is_contiguous_so_flatten_is_a_view():
    # the clone kept NumPy's memory order (stride-0 dim innermost), so flatten copied and
    # the in-place division never reached the clone
    check_recipe([
        ("leaf", (1, 4), "float64", 52862),
        ("clone", 0),
        ("view_of", 1, "expand", ((1, 2, 4),)),
        ("view_of", 2, "permute", ((1, 2, 0),)),
        ("clone", 3),
        ("view_of", 4, "flatten", ()),
        ("view_of", 5, "transpose", (0, -1)),
        ("inplace_grad", "div_", 6, (-0.5,)),
    ])


def test_zero_on_expanded_view_is_allowed_and_its_backward_refused():
    check_recipe([
        ("leaf", (2, 1, 1), "float64", 41496),
        ("clone", 0),
        ("view_of", 1, "view", ((2, 1, 1),)),
        ("view_of", 2, "expand", ((2, 3, 1),)),
        ("inplace_grad", "zero_", 3, ()),
    ])


def test_copy_over_a_whole_clone_gives_the_old_values_a_zero_gradient():
    # the copy's history skipped the old values, so the cloned leaf had no .grad at all
    check_recipe([
        ("leaf", (4, 1), "float64", 54166),
        ("leaf", (4, 1), "float32", 46906),
        ("clone", 1),
        ("inplace_grad", "copy_", 2, ("__value__", 0)),
    ])


def test_setitem_of_one_element_tensor_into_a_single_position():
    # NumPy refuses a (1,) value for a 0-d target; PyTorch drops leading size-1 dims
    check_recipe([
        ("leaf", (1,), "float32", 54018),
        ("clone", 0),
        ("view_of", 1, "slice", ((slice(None, 1, 2),),)),
        ("inplace_grad", "setitem", 2, ("__value__", 0, (-1,))),
    ])


def test_setitem_on_a_non_repeating_region_of_an_expanded_view():
    # the whole expanded view was checked for overlap, not the written region
    check_recipe([
        ("leaf", (1, 1), "float32", 35119),
        ("unary", "log2", 0),
        ("clone", 1),
        ("view_of", 2, "select", (-2, -1)),
        ("view_of", 3, "expand", ((2,),)),
        ("inplace_grad", "setitem", 4, ((slice(-1, None, 2),), 3)),
    ])


def test_setitem_on_an_empty_region_of_an_expanded_view():
    check_recipe([
        ("leaf", (1, 1, 1), "float64", 38121),
        ("clone", 0),
        ("inplace_grad", "mul_", 1, (2,)),
        ("reduce", "softmax", 2, 0, True),
        ("clone", 3),
        ("view_of", 4, "expand", ((1, 1, 3),)),
        ("inplace_grad", "setitem", 5,
         ((slice(None, 0, 1), None, slice(-1, None, 1), slice(None, -1, 1)), 2)),
    ])


def test_copy_of_an_expanded_view_onto_itself_changes_nothing():
    import chainrule as cr
    import torch
    out = []
    for m in (cr, torch):
        a = m.tensor([[1.0], [2.0]]).expand(2, 3)
        a.copy_(a)
        out.append(a.tolist())
    assert out[0] == out[1]


def test_clone_of_expanded_view_orders_dims_by_stride_as_pytorch():
    # a C-contiguous clone was still not PyTorch's layout ((16, 1, 4) here), so flatten
    # of the clone copied and zero_ missed it
    check_recipe([
        ("leaf", (4, 1, 4), "float64", 12015),
        ("clone", 0),
        ("view_of", 1, "expand", ((4, 2, 4),)),
        ("view_of", 2, "permute", ((1, 2, 0),)),
        ("clone", 3),
        ("view_of", 4, "flatten", ()),
        ("inplace_grad", "zero_", 5, ()),
    ])


def test_unbind_piece_used_after_another_view_of_its_base_changed_is_refused():
    # the piece re-derived its history silently where PyTorch refuses it
    check_recipe([
        ("leaf", (2, 1), "float32", 28803),
        ("clone", 0),
        ("view_of", 1, "unbind", (-2, 1)),
        ("view_of", 1, "flatten", ()),
        ("inplace_grad", "div_", 3, (-0.5,)),
        ("view_of", 2, "flatten", ()),
    ])
