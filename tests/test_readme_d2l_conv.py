"""The README's code for d2l chapters 6-7 and the command line's convolutional models
runs as printed: its Python block, its example commands and its `chainrule train` lines."""
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from cli_helpers import ok, run_cli
from helpers import needs_matplotlib

ROOT = Path(__file__).resolve().parent.parent
SECTION = "### d2l chapters 6–7"


def _blocks(text, language):
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def _section():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(SECTION)
    return readme[start:readme.index("\n### ", start + 1)]


def _commands(block):
    """Each line of a bash block without its trailing comment, split like a shell."""
    return [shlex.split(line.split("#", 1)[0]) for line in block.splitlines()
            if line.split("#", 1)[0].strip()]


def _env(tmp_path):
    return dict(os.environ, MPLBACKEND="Agg", CHAINRULE_FIGURE_DIR=str(tmp_path),
                CHAINRULE_DATA=str(tmp_path / "data"))


@needs_matplotlib
def test_readme_lenet_on_digits_snippet_runs_and_learns(tmp_path):
    (code,) = _blocks(_section(), "python")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("training on cpu\n")
    test_acc = float(re.search(r"test acc ([0-9.]+)", proc.stdout).group(1))
    assert test_acc > 0.7  # the comment in the README says 0.908
    assert (tmp_path / "train_ch6.png").is_file()


@needs_matplotlib
def test_readme_chapter_6_7_example_commands_run(tmp_path):
    (block,) = _blocks(_section(), "bash")
    commands = _commands(block)
    assert [c[1] for c in commands] == ["examples/d2l_ch6_lenet.py", "examples/d2l_ch7_resnet.py"]
    for command in commands:
        assert command[0] == "python"
        proc = subprocess.run([sys.executable, str(ROOT / command[1]), *command[2:]],
                              cwd=tmp_path, env=_env(tmp_path), capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "final:" in proc.stdout


@pytest.mark.parametrize("model", ["resnet", "lenet"])
def test_readme_cli_conv_model_lines_run(tmp_path, model):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = [b for b in _blocks(readme, "bash") if "--model lenet" in b]
    (command,) = [c for c in _commands(block) if c[2:4] == ["--model", model]]
    assert command[:2] == ["chainrule", "train"]
    result = ok(run_cli(tmp_path, *command[1:], "--quiet"))
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", result.stdout).group(1))
    assert accuracy > 0.8  # the README says about 0.97 and 0.89
