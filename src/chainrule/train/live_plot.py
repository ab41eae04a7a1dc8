"""LivePlot: learning curves redrawn as `fit` trains (what livelossplot's callback or
fastai's ShowGraph do), opt-in as in Keras: `fit(..., callbacks=[LivePlot()])`."""
import math
import os
import time

from ..runtime.figures import (LiveDisplay, default_figure_path, figure_format, new_figure,
                        write_figure)
from .callbacks import Callback
from .history import History
from .plots import draw_history, history_panels

__all__ = ["LivePlot"]

DEFAULT_NAME = "training_curves.png"


class LivePlot(Callback):
    """Loss and metrics, training vs validation, one panel each (as `plot_history`),
    redrawn after every epoch.

    In Jupyter the curves are one figure under the cell, updated in place. Elsewhere the
    figure is written to `path` (default: training_curves.png in the current folder, or
    in $CHAINRULE_FIGURE_DIR), atomically after each drawn epoch and at the end, and fit
    says where once (a line with the progress, and in `history.notes`). A `path` given in
    a notebook is written too. `min_interval`: seconds between two redraws, so that many
    short epochs do not spend their time drawing; the last epoch is always drawn."""

    def __init__(self, path=None, metrics=None, monitor="val_loss", min_interval=1.0,
                 dpi=110):
        super().__init__()
        self.path = None if path is None else os.fspath(path)
        if self.path is not None:
            figure_format(self.path, "LivePlot")  # a bad name fails before training
        if isinstance(min_interval, bool) or not isinstance(min_interval, (int, float)) \
                or not min_interval >= 0:
            raise ValueError(f"LivePlot: min_interval must be a number of seconds >= 0, got "
                             f"{min_interval!r}")
        self.metrics, self.monitor = metrics, monitor
        self.min_interval, self.dpi = float(min_interval), dpi
        self.fig = self.display = self.written = None
        self.draws = 0

    def on_train_begin(self, logs=None):
        self.fig = new_figure((4.2, 3.4), "LivePlot")
        self.display = LiveDisplay(self.fig, "png")
        self.target = self.path
        if self.target is None and not self.display.active:
            self.target = default_figure_path(DEFAULT_NAME)
        self.curves, self.last_draw, self.pending = None, -math.inf, False
        self.draws, self.written = 0, None

    def on_epoch_end(self, epoch, logs=None):
        # the trainer records this epoch after the callbacks ran: add it here
        curves = History({k: list(v) for k, v in self.trainer.history.history.items()})
        curves.append(epoch, {k: v for k, v in (logs or {}).items() if k != "seconds"})
        self.curves, self.pending = curves, True
        if time.monotonic() - self.last_draw >= self.min_interval:
            self.draw()

    def on_train_end(self, logs=None):
        if self.pending:
            self.draw()

    def draw(self):
        """Redraw the figure from the epochs so far, show it and write it."""
        if self.curves is None or "loss" not in self.curves:
            return
        if getattr(self.trainer, "rank", 0) != 0:  # one figure for an MPI job
            return
        n = len(history_panels(self.curves, self.metrics))
        self.fig.set_size_inches(4.2 * n, 3.4)
        draw_history(self.fig, self.curves, self.metrics, self.monitor)
        self.fig.tight_layout()
        self.display.show()
        if self.target is not None:
            self._write()
        self.draws += 1
        self.last_draw, self.pending = time.monotonic(), False

    def _write(self):
        try:
            write_figure(self.fig, self.target, dpi=self.dpi)
        except OSError as err:
            raise OSError(f"LivePlot: could not write the learning curves to "
                          f"{self.target!r}: {err}") from err
        if self.written is None:
            self.trainer.messages.append(f"learning curves: {self.target} (redrawn as "
                                         "training goes)")
        self.written = self.target
