"""The design guide's drawing of the layers is made from the code (tools/draw_layers.py):
the checked-in DOT text must be what the code gives now, so the map cannot drift."""
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("draw_layers", ROOT / "tools" / "draw_layers.py")
draw_layers = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(draw_layers)


def test_design_guide_drawing_is_what_the_code_gives_now():
    assert draw_layers.DOT_FILE.read_text() == draw_layers.layers_dot(), \
        "stale drawing: run python tools/draw_layers.py"


def test_layers_drawing_has_a_box_for_every_package_folder():
    dot = draw_layers.layers_dot()
    folders = [p.name for p in draw_layers.SRC.iterdir() if (p / "__init__.py").exists()]
    assert len(folders) > 10
    for name in folders:
        assert f'"{name}" [label=' in dot, name


def test_checked_in_svg_shows_every_box_of_the_dot():
    boxes = set(re.findall(r'^  "(\w+)" \[label=', draw_layers.DOT_FILE.read_text(), re.M))
    svg_titles = set(re.findall(r"<title>(\w+)</title>", draw_layers.SVG_FILE.read_text()))
    assert boxes and boxes <= svg_titles


def test_an_arrow_is_left_out_only_when_a_longer_path_connects_its_ends():
    found = {("train", "nn"): 1, ("nn", "tensors"): 1, ("train", "tensors"): 1}
    assert set(draw_layers.reduced(found)) == {("train", "nn"), ("nn", "tensors")}


@pytest.mark.parametrize("importer", ["linalg", "nn"])
def test_boxes_that_import_each_other_keep_their_arrows_to_lower_layers(importer):
    # tensors and ops import each other: both still point to autograd, and a box above
    # keeps its arrows into the pair
    found = {("tensors", "ops"): 1, ("ops", "tensors"): 1, ("tensors", "autograd"): 1,
             ("ops", "autograd"): 1, (importer, "tensors"): 1, (importer, "ops"): 1}
    assert set(draw_layers.reduced(found)) == set(found)
