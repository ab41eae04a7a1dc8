"""`fit(..., compile=True)`: the trainer's step (forward, loss, backward, clipping,
optimizer step) as one `chainrule.compile`d function.

The eager step checks the loss and the gradients for NaN/Inf between its parts; here the
checks are branches on array values, which a replay guards: when a batch goes the other
way, the compiled step is dropped and that batch (and the rest of the run) runs eagerly,
so the problem is reported as without compile. Callbacks' `on_backward_end` runs after
the step, with the same gradients (the optimizer does not change them); with gradient
clipping that would not hold, so such callbacks keep the step eager."""
import warnings

import numpy as np

from ..compiler import compile as _compile
from ..compiler.compiled import BranchChanged
from ..nn.utils import clip_grad_norm_
from .callbacks import Callback

__all__ = ["CompiledStep"]


def _finite(arrays):
    """One array-valued test (a replay can guard it), not a Python float."""
    ok = True
    for a in arrays:
        ok = ok & np.isfinite(a).all()
    return ok


class CompiledStep:
    def __init__(self, trainer, scalar_loss, mode="default"):
        self.trainer, self.scalar_loss = trainer, scalar_loss
        self.fn = _compile(self._step, mode="default" if mode is True else mode)

    @staticmethod
    def reason_not(trainer):
        """Why the step cannot be compiled for this trainer, or None."""
        if trainer.clip_grad_norm is None:
            return None
        for cb in trainer.callbacks.callbacks:
            if type(cb).on_backward_end is not Callback.on_backward_end:
                return (f"{type(cb).__name__}.on_backward_end reads the gradients before "
                        "clipping")
        return None

    def _step(self, xb, yb):
        t = self.trainer
        out = t.forward(xb)
        lval = self.scalar_loss(t.loss(out, yb))
        if not _finite([lval._data]):
            return lval, out, "loss"
        t.optimizer.zero_grad()
        lval.backward()
        if not _finite([p.grad._data for p in t.model_params if p.grad is not None]):
            return lval, out, "gradients are NaN/Inf"
        if t.clip_grad_norm is not None:
            clip_grad_norm_(t.model_params, t.clip_grad_norm)
        t.optimizer.step()
        return lval, out, None

    def __call__(self, xb, yb):
        """(loss tensor, output, problem) or None when this batch must run eagerly."""
        try:
            return self.fn(xb, yb)
        except BranchChanged as err:
            warnings.warn(f"fit(compile=True): {err}; training goes on eagerly",
                          RuntimeWarning, stacklevel=3)
            return None
