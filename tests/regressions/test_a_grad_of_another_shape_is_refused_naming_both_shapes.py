"""A `.grad` assigned with another shape than its tensor (PyTorch refuses the assignment
itself: "... the gradient and the tensor are the same size"): backward, eagerly and while a
compiled step records, refuses to accumulate into it with an error naming both shapes
(it raised NumPy's broadcast errors from deep inside), and an
optimizer refuses to step with it (fused Adam read past the smaller array)."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def test_torch_refuses_such_a_grad():
    w = torch.ones(4, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="the same size"):
        w.grad = torch.ones(2, 3)


@pytest.mark.parametrize("shape", [(2, 3), (1, 3), (12,)])
def test_backward_refuses_a_grad_of_another_shape_naming_both(shape):
    w = cr.ones(4, 3, requires_grad=True)
    w.grad = cr.ones(*shape)
    with pytest.raises(RuntimeError, match=rf"shape \(4, 3\) has a \.grad of shape "
                                           rf"{__import__('re').escape(str(shape))}"):
        (w * 2).sum().backward()
    assert w.grad.shape == shape and np.all(w.grad.numpy() == 1)


def test_a_compiled_step_refuses_it_too():
    w = cr.ones(4, 3, requires_grad=True)
    step = cr.compile(lambda x: (w * x).sum().backward())
    w.grad = cr.ones(1, 3)
    with pytest.raises(RuntimeError, match=r"has a \.grad of shape \(1, 3\)"):
        step(cr.ones(4, 3))


@pytest.mark.parametrize("fused", [False, True])
def test_an_optimizer_refuses_to_step_with_it(fused):
    if fused:
        pytest.importorskip("numba")
    params = [cr.ones(4, 3, requires_grad=True), cr.ones(3, requires_grad=True)]
    opt = cr.optim.Adam(params, lr=0.1, fused=fused)
    for _ in range(2):
        for p in params:
            p.grad = cr.ones_like(p)
        opt.step()
    params[0].grad = cr.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"gradient of shape \(2, 3\) does not match"):
        opt.step()
