"""The diagnosis's fixes as `chainrule train` flags, and the facts about a command-line
run that fit cannot see (its initialisation, its scaled inputs), so that no fix repeats
what the run already does."""

from ..runtime.i18n import _
from .config import ACTIVATIONS


def run_settings(cfg):
    """fit(settings=...) for a command-line run: the CLI always scales its inputs."""
    return {"init": cfg["init"], "normalize": True}


def _number(v):
    return f"{v:g}" if isinstance(v, float) else str(v)


# the settings that shape the layers of the models made of Linear layers only
_DENSE_ONLY = ("hidden", "activation", "dropout")


def _flag(key, value, cfg):
    """The flags for one key of a fix, or None when the command line cannot say it."""
    if key in _DENSE_ONLY and cfg.get("model") not in ("linear", "softmax", "mlp"):
        return None  # LeNet's and the ResNet's layers are fixed
    if key == "hidden":
        if not value:
            return ["--model", "linear" if cfg.get("task") == "regression" else "softmax"]
        flags = ["--hidden", ",".join(str(h) for h in value)]
        return (["--model", "mlp"] + flags) if cfg.get("model") != "mlp" else flags
    if key == "activation":
        return ["--activation", value] if value in ACTIVATIONS else None
    if key == "early_stopping":
        if not value:
            return ["--patience", "0"]
        return ["--patience", "10"] + ([] if cfg.get("val_split") else ["--val-split", "0.1"])
    if key == "normalize":
        return None  # the command line scales every data set's inputs already
    name = {"clip_grad_norm": "clip-grad"}.get(key, key.replace("_", "-"))
    return [f"--{name}", _number(value)]


def fix_as_flags(fix, cfg):
    """['--lr', '0.0001', ...] for a fix, or None if a part of it has no flag."""
    flags = []
    for key, value in fix.items():
        part = _flag(key, value, cfg)
        if part is None:
            return None
        flags += part
    return flags


def flag_line(fixes, cfg):
    """'--epochs 30  or  --lr 0.003' for the fixes the command line can express."""
    shown = [" ".join(f) for f in (fix_as_flags(x, cfg) for x in fixes) if f]
    return _("  or  ").join(shown)
