"""chainrule.viz: make_dot follows torchviz's drawing of the autograd graph (checked
against the graph PyTorch records for the same computation) and plot_model draws layers
with their shapes, parameter counts and data flow; rendering runs Graphviz's dot."""
import os
import re
import shutil
import subprocess
import sys
from collections import Counter

import pytest
import torch

graphviz = pytest.importorskip("graphviz", reason="drawing graphs needs the graphviz package")

import chainrule as cr
from chainrule import nn
from chainrule.viz import GraphvizNotFoundError, make_dot, plot_model

needs_dot = pytest.mark.skipif(shutil.which("dot") is None and not os.environ.get("CI"),
                               reason="Graphviz's dot is not installed (CI installs it)")

ID = r'("(?:[^"\\]|\\.)*"|[^\s"\[\]]+)'   # a quoted or a bare DOT identifier
NODE = re.compile(r"^\t" + ID + r" \[(.*)\]$")
EDGE = re.compile(r"^\t" + ID + " -> " + ID + r"(?: \[(.*)\])?$")
ATTR = re.compile(r"(\w+)=" + ID)


def unquote(text):
    return text[1:-1] if text.startswith('"') else text


def attributes(text):
    return {k: unquote(v) for k, v in ATTR.findall(text or "")}


def parse(source):
    """{node id: (label, fillcolor)} and [(tail, head, {attribute: value})] from the DOT
    text (labels as written there, escapes kept)."""
    nodes, edges = {}, []
    for line in source.splitlines():
        m = EDGE.match(line)
        if m:
            edges.append((unquote(m.group(1)), unquote(m.group(2)), attributes(m.group(3))))
            continue
        m = NODE.match(line)
        if m and m.group(1) not in ("graph", "node", "edge"):
            attrs = attributes(m.group(2))
            nodes[unquote(m.group(1))] = (attrs.get("label"), attrs.get("fillcolor"))
    return nodes, edges


def torch_graph(y):
    """Names of the backward nodes reachable from y.grad_fn and the number of edges."""
    names, edges, seen, stack = Counter(), 0, set(), [y.grad_fn]
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        names[type(fn).__name__] += 1
        for nxt, _ in fn.next_functions:
            if nxt is not None:
                edges += 1
                stack.append(nxt)
    return names, edges


def by_color(nodes, color):
    return [label for label, c in nodes.values() if c == color]


def grey_edges(nodes, edges):
    grey = {k for k, (_, c) in nodes.items() if c == "lightgrey"}
    return sum(1 for a, b, _ in edges if a in grey and b in grey)


def test_make_dot_of_an_mlp_has_the_backward_nodes_and_edges_pytorch_records():
    def mlp(lib, x, w1, b1, w2, b2):
        return (lib.relu(x @ w1 + b1) @ w2 + b2).pow(2).mean()

    shapes = [(4, 3), (3,), (3, 2), (2,)]
    ps = [cr.randn(*s, requires_grad=True) for s in shapes]
    tps = [torch.randn(*s, requires_grad=True) for s in shapes]
    y, ty = mlp(cr, cr.randn(5, 4), *ps), mlp(torch, torch.randn(5, 4), *tps)
    names = dict(zip(["w1", "b1", "w2", "b2"], ps))
    nodes, edges = parse(make_dot(y, params=names).source)
    tnames, n_edges = torch_graph(ty)
    assert Counter(by_color(nodes, "lightgrey")) == tnames
    assert grey_edges(nodes, edges) == n_edges
    assert len(by_color(nodes, "lightblue")) == tnames["AccumulateGrad"] == 4
    assert len(by_color(nodes, "darkolivegreen1")) == 1
    assert len(edges) == n_edges + 4 + 1  # + leaf -> AccumulateGrad, + root -> output


def test_make_dot_shares_a_reused_subexpression_and_leaf_as_pytorch_does():
    a, b = cr.randn(3, requires_grad=True), cr.randn(3, requires_grad=True)
    ta, tb = torch.randn(3, requires_grad=True), torch.randn(3, requires_grad=True)
    z, tz = a * b, ta * tb
    y, ty = (z.sin() * z.cos() + a).sum(), (tz.sin() * tz.cos() + ta).sum()
    nodes, edges = parse(make_dot(y).source)
    names, n_edges = torch_graph(ty)
    assert Counter(by_color(nodes, "lightgrey")) == names
    assert grey_edges(nodes, edges) == n_edges
    assert len(by_color(nodes, "lightblue")) == 2


def test_make_dot_names_leaf_parameters_with_their_shapes():
    net = nn.Sequential(nn.Linear(4, 3))
    nodes, _ = parse(make_dot(net(cr.ones(2, 4)), params=dict(net.named_parameters())).source)
    assert sorted(by_color(nodes, "lightblue")) == ["0.bias\\n (3)", "0.weight\\n (3, 4)"]
    assert by_color(nodes, "darkolivegreen1") == ["\\n (2, 3)"]


