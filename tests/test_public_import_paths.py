"""Public import paths stay where PyTorch and the docs put them, whatever the package's
folders: every module path the README and docs/ import or reference resolves, and the
paths PyTorch code uses after `import chainrule as torch` are attributes too."""
import importlib
import re
from pathlib import Path

import pytest

import chainrule

ROOT = Path(__file__).resolve().parent.parent
PYTORCH_PATHS = ["nn", "nn.functional", "nn.init", "nn.utils", "nn.parallel", "optim",
                 "optim.lr_scheduler", "utils", "utils.data", "utils.tensorboard",
                 "utils.hooks", "autograd", "autograd.functional", "autograd.function",
                 "distributions", "distributed", "linalg", "cuda", "accelerator", "random",
                 "serialization"]
REFERENCE = re.compile(r"(?:from|import|:::)\s+(chainrule(?:\.\w+)*)")


def _documented_paths():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    found = set()
    for page in pages:
        found.update(REFERENCE.findall(page.read_text()))
    return sorted(found)


def _resolve(dotted):
    """Import the longest module prefix, then walk attributes (a `::: chainrule.Tensor`
    names a class)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ModuleNotFoundError(dotted)


def test_docs_reference_many_import_paths():
    assert len(_documented_paths()) > 20


@pytest.mark.parametrize("dotted", _documented_paths())
def test_documented_import_path_resolves(dotted):
    assert _resolve(dotted) is not None


@pytest.mark.parametrize("path", PYTORCH_PATHS)
def test_pytorch_module_path_imports_and_is_an_attribute(path):
    module = importlib.import_module(f"chainrule.{path}")
    obj = chainrule
    for name in path.split("."):
        obj = getattr(obj, name)
    assert obj is module
