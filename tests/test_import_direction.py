"""The direction of imports: tensors/tensor.py builds on autograd's core, never the reverse at
import time, and no module patches names into another after the fact."""
import ast
import importlib
import importlib.util
import inspect
import pathlib

import pytest

import chainrule
from chainrule.autograd.function import TensorBase

SRC = pathlib.Path(chainrule.__file__).parent


def _module_level_imports(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:  # only statements that run at import time
        if isinstance(node, ast.ImportFrom):
            yield "." * node.level + (node.module or ""), [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, []


def test_autograd_modules_do_not_import_tensor_module_at_import_time():
    offenders = []
    for path in sorted((SRC / "autograd").glob("*.py")):
        for module, names in _module_level_imports(path):
            if module in ("..tensors.tensor", "chainrule.tensors.tensor") or \
                    (module == "..tensors" and "tensor" in names):
                offenders.append(f"{path.name}: from {module} import {names}")
    assert offenders == []


def _imported_modules(path, tree):
    """Names a module binds at import time to other modules (not classes or functions)."""
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    package = ".".join(parts[:-1] if parts[-1] != "__init__" else parts[:-1])
    names = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = importlib.import_module(a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            base = importlib.import_module("." * node.level + (node.module or ""), package) \
                if node.level else importlib.import_module(node.module)
            for a in node.names:
                obj = getattr(base, a.name, None)
                if inspect.ismodule(obj):
                    names[a.asname or a.name] = obj
    return names


@pytest.mark.slow
def test_no_module_assigns_into_another_module_at_import_time():
    """`function.Tensor = Tensor` style late binding hides a dependency; refuse it.
    (Binding methods onto the Tensor class, as tensors/methods.py does, is not this.)"""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text())
        modules = _imported_modules(path, tree)
        for node in tree.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                            and target.value.id in modules):
                        offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


def test_every_tensor_is_the_type_autograd_records():
    x = chainrule.ones(2, requires_grad=True)
    p = chainrule.nn.Parameter(chainrule.ones(2))
    assert isinstance(x, TensorBase) and isinstance(p, TensorBase)
    assert (x * p).sum().grad_fn is not None


def test_every_relative_import_in_the_package_names_a_module_that_exists():
    """Imports inside functions run late, so a moved module would break only when they
    run; this finds them all at once."""
    missing = []
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        package = parts[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            base = ".".join(package[: len(package) - node.level + 1]
                            + ([node.module] if node.module else []))
            try:
                found = importlib.util.find_spec(base) is not None
            except ModuleNotFoundError:  # a parent package is missing
                found = False
            if not found:
                missing.append(f"{path.relative_to(SRC)}:{node.lineno}: {base}")
    assert missing == []
