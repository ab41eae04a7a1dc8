"""What every command shares: the one-line error, the argument parser that reports
mistakes in one line, and small printing helpers."""
import argparse
import contextlib
import sys

from ..runtime.i18n import N_, _

EXIT_USAGE = 2

# argparse's own messages for the mistakes a user makes: argparse asks gettext's default
# domain, which has no catalog of ours, so while a command line is parsed they are
# looked up in chainrule's (any other message argparse has stays as argparse says it)
ARGPARSE_MESSAGES = frozenset((
    N_("the following arguments are required: %s"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("ignored explicit argument %r"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
))


class CLIError(Exception):
    """A mistake in what the user asked for (flags, files, data): reported as one line
    on stderr with exit status 2, never as a traceback."""


def one_line(text):
    """Collapse a (possibly multi-line) message into one line."""
    parts = [p.strip() for p in str(text).splitlines() if p.strip()]
    return "; ".join(parts) if parts else _("unknown error")


@contextlib.contextmanager
def _argparse_in_our_language():
    argparse_gettext = argparse._

    def translated(message):
        return _(message) if message in ARGPARSE_MESSAGES else argparse_gettext(message)
    argparse._ = translated
    try:
        yield
    finally:
        argparse._ = argparse_gettext


class ArgumentParser(argparse.ArgumentParser):
    """argparse prints the usage block and then the error; a beginner needs one line
    saying what is wrong and where to look, in the user's language."""

    def parse_known_args(self, args=None, namespace=None):
        with _argparse_in_our_language():
            return super().parse_known_args(args, namespace)

    def error(self, message):
        sys.stderr.write(_("{prog}: error: {message} (see `{prog} --help`)").format(
            prog=self.prog, message=one_line(message)) + "\n")
        sys.exit(EXIT_USAGE)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples in the epilog as written (defaults are in each help text)."""


def mark_resumable(err, run_path):
    """Note on an error that stopped `chainrule train` which run folder it left to resume."""
    err.resumable_run = run_path
    return err


def resume_hint(err):
    """'; ...continue it with ...' for an error marked by mark_resumable, else ''."""
    path = getattr(err, "resumable_run", None)
    return (_("; the run so far is kept: continue it with `chainrule train --resume "
              "{path}`").format(path=path) if path else "")


def say(text="", quiet=False):
    if not quiet:
        print(text, flush=True)


def fmt_int(n):
    return f"{int(n):,}"


def wrap(text):
    """Descriptions are printed as written (for the epilog's examples): wrap them here."""
    import textwrap
    return textwrap.fill(text, width=88)


def shown_value(v):
    """A setting as a flag takes it: a list comma-separated."""
    return ",".join(map(str, v)) if isinstance(v, list) else v
