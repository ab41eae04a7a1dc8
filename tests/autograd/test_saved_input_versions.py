"""A tensor that does not require grad but is saved for another input's gradient (x in
w * x) is version-checked like any saved tensor, as PyTorch does; inputs an op does not
save (x in w + x) may change freely."""
import pytest

import chainrule as cr
from helpers import requires_torch, torch

MODIFIED = "modified by an inplace operation"


def _both(build):
    """Run `build(lib)` (returns a backward thunk) for chainrule and torch; the error text
    or None for each."""
    results = []
    for lib in (cr, torch):
        thunk = build(lib)
        try:
            thunk()
            results.append(None)
        except RuntimeError as err:
            results.append(str(err))
    return results


@requires_torch
def test_modifying_a_constant_saved_by_mul_before_backward_raises_like_torch():
    def build(lib):
        w, x = lib.tensor([2.0], requires_grad=True), lib.tensor([1.0])
        y = (w * x).sum()
        x.add_(5)
        return y.backward
    ours, theirs = _both(build)
    assert theirs is not None and MODIFIED in theirs
    assert ours is not None and MODIFIED in ours and "input 1" in ours


@requires_torch
def test_modifying_the_input_batch_of_linear_before_backward_raises_like_torch():
    def build(lib):
        w, x = lib.randn(3, 2, requires_grad=True), lib.randn(4, 2)
        y = lib.nn.functional.linear(x, w).sum()
        x.mul_(2)
        return y.backward
    ours, theirs = _both(build)
    assert theirs is not None and ours is not None and MODIFIED in ours


@requires_torch
def test_modifying_a_constant_that_add_does_not_save_is_allowed_like_torch():
    grads = []
    for lib in (cr, torch):
        w, x = lib.tensor([2.0], requires_grad=True), lib.tensor([1.0])
        y = (w + x).sum()
        x.add_(5)
        y.backward()
        grads.append(float(w.grad[0]))
    assert grads == [1.0, 1.0]
