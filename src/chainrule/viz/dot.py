"""A small DOT graph builder with the part of `graphviz.Digraph`'s interface that notebooks
and scripts use (`.source`, `.render`, `.pipe`, `_repr_svg_`). The DOT text is built here;
only rendering needs Graphviz's `dot` program, run as a subprocess, so no Python package
is required."""
import os
import re
import shutil
import subprocess

__all__ = ["Digraph", "GraphvizNotFoundError"]


class GraphvizNotFoundError(RuntimeError):
    """Rendering was asked for but Graphviz's `dot` program is not installed."""


_INSTALL_HINT = ("install Graphviz (Debian/Ubuntu: `apt-get install graphviz`; macOS: "
                 "`brew install graphviz`; conda: `conda install -c conda-forge graphviz`); "
                 "the DOT text is available without it as `.source`")


def quote(text):
    """A DOT double-quoted string: backslashes and quotes escaped, newlines as `\\n`."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n") + '"'


def _attr_list(attrs):
    items = [f"{k}={quote(v)}" for k, v in attrs.items() if v is not None]
    return " [" + " ".join(items) + "]" if items else ""


def dot_program():
    path = shutil.which("dot")
    if path is None:
        raise GraphvizNotFoundError("rendering a graph needs Graphviz's `dot` program, which "
                                    "is not on PATH: " + _INSTALL_HINT)
    return path


class Digraph:
    """A directed graph in DOT: add nodes and edges, read `.source`, render with `dot`."""

    def __init__(self, name=None, graph_attr=None, node_attr=None, edge_attr=None):
        self.name = name
        self.graph_attr = dict(graph_attr or {})
        self.node_attr = dict(node_attr or {})
        self.edge_attr = dict(edge_attr or {})
        self.body = []

    def node(self, name, label=None, **attrs):
        self.body.append(f"\t{quote(name)}{_attr_list({'label': label, **attrs})}")

    def edge(self, tail, head, **attrs):
        self.body.append(f"\t{quote(tail)} -> {quote(head)}{_attr_list(attrs)}")

    @property
    def source(self):
        lines = ["digraph" + (f" {quote(self.name)}" if self.name else "") + " {"]
        for kind, attrs in (("graph", self.graph_attr), ("node", self.node_attr),
                            ("edge", self.edge_attr)):
            if attrs:
                lines.append(f"\t{kind}{_attr_list(attrs)}")
        return "\n".join(lines + self.body + ["}"]) + "\n"

    def __str__(self):
        return self.source

    def pipe(self, format="svg"):
        """The graph rendered by `dot` in `format` ('svg', 'png', 'pdf', ...), as bytes."""
        if not isinstance(format, str) or not re.fullmatch(r"[a-z0-9_:]+", format):
            raise ValueError(f"Digraph.pipe: format must be an output format name of dot "
                             f"such as 'svg' or 'png', got {format!r}")
        proc = subprocess.run([dot_program(), f"-T{format}"], input=self.source.encode(),
                              capture_output=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"dot failed to render format {format!r}: "
                               f"{proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout

    def render(self, filename="graph", format="svg", cleanup=False):
        """Write the DOT text to `filename` and the rendering to `filename.format`; return
        the rendering's path. `cleanup=True` removes the DOT file afterwards."""
        data = self.pipe(format)
        filename = os.fspath(filename)
        with open(filename, "w", encoding="utf-8") as f:
            f.write(self.source)
        out = f"{filename}.{format}"
        with open(out, "wb") as f:
            f.write(data)
        if cleanup:
            os.remove(filename)
        return out

    def _repr_svg_(self):
        return self.pipe("svg").decode("utf-8")
