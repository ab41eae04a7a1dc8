"""The code blocks of a Markdown page (README.md, docs/**/*.md), found and run as a reader
would run them: every block of a page in order, Python blocks in one namespace, shell
blocks with bash, all in one working folder.

A block that is not meant to run carries a comment on the line before its fence that says
why: `<!-- no-run: needs a GPU -->`. A block whose fence names a file
(```toml title="settings.toml") is written to that file, so later commands can read it.

    python tools/markdown_blocks.py docs/learn/autograd.md    # run one page here

The tests (tests/test_docs_code_blocks.py) and the site's build hook (figures made by the
pages' own code) both run pages through `run_page`.
"""
import dataclasses
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = {"python", "py"}
SHELL = {"bash", "sh", "shell"}
# repository folders that commands name relatively (python examples/mlp.py)
LINKED_FOLDERS = ("examples", "benchmarks", "tools")

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_NO_RUN = re.compile(r"^\s*<!--\s*no-run(?P<rest>.*?)-->\s*$")
_TITLE = re.compile(r"""title=["']([^"']+)["']""")


@dataclasses.dataclass
class Block:
    language: str
    code: str
    line: int              # line of the first code line in the page (1-based)
    no_run: str | None     # the reason given, "" when the marker has none
    title: str | None      # a file name from title="...", if any

    @property
    def runs(self):
        return self.no_run is None and (self.language in PYTHON | SHELL or bool(self.title))


def _info(info):
    """(language, title) of a fence's info string: ```python title="a.py" -> ('python', 'a.py')."""
    words = info.strip().lstrip("{").split()
    language = words[0].lstrip(".").lower() if words else ""
    title = _TITLE.search(info)
    return language, title.group(1) if title else None


def blocks(text):
    """Every fenced block of a Markdown text, with the no-run marker that precedes it."""
    lines = text.splitlines()
    found, i = [], 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        language, title = _info(opening["info"])
        end = i + 1
        while end < len(lines) and not re.match(rf"^ *{re.escape(fence[0])}{{{len(fence)},}}\s*$",
                                                lines[end]):
            end += 1
        body = [line[indent:] if line[:indent].strip() == "" else line for line in lines[i + 1:end]]
        found.append(Block(language, "\n".join(body) + "\n", i + 2, _marker(lines, i), title))
        i = end + 1
    return found


def _marker(lines, fence_index):
    j = fence_index - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    marker = _NO_RUN.match(lines[j]) if j >= 0 else None
    if marker is None:
        return None
    return marker["rest"].strip().lstrip(":").strip()


def page_environment(workdir):
    """The environment a page runs in: this interpreter's scripts first on PATH, figures
    written into the working folder, no display."""
    env = dict(os.environ)
    scripts = str(Path(sys.executable).parent)
    env["PATH"] = scripts + os.pathsep + env.get("PATH", "")
    env.update(MPLBACKEND="Agg", CHAINRULE_FIGURE_DIR=str(workdir),
               CHAINRULE_DATA=str(Path(workdir) / "data"), PYTHONHASHSEED="0",
               # MPI launchers inside containers that run as root (see the MPI guide)
               HYDRA_LAUNCHER="fork", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    pythonpath = [str(ROOT / "src")] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(pythonpath)
    return env


def run_page(page, workdir, timeout=600):
    """Run a page's blocks in a fresh interpreter inside `workdir`; CompletedProcess back."""
    workdir = Path(workdir)
    for name in LINKED_FOLDERS:
        link = workdir / name
        if not link.exists() and (ROOT / name).is_dir():
            link.symlink_to(ROOT / name, target_is_directory=True)
    return subprocess.run([sys.executable, str(Path(__file__).resolve()), "--exec",
                           str(Path(page).resolve())], cwd=workdir, env=page_environment(workdir),
                          capture_output=True, text=True, timeout=timeout)


def _exec_page(page):
    """Inside the page's interpreter: every block that runs, in order, one namespace."""
    namespace = {"__name__": "__main__"}
    for block in blocks(Path(page).read_text(encoding="utf-8")):
        if not block.runs:
            continue
        start = time.perf_counter()
        where = f"{page}:{block.line}"
        if block.title:
            Path(block.title).parent.mkdir(parents=True, exist_ok=True)
            Path(block.title).write_text(block.code, encoding="utf-8")
        elif block.language in PYTHON:
            # padded so that a traceback's line numbers are the page's own
            code = compile("\n" * (block.line - 1) + block.code, str(page), "exec")
            exec(code, namespace)  # noqa: S102 - the page's code is what is being tested
        else:
            sys.stdout.flush()
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", block.code])
            if done.returncode:
                raise SystemExit(f"{where}: the shell block failed (exit {done.returncode}):\n"
                                 + block.code)
        print(f"[block {where} ran in {time.perf_counter() - start:.1f} s]", flush=True)


def main(argv):
    if len(argv) == 2 and argv[0] == "--exec":
        _exec_page(argv[1])
        return 0
    if len(argv) != 1:
        print(__doc__)
        return 2
    with tempfile.TemporaryDirectory() as workdir:
        done = run_page(argv[0], workdir)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
