"""History: what happened during `fit`, one value per epoch for every logged quantity
(loss, val_loss, each metric and its val_ twin, lr, seconds), as Keras's History."""
import csv
import io
import json
import math
import os

from ..runtime.atomic_files import atomic_write_text
from .tables import format_table

__all__ = ["History"]


def _num(v):
    """A JSON-friendly float (NaN/Inf kept as strings so the file stays valid JSON)."""
    if v is None:
        return None
    v = float(v)
    if math.isnan(v) or math.isinf(v):
        return str(v)
    return v


def _from_num(v):
    if isinstance(v, str):
        return float(v)
    return v


def _plain(value):
    """Signals as JSON-friendly values: floats through _num, containers recursively."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return _num(value)
    return value


def _unplain(value):
    if isinstance(value, dict):
        return {k: _unplain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unplain(v) for v in value]
    if value in ("nan", "inf", "-inf"):
        return float(value)
    return value


class History:
    """Per-epoch records of a training run.

    `history.history["val_loss"]` (Keras style), `history["val_loss"]` and
    `history.val_loss` all give the list of values, one per epoch. Epochs are counted
    from 1 in tables and files, from 0 in `epoch` (as Keras does)."""

    def __init__(self, history=None, epoch=None, params=None):
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self.epoch = list(epoch) if epoch is not None else []
        self.params = dict(params or {})
        self.notes = []          # messages from the trainer and callbacks (NaN stop, ...)
        self.stop_reason = None  # None, "early_stopping", "nan", "callback"
        self.initial_loss = None  # loss of the untrained model on the first batch
        self.signals = {}  # what fit's recorder measured for the diagnosis (train.recording)

    # ---- recording ---------------------------------------------------------------
    def append(self, epoch, logs):
        """Record one epoch. Keys seen for the first time are back-filled with NaN so
        that every list has one value per recorded epoch."""
        n = len(self.epoch)
        for key, value in logs.items():
            if key not in self.history:
                self.history[key] = [float("nan")] * n
            self.history[key].append(None if value is None else float(value))
        for key, values in self.history.items():
            if len(values) < n + 1:
                values.append(float("nan"))
        self.epoch.append(int(epoch))

    # ---- access ------------------------------------------------------------------
    def __getitem__(self, key):
        try:
            return self.history[key]
        except KeyError:
            raise KeyError(f"History has no {key!r}; recorded: {sorted(self.history)}") from None

    def __getattr__(self, key):
        if key.startswith("_") or key in ("history", "epoch", "params", "signals"):
            raise AttributeError(key)
        try:
            return self.__dict__["history"][key]
        except KeyError:
            raise AttributeError(f"History has no {key!r}; recorded: "
                                 f"{sorted(self.__dict__.get('history', {}))}") from None

    def __contains__(self, key):
        return key in self.history

    def __len__(self):
        return len(self.epoch)

    def keys(self):
        return self.history.keys()

    def columns(self):
        """Column order for tables: loss, metrics, then val_ twins, lr, seconds."""
        keys = list(self.history)
        tail = [k for k in ("lr", "seconds") if k in keys]
        train = [k for k in keys if not k.startswith("val_") and k not in tail]
        val = [k for k in keys if k.startswith("val_")]
        return train + val + tail

    def best_epoch(self, monitor="val_loss", mode="auto"):
        """0-based index of the best epoch for `monitor` (min for losses, max for
        accuracies), or None when nothing finite was recorded."""
        from .metrics import resolve_mode
        values = self.history.get(monitor)
        if not values:
            return None
        sign = 1.0 if resolve_mode(monitor, mode) == "min" else -1.0
        best, best_i = math.inf, None
        for i, v in enumerate(values):
            if v is not None and math.isfinite(v) and sign * v < best:
                best, best_i = sign * v, i
        return best_i

    # ---- output ------------------------------------------------------------------
    def to_table(self, digits=4):
        cols = self.columns()
        header = ["epoch"] + cols
        rows = []
        for i, ep in enumerate(self.epoch):
            row = [str(ep + 1)]
            for c in cols:
                v = self.history[c][i]
                if v is None:
                    row.append("-")
                elif c == "lr":
                    row.append(f"{v:.3g}")
                elif c == "seconds":
                    row.append(f"{v:.2f}")
                else:
                    row.append(f"{v:.{digits}f}")
            rows.append(row)
        return format_table(header, rows)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={self.columns()})"

    def __str__(self):
        return self.to_table()

    def to_dict(self):
        return {"epoch": list(self.epoch),
                "history": {k: [_num(v) for v in vals] for k, vals in self.history.items()},
                "params": self.params, "notes": list(self.notes),
                "stop_reason": self.stop_reason, "initial_loss": _num(self.initial_loss),
                "signals": _plain(self.signals)}

    @classmethod
    def from_dict(cls, d):
        h = cls({k: [_from_num(v) for v in vals] for k, vals in d["history"].items()},
                d.get("epoch", []), d.get("params"))
        h.notes = list(d.get("notes", []))
        h.stop_reason = d.get("stop_reason")
        h.initial_loss = _from_num(d.get("initial_loss"))
        h.signals = _unplain(d.get("signals") or {})
        return h

    def to_json(self, path=None):
        """Write (or return, when `path` is None) the history as JSON."""
        text = json.dumps(self.to_dict(), indent=1)
        if path is None:
            return text
        atomic_write_text(path, text)
        return path

    @classmethod
    def from_json(cls, source):
        """Read a history written by `to_json` (a path or the JSON text itself)."""
        if isinstance(source, (str, os.PathLike)) and os.path.exists(source):
            with open(source, encoding="utf-8") as f:
                source = f.read()
        return cls.from_dict(json.loads(source))

    def to_csv(self, path=None):
        cols = self.columns()
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["epoch"] + cols)
        for i, ep in enumerate(self.epoch):
            w.writerow([ep + 1] + ["" if self.history[c][i] is None else repr(self.history[c][i])
                                   for c in cols])
        if path is None:
            return buf.getvalue()
        atomic_write_text(path, buf.getvalue())
        return path

    def to_dataframe(self):
        import pandas as pd
        df = pd.DataFrame({c: self.history[c] for c in self.columns()},
                          index=[e + 1 for e in self.epoch])
        df.index.name = "epoch"
        return df

    def plot(self, path=None, **kwargs):
        from .plots import plot_history
        return plot_history(self, path, **kwargs)
