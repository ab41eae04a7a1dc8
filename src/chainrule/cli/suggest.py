"""'did you mean' for a mistyped flag: the command's own flag nearest to it."""
import difflib

from ..runtime.i18n import _


def flag_names(parser):
    return [s for action in parser._actions for s in action.option_strings
            if s.startswith("--")]


def did_you_mean(extra, parser):
    """'; did you mean --epochs?' for the first unknown --flag with a close match, or ''."""
    names = flag_names(parser)
    for arg in extra:
        if not arg.startswith("--"):
            continue
        close = difflib.get_close_matches(arg.split("=", 1)[0], names, n=1, cutoff=0.6)
        if close:
            return _("; did you mean {flag}?").format(flag=close[0])
    return ""
