"""Assigning a module or parameter to a name a module already holds replaces it in
place, as PyTorch does: the order of children and parameters stays."""
import torch

import chainrule as cr


def _layout(m, lib):
    seq = m.nn.Sequential(m.nn.Linear(2, 2), m.nn.Sigmoid(), m.nn.Linear(2, 1))
    setattr(seq, "1", m.nn.ReLU())
    lin = m.nn.Linear(1, 1)
    lin.weight = m.nn.Parameter(m.zeros(1, 1))
    return [type(x).__name__ for x in seq], [n for n, _ in lin.named_parameters()]


def test_a_replaced_child_and_parameter_keep_their_place_as_in_pytorch():
    assert _layout(cr, "chainrule") == _layout(torch, "torch")
    assert _layout(cr, "chainrule") == (["Linear", "ReLU", "Linear"], ["weight", "bias"])
