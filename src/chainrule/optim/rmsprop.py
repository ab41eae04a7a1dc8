"""RMSprop with optional centring, momentum, weight decay and maximisation, step for
step as torch.optim.RMSprop."""
import numpy as np

from ..tensors.tensor import Tensor
from ._kernels import add_scaled, addcmul_square_, effective_grad, lerp_
from .optimizer import Optimizer, _step_counter


class RMSprop(Optimizer):
    _elementwise = True

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        super()._validate_group(group)
        if group["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if group["alpha"] < 0.0:
            raise ValueError(f"Invalid alpha value: {group['alpha']}")

    def _update(self, param, grad, state, group):
        p = param._data
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        momentum = float(group["momentum"])
        if not state:
            state["square_avg"] = Tensor._wrap(np.zeros_like(p))
            if momentum > 0:
                state["momentum_buffer"] = Tensor._wrap(np.zeros_like(p))
            if group["centered"]:
                state["grad_avg"] = Tensor._wrap(np.zeros_like(p))
        _step_counter(state)
        g = effective_grad(self, p, grad, float(group["weight_decay"]), group["maximize"])
        square_avg = state["square_avg"]._data
        square_avg *= alpha
        addcmul_square_(square_avg, g, 1.0 - alpha, self)
        avg = self._scratch(p, "avg")
        if group["centered"]:
            grad_avg = state["grad_avg"]._data
            lerp_(grad_avg, g, 1.0 - alpha, self)
            # square_avg - grad_avg**2, the variance estimate
            np.multiply(grad_avg, -1.0, out=avg)
            avg *= grad_avg
            avg += square_avg
            np.sqrt(avg, out=avg)
        else:
            np.sqrt(square_avg, out=avg)
        avg += eps
        if momentum > 0:
            buf = state["momentum_buffer"]._data
            buf *= momentum
            np.divide(g, avg, out=avg)
            buf += avg
            add_scaled(p, buf, -lr, self)
        else:
            np.divide(g, avg, out=avg)
            add_scaled(p, avg, -lr, self, in_place_ok=True)
