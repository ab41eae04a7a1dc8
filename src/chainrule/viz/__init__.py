"""chainrule.viz: drawings of the autograd graph (`make_dot`, torchviz's conventions) and
of a model's layers (`plot_model`, Keras's idea) as DOT graphs; rendering runs
Graphviz's `dot` program."""
from .autograd_graph import make_dot
from .dot import Digraph, GraphvizNotFoundError
from .model import plot_model

__all__ = ["make_dot", "plot_model", "Digraph", "GraphvizNotFoundError"]
