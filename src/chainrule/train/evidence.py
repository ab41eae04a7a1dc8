"""The numbers the diagnosis rules read, computed once from a History (or a dict of
per-epoch lists): the curves, the run's settings and fit's recorded signals. Every
quantity is relative (to the loss of learning nothing, to the weights' own size), so the
rules do not depend on a data set's scale."""
import math

import numpy as np

__all__ = ["RunFacts", "series_of", "rel_slope", "trend"]


def series_of(history, key):
    """history[key] as a float array (None values as NaN), or None when absent/empty."""
    h = history.history if hasattr(history, "history") else history
    if not hasattr(h, "get"):
        raise TypeError("diagnose needs a History (from fit), a dict of per-epoch lists "
                        "such as {'loss': [...]}, or the result of d2l.train_ch3; got "
                        f"{type(history).__name__}")
    vals = h.get(key)
    if vals is None or len(vals) == 0:
        return None
    return np.array([np.nan if v is None else float(v) for v in vals], dtype=np.float64)


def _finite(x):
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def rel_slope(values):
    """(least-squares slope per epoch relative to the values' mean, whether it stands
    out of the epoch-to-epoch noise: |slope| > 2 standard errors)."""
    y = values[np.isfinite(values)]
    if len(y) < 2:
        return 0.0, False
    x = np.arange(len(y), dtype=np.float64)
    slope, icpt = np.polyfit(x, y, 1)
    rel = float(slope / max(abs(float(np.mean(y))), 1e-12))
    if len(y) < 3:
        return rel, True
    resid = y - (slope * x + icpt)
    se = math.sqrt(float(np.sum(resid ** 2)) / (len(y) - 2) / float(np.sum((x - x.mean()) ** 2)))
    return rel, abs(slope) > 2 * se


def trend(values, scale):
    """(change over the run from a least-squares line, in units of `scale`; that
    slope in standard errors): a drift that stands out of the epoch-to-epoch noise
    has |t| > 2."""
    y = values[np.isfinite(values)]
    if len(y) < 3:
        return 0.0, 0.0
    x = np.arange(len(y), dtype=np.float64)
    slope, icpt = np.polyfit(x, y, 1)
    resid = y - (slope * x + icpt)
    se = math.sqrt(float(np.sum(resid ** 2)) / (len(y) - 2) / float(np.sum((x - x.mean()) ** 2)))
    t = slope / se if se > 0 else math.copysign(math.inf, slope) if slope else 0.0
    return float(slope * (len(y) - 1) / max(scale, 1e-12)), float(t)


