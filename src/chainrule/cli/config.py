"""Training settings: one table of options shared by the `train` flags and the TOML
file of `--config`, so both are checked by the same rules.

Precedence, lowest first: built-in defaults, the stored config of a resumed run, the
`--config` file, flags on the command line."""
import argparse
import math
import os

from ..runtime.i18n import _
from ._common import CLIError

MODELS = ("linear", "softmax", "mlp", "lenet", "resnet")
ACTIVATIONS = ("relu", "sigmoid", "tanh")
INITS = ("default", "normal", "xavier", "kaiming")
OPTIMIZERS = ("sgd", "adam")
TASKS = ("auto", "classification", "regression")


def _must_be(what, value):
    """`what`: the expectation, already in the user's language."""
    return argparse.ArgumentTypeError(_("must be {what}, got {value!r}").format(
        what=what, value=value))


def _number(value, what):
    if isinstance(value, bool):
        raise _must_be(what, value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _must_be(what, value) from None
    if not math.isfinite(x):
        raise _must_be(what, value)
    return x


def positive_float(value):
    x = _number(value, _("a positive number"))
    if x <= 0:
        raise _must_be(_("a positive number"), value)
    return x


def nonnegative_float(value):
    x = _number(value, _("a number >= 0"))
    if x < 0:
        raise _must_be(_("a number >= 0"), value)
    return x


def fraction(value):
    x = _number(value, _("a fraction between 0 and 1"))
    if not 0 <= x < 1:
        raise _must_be(_("a fraction in [0, 1)"), value)
    return x


def _integer(value, low, what):
    if isinstance(value, bool):
        raise _must_be(what, value)
    try:
        n = int(str(value).strip())
    except ValueError:
        raise _must_be(what, value) from None
    if n < low:
        raise _must_be(what, value)
    return n


def positive_int(value):
    return _integer(value, 1, _("a positive integer"))


def nonnegative_int(value):
    return _integer(value, 0, _("an integer >= 0"))


def kfold_count(value):
    return _integer(value, 2, _("an integer >= 2 (the number of folds)"))


def hidden_sizes(value):
    """'256,128' or [256, 128] -> [256, 128]; '' or [] -> no hidden layer."""
    items = value if isinstance(value, (list, tuple)) else str(value).replace(" ", "").split(",")
    items = [i for i in items if str(i) != ""]
    try:
        return [_integer(i, 1, "") for i in items]
    except argparse.ArgumentTypeError:
        raise _must_be(_("comma-separated positive layer widths such as 256,128"),
                       value) from None


def column_list(value):
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return [str(i).strip() for i in items if str(i).strip()]


def text(value):
    if not isinstance(value, str) or not value.strip():
        raise _must_be(_("a non-empty text"), value)
    return value.strip()


def choice(*allowed):
    def convert(value):
        v = str(value).strip().lower()
        if v not in allowed:
            raise argparse.ArgumentTypeError(_("must be one of {choices}; got {value!r}").format(
                choices=", ".join(allowed), value=value))
        return v
    convert.__name__ = "choice"
    return convert


def seed_value(value):
    return _integer(value, 0, _("an integer >= 0"))


# (key, converter, default, metavar, help). A default of None means "decided from the
# data set or the optimiser" (model, lr) or "off".
OPTIONS = [
    ("dataset", text, "digits", "NAME|FILE.csv",
     "digits, fashion-mnist, mnist, synthetic-linear, or a CSV file (with --target)"),
    ("target", text, None, "COLUMN", "the column to predict, for a CSV data set"),
    ("task", choice(*TASKS), "auto", "|".join(TASKS),
     "CSV only: classification if the target is text or integers with at most 20 "
     "distinct values, regression otherwise (auto)"),
    ("drop", column_list, [], "COL,COL", "CSV columns to ignore, e.g. Id"),
    ("data_dir", text, None, "DIR",
     "where downloaded data sets live (default: $CHAINRULE_DATA or ~/.cache/chainrule)"),
    ("download", None, True, None, None),  # switched off with --no-download
    ("model", choice(*MODELS), None, "|".join(MODELS),
     "linear/softmax regression, a multilayer perceptron, or for images d2l's LeNet "
     "(sigmoid, average pooling; digits' 8x8 images are upsampled bilinearly to its 28x28 "
     "inside the network) or a small ResNet of d2l's Residual blocks (16-32-64 channels, "
     "images at their own size) (default: linear for synthetic-linear, mlp otherwise)"),
    ("hidden", hidden_sizes, [256, 128], "N,N", "hidden layer widths of the mlp"),
    ("activation", choice(*ACTIVATIONS), "relu", "|".join(ACTIVATIONS),
     "hidden activation of the mlp"),
    ("dropout", fraction, 0.0, "P", "dropout probability after each hidden layer of the mlp"),
    ("init", choice(*INITS), "default", "|".join(INITS),
     "weight initialisation: normal (std 0.01, as d2l), xavier, kaiming, or default "
     "(PyTorch's uniform)"),
    ("optimizer", choice(*OPTIMIZERS), "adam", "|".join(OPTIMIZERS), "optimiser"),
    ("lr", positive_float, None, "LR", "learning rate (default: 0.001 for adam, 0.1 for sgd)"),
    ("momentum", nonnegative_float, 0.0, "M", "SGD momentum"),
    ("weight_decay", nonnegative_float, 0.0, "WD", "L2 penalty (weight decay)"),
    ("l1", nonnegative_float, 0.0, "LAMBDA", "L1 penalty on the weight matrices"),
    ("batch_size", positive_int, 32, "N", "minibatch size"),
    ("epochs", positive_int, 100, "N", "maximum number of epochs"),
    ("patience", nonnegative_int, 10, "N",
     "stop after N epochs without a better validation loss and keep the best weights "
     "(0: no early stopping)"),
    ("val_split", fraction, 0.1, "F", "fraction of the training rows held out for validation"),
    ("clip_grad", positive_float, None, "NORM", "clip the gradient norm to NORM"),
    ("kfold", kfold_count, None, "K",
     "K-fold cross-validation on the training rows; reports mean ± std"),
    ("seed", seed_value, 0, "N", "random seed (same seed, same run)"),
    ("compile", None, False, None, None),  # switched on with --compile
]
OPTION_NAMES = [o[0] for o in OPTIONS]
CONVERTERS = {o[0]: o[1] for o in OPTIONS}


def defaults():
    return {option[0]: (list(option[2]) if isinstance(option[2], list) else option[2])
            for option in OPTIONS}


def convert(key, value, where):
    """Check one setting with the same rule as its flag."""
    conv = CONVERTERS[key]
    if conv is None:  # a switch
        if not isinstance(value, bool):
            raise CLIError(_("{where}: {key} must be true or false, got {value!r}").format(
                where=where, key=key, value=value))
        return value
    try:
        return conv(value)
    except argparse.ArgumentTypeError as err:
        raise CLIError(_("{where}: {key} {error}").format(where=where, key=key,
                                                          error=err)) from None


def read_toml(path):
    """Settings from a TOML file: top-level keys or a [train] table, named like the flags
    (hyphens or underscores)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise CLIError(_("--config needs Python 3.11+ or the tomli package "
                             "(pip install tomli)")) from None
    if not os.path.isfile(path):
        raise CLIError(_("config file {path} does not exist; check the path given to "
                         "--config").format(path=path))
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as err:
        raise CLIError(_("{path} is not valid TOML ({error}); fix the file or drop "
                         "--config").format(path=path, error=err)) from None
    except UnicodeDecodeError as err:  # TOML files are UTF-8 by definition
        raise CLIError(_("{path} is not UTF-8 text (byte {byte:#04x} at offset {offset}); "
                         "save it as UTF-8 or drop --config").format(
            path=path, byte=err.object[err.start], offset=err.start)) from None
    except OSError as err:
        raise CLIError(_("cannot read {path}: {error}").format(
            path=path, error=err.strerror)) from None
    if isinstance(data.get("train"), dict):
        rest = {k: v for k, v in data.items() if k != "train"}
        data = {**rest, **data["train"]}
    out = {}
    for raw_key, value in data.items():
        key = raw_key.replace("-", "_")
        if key not in CONVERTERS:
            raise CLIError(_("{path}: unknown setting {key!r}; known: {known}").format(
                path=path, key=raw_key,
                known=", ".join(k.replace("_", "-") for k in OPTION_NAMES)))
        out[key] = convert(key, value, path)
    return out


def absolute_paths(layer):
    """A settings layer with its CSV file and data folder made absolute, so that the run
    folder's config works from wherever evaluate / predict / --resume run later."""
    from .data_sources import is_csv
    out = dict(layer)
    if out.get("dataset") and is_csv(out["dataset"]):
        out["dataset"] = os.path.abspath(os.path.expanduser(out["dataset"]))
    if out.get("data_dir"):
        out["data_dir"] = os.path.abspath(os.path.expanduser(out["data_dir"]))
    return out


def merge(*layers):
    """Later layers win; None values in a layer mean 'not given'."""
    out = {}
    for layer in layers:
        out.update({k: v for k, v in layer.items() if v is not None})
    for key in OPTION_NAMES:
        out.setdefault(key, None)
    return out


def resolve(cfg, is_regression_preset):
    """Fill the defaults that depend on other settings."""
    cfg = dict(cfg)
    if cfg["model"] is None:
        cfg["model"] = "linear" if is_regression_preset else "mlp"
    if cfg["lr"] is None:
        cfg["lr"] = 0.1 if cfg["optimizer"] == "sgd" else 0.001
    if cfg["momentum"] and cfg["optimizer"] != "sgd":
        raise CLIError(_("--momentum applies to --optimizer sgd only (Adam has its own "
                         "moment estimates); drop --momentum or use --optimizer sgd"))
    return cfg
