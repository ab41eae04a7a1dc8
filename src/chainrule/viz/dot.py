"""The graphs chainrule draws are `graphviz.Digraph`s (the graphviz package, as torchviz
uses; the `viz` extra installs it): `.source` is the DOT text, `.render`, `.pipe` and
Jupyter's inline display run Graphviz's `dot` program. This subclass keeps labels plain
text and, when `dot` is missing, says what to install."""
import contextlib

try:
    import graphviz
except ImportError:  # drawing then says which package to install
    graphviz = None

__all__ = ["Digraph", "GraphvizNotFoundError"]

_INSTALL_HINT = ("install Graphviz (Debian/Ubuntu: `apt-get install graphviz`; macOS: "
                 "`brew install graphviz`; conda: `conda install -c conda-forge graphviz`); "
                 "the DOT text is available without it as `.source`")


class GraphvizNotFoundError(graphviz.ExecutableNotFound if graphviz else RuntimeError):
    """Rendering was asked for but Graphviz's `dot` program is not installed (a
    `graphviz.ExecutableNotFound`, so code written for torchviz catches it too)."""

    def __init__(self, message):
        RuntimeError.__init__(self, message)


@contextlib.contextmanager
def _dot_needed():
    try:
        yield
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError("rendering a graph needs Graphviz's `dot` program, which "
                                    "is not on PATH: " + _INSTALL_HINT) from None


def _plain(text):
    """A label shown as written: backslashes escaped, newlines as DOT's `\\n` breaks, never
    read as an HTML-like label."""
    return graphviz.nohtml(graphviz.escape(str(text)).replace("\n", "\\n"))


class Digraph(graphviz.Digraph if graphviz else object):
    """A `graphviz.Digraph` whose node labels are plain text and whose rendering names
    what to install when Graphviz's `dot` is missing."""

    def __init__(self, *args, **kwargs):
        if graphviz is None:
            raise ModuleNotFoundError("drawing graphs needs the graphviz package: pip "
                                      "install 'chainrule[viz]' (or pip install graphviz)")
        super().__init__(*args, **kwargs)

    def node(self, name, label=None, **attrs):
        super().node(name, None if label is None else _plain(label), **attrs)

    def pipe(self, *args, **kwargs):
        with _dot_needed():
            return super().pipe(*args, **kwargs)

    def render(self, *args, **kwargs):
        with _dot_needed():
            return super().render(*args, **kwargs)
