"""Adam and AdamW (decoupled weight decay), with AMSGrad and maximisation, step for step
as torch.optim.Adam / AdamW: bias corrections are computed in Python floats and the
update is param -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)."""
import numpy as np

from ..tensors.tensor import Tensor
from . import fused as numba_loops
from ._kernels import addcmul_square_, effective_grad, lerp_
from .optimizer import Optimizer, _step_counter


class Adam(Optimizer):
    _elementwise = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        # fused=True: the update as one numba loop, as PyTorch's fused CPU kernel (a
        # max-autotune compiled step switches it on for the optimizers it steps)
        self._fused_loops = bool(fused) and numba_loops.available("Adam(fused=True)")

    def _validate_group(self, group):
        super()._validate_group(group)
        for i, beta in enumerate(group["betas"]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")

    def _update(self, param, grad, state, group):
        if not self._fused_update(param._data, (param._data,), (grad,), state, group):
            param._data += self._delta(param._data, grad, state, group)

    def _fused_update(self, like, params, grads, state, group):
        """The whole step as one compiled loop over `params` (laid end to end in the state
        buffers, which have `like`'s shape), updated in place: the same bits as `_delta`
        (optim/fused.py). False, with nothing changed, where the loop does not apply or a value
        would be NaN (then `_delta` runs)."""
        dtype = like.dtype
        if not self._fused_loops or group["amsgrad"] or not numba_loops.usable(dtype):
            return False
        if not state:
            state["exp_avg"] = Tensor._wrap(np.zeros_like(like))
            state["exp_avg_sq"] = Tensor._wrap(np.zeros_like(like))
        views = self.__dict__.setdefault("_fused_views", {}).get(id(state))
        if views is None:  # per state dict: one per parameter, or one per flat group
            views = self._fused_views[id(state)] = (numba_loops.Views(), numba_loops.Views(),
                                                    numba_loops.Views(), state)
        ps, gs = views[0].of(params, dtype), views[1].of(grads, dtype)
        mv = views[2].of((state["exp_avg"]._data, state["exp_avg_sq"]._data), dtype)
        if ps is None or gs is None or mv is None:
            return False
        step = state.get("step")
        upcoming = 1.0 if step is None else float(step._data + np.float32(1))
        if not numba_loops.adam(ps, gs, *mv, group, upcoming):
            return False
        _step_counter(state)
        return True

    @staticmethod
    def _reads_param(group):
        """Whether the step reads the parameter before adding its delta (weight decay)."""
        return float(group["weight_decay"]) != 0

    def _delta(self, p, grad, state, group):
        """What the step adds to the parameter `p` (in a scratch buffer); `p` itself is
        only read, and scaled in place, under weight decay."""
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:
            state["exp_avg"] = Tensor._wrap(np.zeros_like(p))
            state["exp_avg_sq"] = Tensor._wrap(np.zeros_like(p))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(p))
        step = _step_counter(state)
        if group["decoupled_weight_decay"]:
            if wd != 0:
                p *= 1.0 - lr * wd
            wd = 0.0
        g = effective_grad(self, p, grad, wd, group["maximize"])
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        lerp_(m, g, 1.0 - beta1, self)
        v *= beta2
        addcmul_square_(v, g, 1.0 - beta2, self)
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"]._data
            np.maximum(v_max, v, out=v_max)
            v = v_max
        step_size = lr / (1.0 - beta1 ** step)
        bias_correction2_sqrt = (1.0 - beta2 ** step) ** 0.5
        denom = self._scratch(p, "denom")
        np.sqrt(v, out=denom)
        denom /= bias_correction2_sqrt
        denom += eps
        np.divide(m, denom, out=denom)
        denom *= -step_size
        return denom


class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, fused=fused,
                         decoupled_weight_decay=True)
