"""GradientMonitor: per-parameter gradient norms, averaged over each epoch's batches,
with warnings for vanishing and exploding gradients (d2l ch. 5.4)."""
import math

import numpy as np

from .callbacks import Callback
from .tables import format_table

__all__ = ["GradientMonitor"]


class GradientMonitor(Callback):
    """Record ||grad|| of every parameter after each backward pass; `norms[name]` holds
    one value per epoch (the mean over its batches).

    Flags, checked at every epoch end on the weight matrices (parameters with >= 2
    dims, in model order, so the first is nearest the input):
    - vanishing: ||grad first layer|| / ||grad last layer|| < vanish_ratio (1e-3);
    - exploding: a gradient is NaN/Inf, or the first/last ratio exceeds explode_ratio
      (1e3), or the total norm has grown more than explode_ratio times since epoch 1.
    Each flag is kept in `flags` (epoch, kind, message) and reported by fit. With
    stop_on_explode=True training stops when gradients explode."""

    def __init__(self, vanish_ratio=1e-3, explode_ratio=1e3, stop_on_explode=False, verbose=True):
        super().__init__()
        self.vanish_ratio, self.explode_ratio = float(vanish_ratio), float(explode_ratio)
        self.stop_on_explode, self.verbose = stop_on_explode, verbose
        self.norms, self.total, self.flags = {}, [], []
        self._sum, self._count, self._nonfinite = {}, 0, set()

    def on_train_begin(self, logs=None):
        self._named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        for n, _ in self._named:
            self.norms.setdefault(n, [])
        self._reset_epoch()

    def _reset_epoch(self):
        self._sum = {n: 0.0 for n, _ in self._named}
        self._tot, self._count, self._nonfinite = 0.0, 0, set()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_epoch()

    def on_backward_end(self, batch, logs=None):
        total_sq = 0.0
        for n, p in self._named:
            if p.grad is None:
                continue
            g = np.asarray(p.grad.numpy(), dtype=np.float64)
            sq = float(np.sum(g * g))
            if not math.isfinite(sq):
                self._nonfinite.add(n)
            self._sum[n] += math.sqrt(sq) if math.isfinite(sq) else float("inf")
            total_sq += sq
        self._tot += math.sqrt(total_sq) if math.isfinite(total_sq) else float("inf")
        self._count += 1

    @property
    def layers(self):
        """Names of the weight matrices, input side first."""
        return [n for n, p in self._named if p.ndim >= 2] or [n for n, _ in self._named]

    def on_epoch_end(self, epoch, logs=None):
        if self._count == 0:
            return
        for n, _ in self._named:
            self.norms[n].append(self._sum[n] / self._count)
        self.total.append(self._tot / self._count)
        self._check(epoch)

    def _flag(self, epoch, kind, message):
        self.flags.append({"epoch": epoch + 1, "kind": kind, "message": message})
        if self.verbose and self.trainer is not None:
            self.trainer.messages.append(f"GradientMonitor, epoch {epoch + 1}: {message}")
        if kind == "exploding" and self.stop_on_explode and self.trainer is not None:
            self.trainer.request_stop("exploding_gradients")

    def _ratio(self, names):
        first, last = self.norms[names[0]][-1], self.norms[names[-1]][-1]
        ratio = first / last if last > 0 else (math.inf if first > 0 else 1.0)
        return first, last, ratio

    def _check(self, epoch):
        if self._nonfinite:
            self._flag(epoch, "exploding", "NaN/Inf gradients in " + ", ".join(sorted(self._nonfinite))
                       + ": lower the learning rate or clip gradients (clip_grad_norm=1.0)")
            return
        layers = self.layers
        # the bias gradients are the backpropagated signals themselves (weight gradients
        # also scale with the activations, which can hide growth in linear stacks)
        biases = [n for n, p in self._named if p.ndim == 1 and n.endswith("bias")]
        if len(biases) >= 2 and len(layers) >= 2:
            first, last, ratio = self._ratio(biases)
            if ratio > self.explode_ratio:
                self._flag(epoch, "exploding",
                           f"exploding gradients: the backpropagated signal grows from "
                           f"{last:.2e} at {biases[-1]} to {first:.2e} at {biases[0]} (ratio "
                           f"{ratio:.1e}); use a smaller init scale (Xavier) or clip gradients")
                return
        if len(layers) >= 2:
            first, last, ratio = self._ratio(layers)
            if ratio < self.vanish_ratio:
                self._flag(epoch, "vanishing",
                           f"vanishing gradients: |grad| falls from {last:.2e} at {layers[-1]} "
                           f"to {first:.2e} at {layers[0]} (ratio {ratio:.1e}); use ReLU "
                           "instead of sigmoid/tanh, Xavier/He init, or fewer layers")
            elif ratio > self.explode_ratio:
                self._flag(epoch, "exploding",
                           f"exploding gradients: |grad| grows from {last:.2e} at "
                           f"{layers[-1]} to {first:.2e} at {layers[0]} (ratio {ratio:.1e}); "
                           "use a smaller init scale or clip gradients")
        if len(self.total) >= 2 and self.total[0] > 0 and \
                self.total[-1] / self.total[0] > self.explode_ratio:
            self._flag(epoch, "exploding",
                       f"exploding gradients: the gradient norm grew from {self.total[0]:.2e} "
                       f"(epoch 1) to {self.total[-1]:.2e}; lower the learning rate or clip "
                       "gradients")

    @property
    def vanishing(self):
        return any(f["kind"] == "vanishing" for f in self.flags)

    @property
    def exploding(self):
        return any(f["kind"] == "exploding" for f in self.flags)

    def summary(self):
        epochs = max([len(vals) for vals in self.norms.values()] + [len(self.total)])
        header = ["parameter"] + [f"epoch {i + 1}" for i in range(epochs)]
        rows = [[n] + [f"{v:.2e}" for v in vals] + ["-"] * (epochs - len(vals))
                for n, vals in self.norms.items()]
        table = format_table(header, rows, align="l" + "r" * (len(header) - 1))
        return "\n".join([table] + [f["message"] for f in self.flags])

    def plot(self, path=None, **kw):
        from .plots import plot_gradient_flow
        return plot_gradient_flow(self, path, **kw)

    def state_dict(self):
        return {"norms": {k: list(v) for k, v in self.norms.items()}, "total": list(self.total),
                "flags": [dict(f) for f in self.flags]}

    def load_state_dict(self, state):
        self.norms = {k: [float(x) for x in v] for k, v in state["norms"].items()}
        self.total = [float(x) for x in state["total"]]
        self.flags = [dict(f) for f in state["flags"]]
