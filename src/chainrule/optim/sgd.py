"""Stochastic gradient descent with optional momentum, dampening, Nesterov momentum,
L2 weight decay and maximisation, step for step as torch.optim.SGD."""
import numpy as np

from ..tensors.tensor import Tensor
from ._kernels import add_scaled, effective_grad
from .optimizer import Optimizer


class SGD(Optimizer):
    _elementwise = True

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        super()._validate_group(group)
        if group["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(self, param, grad, state, group):
        p = param._data
        lr, momentum = float(group["lr"]), float(group["momentum"])
        g = effective_grad(self, p, grad, float(group["weight_decay"]), group["maximize"])
        g_is_scratch = g is not grad
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # the first step seeds the buffer with the gradient itself (no dampening)
                buf = state["momentum_buffer"] = Tensor._wrap(np.array(g, copy=True))
            else:
                b = buf._data
                b *= momentum
                add_scaled(b, g, 1.0 - float(group["dampening"]), self)
            if group["nesterov"]:
                out = self._scratch(p, "nesterov")
                np.multiply(buf._data, momentum, out=out)
                out += g
                g, g_is_scratch = out, True
            else:
                g, g_is_scratch = buf._data, False
        add_scaled(p, g, -lr, self, in_place_ok=g_is_scratch)