def test_make_dot_show_saved_draws_what_each_node_keeps_for_backward_in_orange():
    a, b = cr.randn(2, 3, requires_grad=True), cr.randn(2, 3, requires_grad=True)
    y = (a * b).exp()  # mul keeps both inputs, exp keeps its result
    nodes, edges = parse(make_dot(y, show_saved=True).source)
    orange = by_color(nodes, "orange")
    assert sorted(orange) == ["input0\\n (2, 3)", "input1\\n (2, 3)", "result\\n (2, 3)"]
    saved_ids = {k for k, (_, c) in nodes.items() if c == "orange"}
    assert sum(1 for _, h, attrs in edges if h in saved_ids and attrs.get("dir") == "none") == 3
    assert not by_color(parse(make_dot(y).source)[0], "orange")


def test_make_dot_shows_no_saved_tensors_once_backward_freed_them():
    a = cr.randn(3, requires_grad=True)
    y = (a * a).sum()
    y.backward()
    nodes, _ = parse(make_dot(y, show_saved=True).source)
    assert not by_color(nodes, "orange")
    assert len(by_color(nodes, "lightgrey")) == 3  # Sum, Mul, AccumulateGrad


class Square(cr.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return 2 * a * g


def test_make_dot_shows_what_a_custom_function_saved_and_hides_its_context():
    x = cr.randn(3, requires_grad=True)
    nodes, _ = parse(make_dot(Square.apply(x).sum(), show_saved=True, show_attrs=True).source)
    assert by_color(nodes, "orange") == ["saved_tensors[0]\\n (3)"]
    assert "SquareBackward" in by_color(nodes, "lightgrey")  # no context object printed


def test_make_dot_draws_the_graph_of_a_gradient_built_with_create_graph():
    x = cr.randn(3, requires_grad=True)
    g, = cr.autograd.grad((x ** 3).sum(), x, create_graph=True)
    nodes, edges = parse(make_dot(g, params={"x": x}).source)
    assert by_color(nodes, "lightblue") == ["x\\n (3)"]
    assert by_color(nodes, "darkolivegreen1") == ["\\n (3)"]
    assert Counter(by_color(nodes, "lightgrey"))["AccumulateGrad"] == 1
    assert len(by_color(nodes, "lightgrey")) >= 3


def test_make_dot_of_several_outputs_draws_each_green_over_one_shared_graph():
    a = cr.randn(3, requires_grad=True)
    h = a.tanh()
    nodes, edges = parse(make_dot((h.sum(), (h * 2).mean())).source)
    assert len(by_color(nodes, "darkolivegreen1")) == 2
    assert Counter(by_color(nodes, "lightgrey"))["TanhBackward0"] == 1
    assert Counter(by_color(nodes, "lightgrey"))["AccumulateGrad"] == 1


def test_make_dot_links_a_view_output_to_its_base_with_a_dotted_edge():
    x = cr.randn(3, 4, requires_grad=True)
    base = x * 2
    nodes, edges = parse(make_dot(base[0]).source)
    assert len(by_color(nodes, "darkolivegreen3")) == 1
    assert sum(attrs.get("style") == "dotted" for _, _, attrs in edges) == 1


def test_make_dot_of_a_leaf_output_draws_the_leaf_and_its_accumulator():
    w = cr.zeros(2, requires_grad=True)
    nodes, edges = parse(make_dot(w).source)
    assert by_color(nodes, "lightgrey") == ["AccumulateGrad"]
    assert len(edges) == 2


def test_make_dot_show_attrs_lists_node_arguments_truncated():
    x = cr.randn(4, 5, requires_grad=True)
    nodes, _ = parse(make_dot(x.sum(1), show_attrs=True, max_attr_chars=12).source)
    sum_label = next(lbl for lbl, c in nodes.values() if lbl.startswith("SumBackward"))
    lines = sum_label.split("\\n")
    assert len(lines) > 2 and set(lines[1]) == {"-"}
    assert all(len(s) <= 12 for s in lines[2:])


def test_make_dot_of_a_long_chain_does_not_hit_the_recursion_limit():
    x = cr.randn(2, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    nodes, edges = parse(make_dot(y).source)
    assert Counter(by_color(nodes, "lightgrey"))["MulBackward0"] == 3000


def test_make_dot_escapes_quotes_and_backslashes_in_names():
    w = cr.ones(2, requires_grad=True)
    src = make_dot(w * 3, params={'odd "name" \\ here': w}).source
    assert 'odd \\"name\\" \\\\ here' in src


def test_make_dot_rejects_what_is_not_a_tensor():
    with pytest.raises(TypeError, match="make_dot: var must be a tensor"):
        make_dot([1.0, 2.0])
    with pytest.raises(TypeError, match="make_dot: params must be a dict"):
        make_dot(cr.ones(2, requires_grad=True), params=[1])
    with pytest.raises(TypeError, match=r"make_dot: params\['w'\] must be a tensor"):
        make_dot(cr.ones(2, requires_grad=True), params={"w": 3})


@needs_dot
def test_make_dot_renders_svg_and_png_with_graphviz(tmp_path):
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    g = make_dot(net(cr.randn(2, 4)).sum(), params={'we"ird': net[0].weight})
    svg = g.pipe("svg")
    assert svg.lstrip().startswith(b"<?xml") and b"AddmmBackward0" in svg
    assert "<svg" in g._repr_mimebundle_(include=["image/svg+xml"])["image/svg+xml"]
    out = g.render(tmp_path / "graph", format="png")
    assert out == str(tmp_path / "graph.png")
    assert open(out, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "graph").read_text() == g.source
    g.render(tmp_path / "g2", format="svg", cleanup=True)
    assert not (tmp_path / "g2").exists() and (tmp_path / "g2.svg").exists()


def test_pipe_refuses_an_unknown_format_by_name():
    g = make_dot(cr.ones(2, requires_grad=True) * 2)
    with pytest.raises(ValueError, match="unknown format: 'nosuchformat'"):
        g.pipe("nosuchformat")
    with pytest.raises(ValueError, match="unknown format: 'svg; rm'"):
        g.pipe("svg; rm")


def test_rendering_without_dot_says_to_install_graphviz(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    g = make_dot(cr.ones(2, requires_grad=True) * 2)
    assert g.source.startswith("digraph {")  # the DOT text needs no Graphviz
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        g.pipe("svg")
    with pytest.raises(graphviz.ExecutableNotFound, match="apt-get install graphviz"):
        g.render(tmp_path / "graph", format="png")  # torchviz code's except clause works
    assert not (tmp_path / "graph.png").exists()


def test_drawing_without_the_graphviz_package_names_the_package_to_install():
    script = ("import sys; sys.modules['graphviz'] = None\n"
              "import chainrule as cr\n"
              "from chainrule.viz import make_dot\n"
              "try:\n"
              "    make_dot(cr.ones(2, requires_grad=True) * 2)\n"
              "except ModuleNotFoundError as err:\n"
              "    print(err)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "needs the graphviz package: pip install 'chainrule[viz]'" in out.stdout


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 2)

    def forward(self, x):
        h = nn.functional.relu(self.l1(x))  # a functional op between layers
        return self.l3(self.l2(h) + x)      # a skip connection from the input


def labels_and_edges(dot):
    nodes, edges = parse(dot.source)
    name = {k: lbl.split("\\n")[0] for k, (lbl, _) in nodes.items()}
    return name, sorted((name[a], name[b]) for a, b, _ in edges)


def test_plot_model_draws_each_layer_with_shapes_and_torchs_parameter_counts():
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 2))
    tnet = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 8), torch.nn.ReLU(),
                               torch.nn.Linear(8, 2))
    nodes, edges = parse(plot_model(net, (2, 3, 4)).source)
    labels = [lbl for lbl, _ in nodes.values()]
    assert labels[0] == "input0\\n[2, 3, 4] chainrule.float32"
    for i, (m, lbl) in enumerate(zip(tnet, labels[1:])):
        n = sum(p.numel() for p in m.parameters())
        assert lbl.startswith(f"{i} ({type(m).__name__})") and lbl.endswith(f"params: {n:,}")
    assert "in: [2, 12]  out: [2, 8]" in labels[2]
    assert len(edges) == 4


