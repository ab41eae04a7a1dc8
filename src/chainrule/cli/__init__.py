"""The `chainrule` command: train, evaluate, predict, plot and list data sets from the
shell, with no Python to write.

    chainrule train                      # an MLP on the built-in digits, ~10 s
    chainrule evaluate runs/<name>
    chainrule predict runs/<name> inputs.npy
    chainrule plot runs/<name>
    chainrule datasets

Mistakes in the input (flags, files, data) are reported in one line on stderr with
exit status 2."""
import os
import sys

from ..runtime.i18n import _
from ._common import (EXIT_USAGE, ArgumentParser, CLIError, HelpFormatter,
                      one_line, resume_hint)

__all__ = ["main", "build_parser", "CLIError"]

EPILOG = """examples:
  chainrule train                          train an MLP on digits, see the run folder
  chainrule train --help                   every training option
  chainrule evaluate runs/<name>           test-set score of a saved run
  chainrule predict runs/<name> x.csv      predictions as CSV
  chainrule plot runs/<name>               curves, confusion matrix, gradient flow
  chainrule datasets                       what data is available and where"""


def _version():
    try:
        from importlib.metadata import version
        return version("chainrule")
    except Exception:  # running from a source tree that is not installed
        return "unknown"


def build_parser():
    from . import datasets, evaluate, plot, predict, train
    parser = ArgumentParser(
        prog="chainrule", formatter_class=HelpFormatter, epilog=EPILOG,
        description="Train and inspect neural networks (Dive into Deep Learning, ch. 2-7) "
                    "from the command line.")
    parser.add_argument("--version", action="version", version=f"chainrule {_version()}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    parser.commands = {}
    for module in (train, evaluate, predict, plot, datasets):
        p = module.add_parser(sub)
        parser.commands[p.prog.split()[-1]] = p
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # let the command's own parser report it, with its own --help hint
            command = parser.commands.get(getattr(args, "command", None), parser)
            from .suggest import did_you_mean
            command.error(_("unrecognized arguments: {args}").format(args=" ".join(extra))
                          + did_you_mean(extra, command))
        if not hasattr(args, "run"):
            parser.print_help()
            return 0
        return int(args.run(args) or 0)
    except CLIError as err:
        sys.stderr.write(_("chainrule: error: {message}").format(message=one_line(err))
                         + f"{resume_hint(err)}\n")
        return EXIT_USAGE
    except KeyboardInterrupt as err:
        sys.stderr.write(_("chainrule: interrupted") + f"{resume_hint(err)}\n")
        return 130
    except BrokenPipeError:  # `chainrule predict ... | head`
        return 0
    except Exception as err:  # a bug, not a user mistake: still one line unless asked
        if os.environ.get("CHAINRULE_TRACEBACK"):
            raise
        sys.stderr.write(_("chainrule: internal error: {kind}: {message} (set "
                           "CHAINRULE_TRACEBACK=1 to see where)").format(
                               kind=type(err).__name__, message=one_line(err))
                         + f"{resume_hint(err)}\n")
        return 1
