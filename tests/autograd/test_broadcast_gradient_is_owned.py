"""A gradient summed over broadcast leading axes (a bias's) is a whole array of its own,
so backward keeps it as `.grad` without copying it, eagerly and in a compiled replay, and
its values are PyTorch's."""
import numpy as np
import pytest
import torch

import chainrule


def _linear_pair(dtype):
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((3, 4)), rng.standard_normal(3)
    x = rng.standard_normal((5, 4))
    ours = chainrule.nn.Linear(4, 3).to(getattr(chainrule, dtype))
    theirs = torch.nn.Linear(4, 3).to(getattr(torch, dtype))
    for m, lib in ((ours, chainrule), (theirs, torch)):
        with lib.no_grad():
            m.weight.copy_(lib.tensor(w, dtype=getattr(lib, dtype)))
            m.bias.copy_(lib.tensor(b, dtype=getattr(lib, dtype)))
    return ours, theirs, x


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_bias_grad_is_its_own_array_with_torch_values(dtype):
    ours, theirs, x = _linear_pair(dtype)
    (ours(chainrule.tensor(x, dtype=getattr(chainrule, dtype))) ** 2).sum().backward()
    (theirs(torch.tensor(x, dtype=getattr(torch, dtype))) ** 2).sum().backward()
    grad = ours.bias.grad._data
    assert grad.base is None and grad.shape == (3,)
    tol = 1e-2 if dtype == "float16" else 1e-5
    np.testing.assert_allclose(grad.astype(np.float64), theirs.bias.grad.double().numpy(),
                               rtol=tol, atol=tol)


def test_sum_over_leading_and_inner_axes_keeps_the_shape():
    from chainrule.autograd.engine import sum_to_shape
    g = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(sum_to_shape(g, (4,)), g.sum((0, 1)))
    np.testing.assert_array_equal(sum_to_shape(g, (1, 4)), g.sum((0, 1)).reshape(1, 4))
    np.testing.assert_array_equal(sum_to_shape(g, (3, 1)), g.sum((0, 2)).reshape(3, 1))
    assert sum_to_shape(g, (3, 4)).base is None


def test_compiled_step_replays_no_copy_of_a_bias_gradient():
    net = chainrule.nn.Linear(4, 3)
    opt = chainrule.optim.SGD(net.parameters(), lr=0.1)

    @chainrule.compile
    def step(x):
        opt.zero_grad()
        (net(x) ** 2).sum().backward()
        opt.step()

    x = chainrule.randn(5, 4)
    for _ in range(3):
        step(x)
    for _ in range(3):
        step(x)
    replayed = [e for entries in step._cache.values() for e in entries if e.verified]
    assert replayed
    for entry in replayed:
        assert [s for s in entry.recorder.steps if getattr(s, "func", None) is np.copyto] == []
