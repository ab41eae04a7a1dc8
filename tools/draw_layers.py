"""Draw chainrule's layers from its code: one box per folder (or top-level module) of
src/chainrule, one arrow per folder another one imports when it is imported (left out where a
longer path already connects the two). The drawing
in the design guide is this script's output, and a test compares the checked-in DOT text
with what the code gives now, so the map cannot drift from the code.

    python tools/draw_layers.py          # writes docs/guides/layers.dot and layers.svg
    python tools/draw_layers.py --check  # exit 1 when the checked-in drawing is stale
"""
import ast
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "chainrule"
DOT_FILE = ROOT / "docs" / "guides" / "layers.dot"
SVG_FILE = DOT_FILE.with_suffix(".svg")

# what each box holds, shown under its name
ROLES = {
    "tensors": "Tensor, dtypes, views, methods", "ops": "ops tables: forward + gradient rules",
    "autograd": "graph nodes, engine", "runtime": "recording hooks, atomic writes",
    "compat": "PyTorch's names", "nn": "modules, functional, losses", "optim": "optimizers",
    "compiler": "record and replay", "train": "fit, callbacks, diagnosis",
    "cli": "the chainrule command", "d2l": "the book's helpers", "vision": "datasets, transforms",
    "utils": "data loading, TensorBoard", "viz": "graphs, summaries", "sklearn": "estimators",
    "distributed": "MPI process groups", "distributions": "probability distributions",
    "threads": "products cut by shape", "random": "the seeded generator",
    "linalg": "torch.linalg", "serialization": "save / load", "cuda": "torch.cuda answers",
    "accelerator": "torch.accelerator answers",
}


def part_of(module):
    """The box a module belongs to: its folder under chainrule, or itself at the top."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _module_name(path):
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), ".".join(parts[:-1])
    return ".".join(parts), ".".join(parts[:-1])


def _import_time_statements(body):
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.If, ast.Try)):
            inner = node.body + node.orelse + getattr(node, "finalbody", [])
            for handler in getattr(node, "handlers", []):
                inner += handler.body
            yield from _import_time_statements(inner)


def _targets(node, package):
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level == 0:
        base = node.module or ""
    else:
        pkg = package.split(".")
        base = ".".join(pkg[: len(pkg) - node.level + 1] + ([node.module] if node.module else []))
    if node.module is None:  # from . import a, b: each name is a module
        return [f"{base}.{a.name}" for a in node.names]
    return [base]


def edges():
    """Counter of (importer box, imported box) over import-time imports."""
    found = Counter()
    for path in sorted(SRC.rglob("*.py")):
        module, package = _module_name(path)
        source = part_of(module)
        if source in (None, "__main__"):  # the package's entry points gather; not layers
            continue
        for node in _import_time_statements(ast.parse(path.read_text()).body):
            for target in _targets(node, package):
                if target.startswith("chainrule."):
                    box = part_of(target)
                    if box and box != source:
                        found[(source, box)] += 1
    return found


def _reach(graph, start):
    seen, todo = {start}, [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def reduced(found):
    """Leave out an arrow a -> b when a longer path already leads from a's group to b's
    (groups: boxes that import each other, drawn with all their arrows), so the drawing
    shows the layering and each import stays visible through its path."""
    graph = {}
    for a, b in found:
        graph.setdefault(a, set()).add(b)
    reach = {n: _reach(graph, n) for n in {x for pair in found for x in pair}}
    group = {n: frozenset(m for m in reach if n in reach[m] and m in reach[n]) for n in reach}
    between = {(group[a], group[b]) for a, b in found if group[a] != group[b]}
    dag = {}
    for ga, gb in between:
        dag.setdefault(ga, set()).add(gb)

    def longer_path(ga, gb):
        return any(gb in _reach(dag, mid) for mid in dag[ga] if mid != gb)
    return {(a, b): n for (a, b), n in found.items()
            if group[a] == group[b] or not longer_path(group[a], group[b])}


def layers_dot():
    found = reduced(edges())
    boxes = sorted({b for pair in found for b in pair} | {p.stem if p.is_file() else p.name
                    for p in SRC.iterdir() if not p.name.startswith(".") and p.name != "__init__.py"
                    and p.name != "__main__.py"
                    and (p.suffix == ".py" or (p / "__init__.py").exists())})
    lines = ["digraph layers {", '  rankdir=TB; node [shape=box, fontname="Helvetica", fontsize=11];',
             '  edge [color="#555555", arrowsize=0.6];']
    for box in boxes:
        role = ROLES.get(box, "")
        label = f"{box}\\n{role}" if role else box
        lines.append(f'  "{box}" [label="{label}"];')
    for (a, b), n in sorted(found.items()):
        lines.append(f'  "{a}" -> "{b}" [penwidth={1 + min(n, 20) / 10:.1f}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv):
    text = layers_dot()
    if "--check" in argv:
        stale = not DOT_FILE.exists() or DOT_FILE.read_text() != text
        print("stale: run python tools/draw_layers.py" if stale else "up to date")
        return 1 if stale else 0
    DOT_FILE.write_text(text)
    svg = subprocess.run(["dot", "-Tsvg"], input=text.encode(), capture_output=True, check=True)
    SVG_FILE.write_bytes(svg.stdout)
    print(f"wrote {DOT_FILE.relative_to(ROOT)} and {SVG_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
