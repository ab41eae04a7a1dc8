"""Messages in the user's language: the diagnosis's reasons and remedies and the command
line's messages go through gettext with the `chainrule` catalog (chainrule/runtime/locale/<lang>/
LC_MESSAGES/chainrule.mo, compiled from the .po beside it). The language is resolved as
gettext resolves it, from LANGUAGE, LC_ALL, LC_MESSAGES and LANG in that order, at the
time a message is made, so a changed environment takes effect; English, the messages as
written in the code, is what any language without a catalog gets."""
import gettext
import os
from pathlib import Path

__all__ = ["_", "N_", "LOCALE_DIR", "DOMAIN", "translation"]

DOMAIN = "chainrule"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_ENV = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
_loaded = {}


def translation():
    """The catalog for the current environment (NullTranslations: English)."""
    key = tuple(os.environ.get(name) for name in _ENV)
    if key not in _loaded:
        _loaded[key] = gettext.translation(DOMAIN, str(LOCALE_DIR), fallback=True)
    return _loaded[key]


def _(message):
    """`message` in the user's language; a template's {fields} are filled afterwards
    (`_("... {n} ...").format(n=...)`), so a translation may reorder them."""
    return translation().gettext(message)


def N_(message):
    """Marks a message for the catalog where it is stored, to be translated when shown."""
    return message
