"""The message catalogs of chainrule.runtime.i18n: the messages the code marks with _() or N_()
(in the modules that import chainrule.runtime.i18n), and each locale's .po compiled to the .mo
gettext reads. Needs babel (pip install babel).

    python tools/i18n_catalog.py compile   # every locale/<lang>/LC_MESSAGES/*.po -> .mo
    python tools/i18n_catalog.py check     # messages missing from or stale in a .po
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "chainrule"
LOCALE = PACKAGE / "runtime" / "locale"
_USES_I18N = re.compile(r"^from (\.+|chainrule\.)(runtime\.)?i18n import", re.M)


def source_files():
    return sorted(p for p in PACKAGE.rglob("*.py")
                  if p.name != "i18n.py" and _USES_I18N.search(p.read_text(encoding="utf-8")))


def extract():
    """{msgid: 'file:line'} of every marked message, in the order they appear."""
    from babel.messages.extract import extract_from_file
    found = {}
    for path in source_files():
        for line, msg, _, _ in extract_from_file("python", str(path),
                                                 keywords={"_": None, "N_": None}):
            found.setdefault(msg, f"{path.relative_to(ROOT)}:{line}")
    return found


def po_files():
    return sorted(LOCALE.glob("*/LC_MESSAGES/chainrule.po"))


def read_po(path):
    from babel.messages.pofile import read_po as _read
    with open(path, "rb") as f:
        return _read(f)


def messages(catalog):
    """{msgid: msgstr} of a babel catalog, the header left out."""
    return {m.id: m.string for m in catalog if m.id}


def compile_po(path):
    from babel.messages.mofile import write_mo
    catalog = read_po(path)
    with open(path.with_suffix(".mo"), "wb") as f:
        write_mo(f, catalog)


def problems(path):
    """Lines saying what a .po lacks or has too much of, or where a translation's
    {fields} differ from its message's."""
    marked, translated = extract(), messages(read_po(path))
    out = [f"missing: {m!r} ({where})" for m, where in marked.items()
           if not translated.get(m)]
    out += [f"stale: {m!r}" for m in translated if m not in marked]
    out += [f"fields differ: {m!r}" for m, s in translated.items()
            if s and fields(m) != fields(s)]
    return out


def fields(text):
    return sorted(re.findall(r"\{([^{}]*)\}", text))


def main(argv):
    if argv[:1] == ["compile"]:
        for path in po_files():
            compile_po(path)
            print(f"compiled {path.relative_to(ROOT)}")
        return 0
    if argv[:1] == ["check"]:
        bad = [f"{p.relative_to(ROOT)}: {line}" for p in po_files() for line in problems(p)]
        print("\n".join(bad) or "every marked message is translated")
        return 1 if bad else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
