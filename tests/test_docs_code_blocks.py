"""Every code block of README.md and docs/ runs as printed: a page's Python blocks in order
in one namespace, its shell blocks with bash, all in a fresh folder (the runner is
tools/markdown_blocks.py, shared with the site's build). A block not meant to run says
why on the line before it: `<!-- no-run: installs packages -->`."""
import importlib
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import markdown_blocks  # noqa: E402

pytestmark = pytest.mark.slow  # starts processes or runs long work: `-m "not slow"` skips it

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _name(page):
    return str(page.relative_to(ROOT))


def _blocks(page):
    return markdown_blocks.blocks(page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", [p for p in PAGES if any(b.runs for b in _blocks(p))], ids=_name)
def test_page_code_blocks_run_as_printed(page, tmp_path):
    done = markdown_blocks.run_page(page, tmp_path)
    assert done.returncode == 0, f"{_name(page)}:\n{(done.stdout + done.stderr)[-6000:]}"


def test_every_block_not_run_says_why():
    silent = [f"{_name(p)}:{b.line}" for p in PAGES for b in _blocks(p) if b.no_run == ""]
    assert not silent, f"no-run markers without a reason: {silent}"


def test_every_fence_names_its_language():
    bare = [f"{_name(p)}:{b.line}" for p in PAGES for b in _blocks(p) if not b.language]
    assert not bare, f"fences without a language (python, bash, text, ...): {bare}"


def test_every_list_and_table_is_set_off_by_a_blank_line():
    # GitHub renders a list glued to the paragraph above it; MkDocs prints it as text
    glued = []
    for page in PAGES:
        in_code, previous = False, ""
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(r"^\s*(`{3,}|~{3,})", line):
                in_code = not in_code
            starts = re.match(r"^(- |\* |\d+\. |\|)", line)
            if not in_code and starts and previous.strip() and not re.match(
                    r"^(\s|- |\* |\d+\. |\|)", previous):
                glued.append(f"{_name(page)}:{number}")
            previous = line
    assert not glued, f"lists or tables right after a paragraph line: {glued}"


def test_the_readmes_links_into_the_docs_lead_to_files():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = [t.split("#")[0] for t in re.findall(r"\]\(([^)\s]+)\)", readme) if "://" not in t]
    assert targets and all((ROOT / t).exists() for t in targets), \
        [t for t in targets if not (ROOT / t).exists()]


def test_every_path_the_api_reference_documents_imports():
    paths = {m for page in (ROOT / "docs" / "reference").glob("*.md")
             for m in re.findall(r"^::: ([\w.]+)", page.read_text(encoding="utf-8"), re.M)}
    assert {"chainrule.Tensor", "chainrule.nn", "chainrule.nn.functional", "chainrule.optim",
            "chainrule.utils.data", "chainrule.train", "chainrule.d2l",
            "chainrule.linalg", "chainrule.distributed"} <= paths
    for path in sorted(paths):
        module, _, attribute = path, "", ""
        while True:
            try:
                found = importlib.import_module(module)
                break
            except ModuleNotFoundError:
                module, _, last = module.rpartition(".")
                attribute = f"{last}.{attribute}".strip(".")
        for part in filter(None, attribute.split(".")):
            found = getattr(found, part)


def test_the_runner_names_the_page_and_line_of_a_failing_block(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A page\n\n```python\nx = 1\n```\n\n```python\n\nraise ValueError('oops')\n```\n",
                    encoding="utf-8")
    (tmp_path / "work").mkdir()
    done = markdown_blocks.run_page(page, tmp_path / "work")
    assert done.returncode != 0
    assert f'File "{page}", line 9' in done.stderr and "ValueError: oops" in done.stderr


def test_the_runner_skips_marked_blocks_writes_titled_ones_and_runs_shell(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- no-run: shows an error on purpose -->\n```python\nraise SystemExit(3)\n```\n\n"
        '```toml title="settings.toml"\nepochs = 2\n```\n\n'
        "```bash\ntest \"$(cat settings.toml)\" = 'epochs = 2' && echo shell-ran\n```\n\n"
        "```python\nimport pathlib\nprint(pathlib.Path('settings.toml').read_text().strip())\n```\n",
        encoding="utf-8")
    (tmp_path / "work").mkdir()
    done = markdown_blocks.run_page(page, tmp_path / "work")
    assert done.returncode == 0, done.stderr
    assert "shell-ran" in done.stdout and "epochs = 2" in done.stdout
    assert markdown_blocks.blocks(page.read_text())[0].no_run == "shows an error on purpose"
