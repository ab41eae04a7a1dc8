"""d2l's matplotlib helpers: set_figsize, set_axes, plot, show_images and Animator.

matplotlib is imported on first use, so `from chainrule import d2l` works without it.
On a machine without a display (and outside Jupyter) the Agg backend is chosen, so
scripts and tests draw into files instead of failing to open a window."""
import importlib.util
import os

import numpy as np

from ..runtime.notebook_display import in_notebook, pyplot
from ..runtime.figures import LiveDisplay, figure_format, new_figure, write_figure
from ..tensors.tensor import Tensor

__all__ = ["use_svg_display", "set_figsize", "set_axes", "plot", "show_images", "Animator",
           "get_plt", "in_notebook"]


def get_plt():
    """matplotlib.pyplot, switched to Agg first when nothing could display a window."""
    return pyplot("d2l's plotting helpers")


def use_svg_display():
    """Render inline figures as SVG in Jupyter; does nothing elsewhere."""
    if not in_notebook():
        return
    try:
        from matplotlib_inline import backend_inline
    except ImportError:  # older IPython kept it in IPython.display
        try:
            from IPython.display import set_matplotlib_formats
        except ImportError:
            return
        set_matplotlib_formats("svg")
        return
    backend_inline.set_matplotlib_formats("svg")


def set_figsize(figsize=(3.5, 2.5)):
    use_svg_display()
    get_plt().rcParams["figure.figsize"] = figsize


def set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend):
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    axes.set_xlim(xlim)
    axes.set_ylim(ylim)
    if legend:
        axes.legend(legend)
    axes.grid()


def _to_numpy(v):
    # tensors that require grad cannot go to matplotlib as they are (PyTorch refuses too,
    # but d2l's users call .detach() inconsistently, e.g. `x.grad` next to `x.detach()`)
    if isinstance(v, Tensor):
        return v.detach().numpy()
    return v


def _has_one_axis(v):
    return (hasattr(v, "ndim") and v.ndim == 1) or \
        (isinstance(v, list) and (not v or not hasattr(v[0], "__len__")))


def plot(X, Y=None, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
         xscale="linear", yscale="linear", fmts=("-", "m--", "g-.", "r:"), figsize=(3.5, 2.5),
         axes=None):
    """Plot one or several curves on `axes` (the current axes by default). Returns None,
    as d2l's plot does (a notebook cell shows no extra output); `d2l.plt.gca()` is the axes.

    X and Y may be tensors, arrays or lists, or lists of those for several curves; with
    Y omitted, X holds the y values."""
    set_figsize(figsize)
    plt = get_plt()
    axes = axes if axes is not None else plt.gca()
    if _has_one_axis(X):
        X = [X]
    if Y is None:
        X, Y = [[]] * len(X), X
    elif _has_one_axis(Y):
        Y = [Y]
    if len(X) != len(Y):
        X = X * len(Y)
    axes.cla()
    for i, (x, y) in enumerate(zip(X, Y)):
        fmt = fmts[i % len(fmts)]
        x, y = _to_numpy(x), _to_numpy(y)
        if len(x):
            axes.plot(x, y, fmt)
        else:
            axes.plot(y, fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend or [])


def _image_array(img):
    arr = np.asarray(_to_numpy(img))
    # a CHW tensor (what ToTensor makes) is shown as HW or HWC, as matplotlib expects
    if arr.ndim == 3 and arr.shape[0] in (1, 3) and arr.shape[-1] not in (1, 3):
        arr = arr[0] if arr.shape[0] == 1 else np.moveaxis(arr, 0, -1)
    return arr


def show_images(imgs, num_rows, num_cols, titles=None, scale=1.5):
    """A num_rows x num_cols grid of images without ticks; returns the flat axes array."""
    plt = get_plt()
    figsize = (num_cols * scale, num_rows * scale)
    _, axes = plt.subplots(num_rows, num_cols, figsize=figsize, squeeze=False)
    axes = axes.flatten()
    for i, (ax, img) in enumerate(zip(axes, imgs)):
        ax.imshow(_image_array(img))
        ax.axes.get_xaxis().set_visible(False)
        ax.axes.get_yaxis().set_visible(False)
        if titles:
            ax.set_title(titles[i])
    return axes