def test_plot_model_follows_the_data_flow_through_functional_ops_and_skips():
    _, edges = labels_and_edges(plot_model(Residual(), (1, 4)))
    assert edges == sorted([("input0", "l1 (Linear)"), ("l1 (Linear)", "l2 (Linear)"),
                            ("input0", "l3 (Linear)"), ("l2 (Linear)", "l3 (Linear)")])


def test_plot_model_materialises_lazy_layers_and_restores_training_mode():
    net = nn.Sequential(nn.LazyLinear(5), nn.Dropout(0.5))
    nodes, _ = parse(plot_model(net, (3, 7), show_shapes=False).source)
    assert net[0].weight.shape == (5, 7)
    assert any(lbl == "0 (Linear)\\nparams: 40" for lbl, _ in nodes.values())
    assert net.training and net[1].training


def test_plot_model_rejects_bad_arguments():
    net = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="plot_model: rankdir"):
        plot_model(net, (1, 3), rankdir="up")
    with pytest.raises(ValueError, match="plot_model: input_size must be a shape"):
        plot_model(net, (1, -3))
    with pytest.raises(RuntimeError, match=r"plot_model: running the model on a batch of "
                                           r"shape\(s\) \[\(1, 5\)\] failed"):
        plot_model(net, (1, 5))


@needs_dot
def test_plot_model_to_file_renders_in_the_extensions_format(tmp_path):
    plot_model(Residual(), (1, 4), to_file=tmp_path / "model.png", rankdir="LR")
    assert (tmp_path / "model.png").read_bytes()[:4] == b"\x89PNG"
