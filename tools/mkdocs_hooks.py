"""MkDocs hooks for chainrule's site (named in mkdocs.yml).

- Figures: a page that shows an image it does not ship (`![curves](softmax_curves.png)`
  with no such file in docs/) makes it with its own code. The page's blocks run once per
  build, in a temporary folder, exactly as the tests run them, and the images they wrote
  join the site beside the page. Nothing is written into docs/.
- The `chainrule` namespace: its reference page lists every public name of the package,
  grouped by the module that defines it, so a function added to `chainrule/__init__.py`
  appears without anyone editing the page.
"""
import hashlib
import logging
import re
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

sys.path.insert(0, str(Path(__file__).resolve().parent))
import markdown_blocks  # noqa: E402

log = logging.getLogger("mkdocs.plugins.chainrule")
_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
_CODE = re.compile(r"^(`{3,}|~{3,}).*?^\1|`[^`\n]+`", re.M | re.S)
_WORKDIRS = tempfile.TemporaryDirectory(prefix="chainrule-docs-")
_RUNS = {}  # (page, text digest) -> {relative image path: file made by the page}


def _missing_images(page_file, files):
    text = Path(page_file.abs_src_path).read_text(encoding="utf-8")
    folder = PurePosixPath(page_file.src_uri).parent
    missing = []
    for target in _IMAGE.findall(_CODE.sub("", text)):
        if "://" in target or target.startswith("/"):
            continue
        if files.get_file_from_path(str(folder / target)) is None:
            missing.append(target)
    return text, missing


def _run(page_file, text):
    key = (page_file.src_uri, hashlib.sha256(text.encode()).hexdigest())
    if key not in _RUNS:
        workdir = Path(_WORKDIRS.name) / f"run{len(_RUNS)}"
        workdir.mkdir()
        start = time.perf_counter()
        done = markdown_blocks.run_page(page_file.abs_src_path, workdir)
        if done.returncode:
            raise PluginError(f"{page_file.src_uri}: its code failed while making its figures:\n"
                              + (done.stdout + done.stderr)[-4000:])
        log.info("%s: ran its code in %.1f s", page_file.src_uri, time.perf_counter() - start)
        _RUNS[key] = workdir
    return _RUNS[key]


def on_files(files, config):
    for page_file in list(files.documentation_pages()):
        text, missing = _missing_images(page_file, files)
        if not missing:
            continue
        workdir = _run(page_file, text)
        folder = PurePosixPath(page_file.src_uri).parent
        for target in missing:
            made = workdir / target
            if not made.is_file():
                raise PluginError(f"{page_file.src_uri} shows {target}, which neither docs/ "
                                  "holds nor the page's code wrote")
            files.append(File.generated(config, str(folder / target), abs_src_path=str(made)))
    return files


# the top-level namespace, grouped; a defining module not named here lands in "Other"
_GROUPS = [
    ("Tensors, dtypes and devices", ("tensors.tensor", "tensors.dtypes", "tensors.devices",
                                     "tensors.legacy_types", "tensors.type_info",
                                     "tensors.printing")),
    ("Creating tensors", ("tensors.creation",)),
    ("Random numbers", ("random",)),
    ("Gradient modes", ("autograd",)),
    ("Pointwise math", ("ops.elementwise", "ops.power", "ops.comparison", "ops.division", "ops.pointwise_math",
                        "ops.fmod_and_nan_to_num", "ops.special", "ops.heaviside", "ops.bitwise",
                        "ops.compound")),
    ("Reductions, softmax and scans", ("ops.reduction", "ops.softmax", "ops.scan")),
    ("Shapes, views and combining", ("ops.shape", "ops.arrange", "ops.combine",
                                     "tensors.function_forms")),
    ("Indexing, sorting and searching", ("ops.indexing", "ops.scatter", "ops.scatter_reduce",
                                         "ops.sorting", "ops.searching")),
    ("Products, linear algebra and convolution", ("ops.linalg", "ops.einsum", "ops.conv",
                                                  "linalg")),
    ("Threads", ("threads",)),
]


def _top_level_groups():
    """{title: ([names the source defines], [names made at import time])}."""
    import griffe
    package = griffe.load("chainrule", search_paths=[str(markdown_blocks.ROOT / "src")])
    where = {module: title for title, modules in _GROUPS for module in modules}
    grouped = {title: ([], []) for title, _ in _GROUPS + [("Other", ())]}
    for name, member in package.members.items():
        if name.startswith("_"):
            continue
        module, static = "", True
        if member.is_alias:
            module = member.target_path.removeprefix("chainrule.").rsplit(".", 1)[0]
            static = _resolves(member)
        if static and member.is_module:
            continue
        grouped[where.get(module, "Other")][0 if static else 1].append(name)
    return {title: names for title, names in grouped.items() if names[0] or names[1]}


def _resolves(alias):
    import griffe
    try:
        alias.final_target  # noqa: B018 - resolving is the test
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return False
    return True


def _made_at_import(name):
    """A name the source makes by a call (zeros, ones, empty): documented from the object."""
    import inspect
    import chainrule
    obj = getattr(chainrule, name)
    if not callable(obj):  # a constant: pi, e, inf, nan, newaxis
        return f"### `chainrule.{name}`\n\n```python\n{name} = {obj!r}\n```\n"
    try:
        signature = f"{name}{inspect.signature(obj)}"
    except (TypeError, ValueError):
        signature = name
    doc = inspect.getdoc(obj) or ""
    return f"### `chainrule.{name}`\n\n```python\n{signature}\n```\n\n{doc}\n"


def _namespace_markdown():
    parts = []
    for title, (static, dynamic) in _top_level_groups().items():
        parts.append(f"## {title}\n")
        if static:
            parts.append("::: chainrule\n    options:\n      show_root_heading: false\n"
                         f"      heading_level: 3\n      members: [{', '.join(sorted(static))}]\n")
        parts.extend(_made_at_import(name) for name in sorted(dynamic))
    return "\n".join(parts)


def on_page_markdown(markdown, page, config, files):
    marker = "<!-- the chainrule namespace -->"
    if marker in markdown:
        markdown = markdown.replace(marker, _namespace_markdown())
    return markdown