class Animator:
    """Plot data in animation: each `add(x, y)` appends one point per curve.

    In Jupyter the figure is redrawn after every point, as in d2l, into ONE output that is
    updated in place (a display handle, so no flicker and no pile of figures). Elsewhere
    the points are only recorded (`X`, `Y`); `save(path)` draws and writes the figure, and
    `finish()` (which `train_ch3` calls when training ends) writes it to `path` and says
    where. Writes are atomic: a file is complete or absent, never half-written."""

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
                 xscale="linear", yscale="linear", fmts=("-", "m--", "g-.", "r:"), nrows=1,
                 ncols=1, figsize=(3.5, 2.5), path=None, ylim_grows=False):
        # ylim_grows: the y-range widens to show values outside ylim (train_ch3's 0.3-0.9
        # would hide a loss of 2.3); ylim is kept when every value fits in it
        self.ylim_grows = ylim_grows
        self.legend = list(legend) if legend else []
        self.fmts = fmts
        self._axes_args = (xlabel, ylabel, xlim, ylim, xscale, yscale)
        self.X, self.Y = None, None
        self._figsize, self._grid = figsize, (nrows, ncols)
        self.path = None if path is None else os.fspath(path)
        if self.path is not None:
            figure_format(self.path, "Animator")  # a bad name fails before training
        self._fig = self._axes = self._view = None
        self._live = in_notebook()
        if self._live:
            self._make_figure()

    def _make_figure(self):
        use_svg_display()
        # outside pyplot: the inline backend would show a pyplot figure again at the
        # end of the cell, next to the output updated in place
        self._fig = new_figure(self._figsize, "d2l.Animator")
        self._axes = self._fig.subplots(*self._grid, squeeze=False).flatten()
        self._view = LiveDisplay(self._fig, "svg")  # d2l shows its figures as SVG

    @property
    def fig(self):
        if self._fig is None:
            self._make_figure()
            self._draw()
        return self._fig

    @property
    def axes(self):
        self.fig  # noqa: B018  (creates the figure on first access)
        return self._axes

    def add(self, x, y):
        if not hasattr(y, "__len__"):
            y = [y]
        n = len(y)
        if not hasattr(x, "__len__"):
            x = [x] * n
        if self.X is None:
            self.X = [[] for _ in range(n)]
            self.Y = [[] for _ in range(n)]
        for i, (a, b) in enumerate(zip(x, y)):
            if a is not None and b is not None:
                self.X[i].append(float(a))
                self.Y[i].append(float(b))
        if self._live:
            if self._fig is None:  # closed, then used again
                self._make_figure()
            self._draw()
            self._view.show()

    def _draw(self):
        ax = self._axes[0]
        ax.cla()
        for i, (x, y) in enumerate(zip(self.X or [], self.Y or [])):
            ax.plot(x, y, self.fmts[i % len(self.fmts)])
        xlabel, ylabel, xlim, ylim, xscale, yscale = self._axes_args
        set_axes(ax, xlabel, ylabel, xlim, self.shown_ylim(), xscale, yscale, self.legend)
        self._fig.tight_layout()

    def shown_ylim(self):
        """ylim, widened to the recorded values when ylim_grows and one falls outside."""
        ylim = self._axes_args[3]
        values = [v for ys in (self.Y or []) for v in ys if np.isfinite(v)]
        if not (self.ylim_grows and ylim and values):
            return ylim
        low, high = min(ylim[0], min(values)), max(ylim[1], max(values))
        if (low, high) == tuple(ylim):
            return ylim
        margin = 0.05 * (high - low)
        return [low - margin if low < ylim[0] else low, high + margin if high > ylim[1] else high]

    def save(self, path, **savefig_kwargs):
        """Draw the recorded curves and write the figure (format from the extension)."""
        fig = self.fig
        self._draw()
        write_figure(fig, path, **savefig_kwargs)
        return path

    def finish(self):
        """Training is over: write the figure to `path` (when set) and print where;
        returns the path or None. In Jupyter the figure is already on screen."""
        if self.path is None:
            return None
        if importlib.util.find_spec("matplotlib") is None:  # recording needed none
            print("Animator: no figure written (matplotlib is not installed: pip install "
                  "matplotlib)", flush=True)
            return None
        self.save(self.path)
        print(f"Animator: figure written to {self.path}", flush=True)
        return self.path

    def close(self):
        self._fig = self._axes = self._view = None
