"""Figures that training redraws: made without pyplot, shown in Jupyter as ONE output
updated in place, written to files atomically.

A figure made with `matplotlib.figure.Figure` rather than pyplot is unknown to pyplot's
figure registry, so the inline backend does not show it a second time when the cell ends,
and scripts never open a window for it. In a notebook the figure is rendered to PNG or SVG
here and published with a display id: the first draw creates the output, later draws
replace it (`update_display_data`), so a long run leaves one figure, not one per epoch,
and nothing flickers as it would with clear_output."""
import base64
import io
import os

from .atomic_files import atomic_write
from .notebook_display import in_notebook

__all__ = ["FIGURE_DIR_ENV", "default_figure_path", "figure_format", "new_figure",
           "write_figure", "LiveDisplay"]

# where figures go that nobody named a path for (scripts, CI): the current folder unless
# this variable names another
FIGURE_DIR_ENV = "CHAINRULE_FIGURE_DIR"


def default_figure_path(name):
    """The absolute path a figure called `name` gets when the caller gave none."""
    folder = os.environ.get(FIGURE_DIR_ENV) or os.curdir
    return os.path.abspath(os.path.join(folder, name))


def _matplotlib(needed_by):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError(f"{needed_by} needs matplotlib: pip install matplotlib") from None


def figure_format(path, needed_by):
    """The image format a figure path names by its extension (png, svg, pdf, ...); a
    missing or unknown extension is refused before anything is drawn."""
    _matplotlib(needed_by)
    from matplotlib.backend_bases import FigureCanvasBase
    path = os.fspath(path)
    ext = os.path.splitext(path)[1][1:].lower()
    known = FigureCanvasBase.get_supported_filetypes()
    if ext not in known:
        raise ValueError(f"{needed_by}: cannot write a figure to {path!r}: the extension "
                         f"must name an image format, one of "
                         f"{', '.join('.' + k for k in sorted(known))}")
    return ext


def new_figure(figsize, needed_by):
    """A matplotlib Figure outside pyplot (see the module's docstring for why)."""
    _matplotlib(needed_by)
    from matplotlib.figure import Figure
    return Figure(figsize=figsize)


def write_figure(fig, path, **savefig_kwargs):
    """Write `fig` to `path` (format from the extension) through the atomic write: the
    file appears complete or not at all, and an earlier version stays until replaced."""
    path = os.fspath(path)
    fmt = figure_format(path, "writing a figure")
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    atomic_write(path, lambda f: fig.savefig(f, format=fmt, **savefig_kwargs))
    return path


class LiveDisplay:
    """One notebook output showing `fig`: `show()` draws it the first time and replaces
    that same output afterwards. Outside Jupyter `active` is False and `show()` does
    nothing."""

    def __init__(self, fig, fmt="png"):
        if fmt not in ("png", "svg"):
            raise ValueError(f"LiveDisplay: fmt must be 'png' or 'svg', got {fmt!r}")
        self.fig, self.fmt = fig, fmt
        self.active = in_notebook()
        self.handle = None

    def _bundle(self):
        buf = io.BytesIO()
        self.fig.savefig(buf, format=self.fmt)
        data = buf.getvalue()
        if self.fmt == "svg":
            return {"image/svg+xml": data.decode("utf-8"), "text/plain": repr(self.fig)}
        return {"image/png": base64.b64encode(data).decode("ascii"),
                "text/plain": repr(self.fig)}

    def show(self):
        if not self.active:
            return
        from IPython.display import display
        bundle = self._bundle()
        if self.handle is None:
            self.handle = display(bundle, raw=True, display_id=True)
        else:
            self.handle.update(bundle, raw=True)
