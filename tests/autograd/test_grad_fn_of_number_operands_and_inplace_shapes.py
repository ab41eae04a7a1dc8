"""grad_fn as PyTorch builds it where a Python number is an operand (its overload takes
the number as an argument, so next_functions lists the tensor alone, or the number is
wrapped into a tensor and listed as None) and for the in-place shape methods, whose nodes
PyTorch names apart from the out-of-place ones."""
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

EXPRESSIONS = [
    "2 - b", "2.5 - b", "m.rsub(b, 2)", "m.sub(2, b)", "2 / b", "m.div(2, b)", "2 ** b",
    "m.pow(2, b)", "b ** 2", "m.pow(b, 2)", "b % 2", "m.remainder(b, 2)", "m.remainder(b, b)",
    "m.fmod(b, 2)", "m.fmod(b, b)", "b - 2", "b / 2", "2 + b", "2 * b",
    "m.sub(b, 2, alpha=2)", "m.div(b, 2, rounding_mode='floor')",
    "m.div(b, b, rounding_mode='trunc')", "2 // b", "b // 2", "m.floor_divide(b, b)",
    "2 % b",
]


def _structure(m, expr):
    b = m.ones(2, requires_grad=True) * 1
    out = eval(expr, {"b": b, "m": m})
    return (type(out.grad_fn).__name__,
            [type(f).__name__ if f is not None else None for f, _ in out.grad_fn.next_functions])


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_number_operand_has_torchs_node_and_next_functions(expr):
    assert _structure(cr, expr) == _structure(torch, expr)


@pytest.mark.parametrize("expr", [
    "b.clone().unsqueeze_(0)", "b.clone().unsqueeze_(0).squeeze_()",
    "b.clone().unsqueeze_(0).squeeze_(0)", "b.clone().unsqueeze_(0).squeeze_((0, 1))",
    "b.clone().unsqueeze_(0).t_()", "b.clone().unsqueeze_(0).transpose_(0, 1)",
    "b.clone().unsqueeze_(0).swapaxes_(0, 1)", "b.clone().unsqueeze_(0).swapdims_(1, 0)",
    "b.unsqueeze(0).squeeze((0, 1))", "b.unsqueeze(0).squeeze(0)",
])
def test_inplace_shape_methods_name_their_nodes_as_torch(expr):
    assert _structure(cr, expr) == _structure(torch, expr)


def test_inplace_shape_methods_keep_the_gradient_of_their_out_of_place_forms():
    grads = []
    for m in (torch, cr):
        x = m.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        y = x.clone().t_().unsqueeze_(0).transpose_(0, 2).squeeze_()
        (y * m.tensor([1.0, 2.0, 3.0])).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]