class RunFacts:
    """A run as the rules see it; attributes are None when the run does not record them."""

    def __init__(self, history, initial_loss=None):
        self.loss = series_of(history, "loss")
        if self.loss is None:
            raise ValueError("diagnose needs a history with a 'loss' entry (one value per epoch)")
        self.val = series_of(history, "val_loss")
        self.accuracy = series_of(history, "accuracy")
        self.val_accuracy = series_of(history, "val_accuracy")
        self.n = len(self.loss)
        self.params = dict(getattr(history, "params", None) or {})
        self.signals = dict(getattr(history, "signals", None) or {})
        if initial_loss is None:
            initial_loss = getattr(history, "initial_loss", None)
        self.initial_loss = initial_loss if _finite(initial_loss) else None
        lrs = series_of(history, "lr")
        if "lr" not in self.params and lrs is not None and np.isfinite(lrs[0]):
            self.params["lr"] = float(lrs[0])
        self.params.setdefault("epochs", self.n)

    # ---- levels ------------------------------------------------------------------------
    @property
    def baseline(self):
        """The loss of learning nothing: the best constant prediction's when fit recorded
        it, else the untrained model's, else the first epoch's."""
        b = self.signals.get("baseline_loss")
        if _finite(b) and b > 0:
            return float(b)
        if self.initial_loss is not None and self.initial_loss > 0:
            return float(self.initial_loss)
        first = self.loss[np.isfinite(self.loss)]
        return float(first[0]) if len(first) else 1.0

    @property
    def baseline_known(self):
        b = self.signals.get("baseline_loss")
        return _finite(b) and b > 0

    @property
    def val_baseline(self):
        b = self.signals.get("val_baseline_loss")
        return float(b) if _finite(b) and b > 0 else self.baseline

    @property
    def final(self):
        return float(self.loss[-1])

    @property
    def learnt(self):
        """Final training loss over the loss of learning nothing."""
        return self.final / max(self.baseline, 1e-12)

    def first_bad_epoch(self):
        """(1-based epoch, 'training' or 'validation') of the first NaN/Inf, or None."""
        for i, v in enumerate(self.loss):
            if not math.isfinite(v):
                return i + 1, "training"
        if self.val is not None:
            for i, v in enumerate(self.val):
                if np.isinf(v) or (np.isnan(v) and math.isfinite(self.loss[i])):
                    return i + 1, "validation"
        return None

    # ---- signals -----------------------------------------------------------------------
    @property
    def lr(self):
        lr = self.params.get("lr")
        return float(lr) if _finite(lr) and lr > 0 else None

    @property
    def layers(self):
        """Weight-matrix names in model order (input side first)."""
        g = self.signals.get("grad_norm_initial") or {}
        return [k for k in g if k.endswith("weight")]

    def grad_ratio(self, suffix):
        """First layer's gradient norm over the last layer's, on the untrained model."""
        g = self.signals.get("grad_norm_initial") or {}
        names = [k for k in g if k.endswith(suffix)]
        if len(names) < 2:
            return None
        first, last = g[names[0]], g[names[-1]]
        if not (_finite(first) and _finite(last)) or last <= 0:
            return None if not last else math.inf
        return first / last

    def _layer_change(self):
        """Per epoch, the largest relative change of a weight matrix (finite epochs only)."""
        wc = self.signals.get("weight_change") or {}
        series = [np.asarray(v, dtype=np.float64) for k, v in wc.items() if k.endswith("weight")]
        if not series:
            return None
        per_epoch = np.nanmax(np.vstack([s[:min(map(len, series))] for s in series]), axis=0)
        return per_epoch[np.isfinite(per_epoch)]

    @property
    def weight_change(self):
        """Median over epochs of the largest relative weight change of a layer."""
        per_epoch = self._layer_change()
        return float(np.median(per_epoch)) if per_epoch is not None and len(per_epoch) else None

    @property
    def late_weight_change(self):
        """The same median over the second half of the run only: once the loss has
        settled, a run that still moves its weights by a large share of their size each
        epoch is bouncing around the minimum rather than descending into it."""
        per_epoch = self._layer_change()
        if per_epoch is None or len(per_epoch) < 4:
            return None
        return float(np.median(per_epoch[len(per_epoch) // 2:]))

    @property
    def max_weight_change(self):
        """The largest relative change of a weight matrix in one epoch."""
        wc = self.signals.get("weight_change") or {}
        values = [x for k, v in wc.items() if k.endswith("weight") for x in v if _finite(x)]
        return max(values) if values else None

    @property
    def dead_relu(self):
        dead = self.signals.get("dead_relu") or []
        return float(dead[-1][1]) if dead else None

    @property
    def input_rms(self):
        inputs = self.signals.get("inputs") or {}
        return inputs.get("rms") if _finite(inputs.get("rms")) else None

    def healthy(self, level=0.05):
        """Training and validation losses both under `level` of learning nothing."""
        val_ok = self.val is None or (np.isfinite(self.val[-1]) and
                                      float(self.val[-1]) < 2 * level * self.val_baseline)
        return math.isfinite(self.final) and self.learnt < level and val_ok

    def stalled(self, level=0.5):
        """Whether the training loss ended above `level` times the loss of learning
        nothing (or is not finite)."""
        return not math.isfinite(self.final) or self.learnt > level
