"""Data sets for the command line, as NumPy arrays ready for an MLP, plus the
`transform` (a JSON-able dict) that turns raw inputs into model inputs again at
prediction time.

CSV files (d2l's house-price recipe): numeric columns are standardised with the
training rows' mean and standard deviation and missing values become 0 (the mean);
other columns are one-hot encoded with an extra column for "missing"; categories
unseen in training encode as all zeros. The target decides the task: text, booleans,
or integers with at most 20 distinct values mean classification; anything else is
regression, trained on the standardised target and scored by log-RMSE (RMSE when some
targets are <= 0)."""
import os
from dataclasses import dataclass, field

import numpy as np

from ..runtime.i18n import _
from ._common import CLIError, fmt_int

PRESETS = ("digits", "fashion-mnist", "mnist", "synthetic-linear")
IDX_CLASSES = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST"}
MAX_CLASSES = 20
CSV_TEST_FRACTION = 0.2
SYNTHETIC_W, SYNTHETIC_B, SYNTHETIC_NOISE = [2.0, -3.4], 4.2, 0.01


@dataclass
class DataBundle:
    name: str
    task: str                       # "classification" or "regression"
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    transform: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    @property
    def input_dim(self):
        return int(self.X_train.shape[1])

    @property
    def output_dim(self):
        return len(self.transform["classes"]) if self.task == "classification" else 1

    def describe(self):
        kind = (_("{n} classes").format(n=self.output_dim) if self.task == "classification"
                else _("regression"))
        return _("{name}: {train} training and {test} test rows, {features} features, "
                 "{kind}").format(name=self.name, train=fmt_int(len(self.X_train)),
                                  test=fmt_int(len(self.X_test)), features=self.input_dim,
                                  kind=kind)


def default_data_dir():
    env = os.environ.get("CHAINRULE_DATA")
    if env:
        return os.path.expanduser(env)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "chainrule")


def is_csv(name):
    return name not in PRESETS and (name.lower().endswith(".csv") or os.path.sep in name
                                    or os.path.isfile(name))


def check_dataset_name(name):
    if name in PRESETS or is_csv(name):
        return name
    raise CLIError(_("unknown dataset {name!r}; choose {choices} or give a CSV file path "
                     "(see `chainrule datasets`)").format(name=name, choices=", ".join(PRESETS)))


def load(cfg):
    """The DataBundle for the training settings `cfg`."""
    name = check_dataset_name(cfg["dataset"])
    if is_csv(name):
        if not cfg.get("target"):
            raise CLIError(_("a CSV data set needs --target COLUMN (the column to predict) "
                             "for {name}").format(name=name))
        return load_csv(name, cfg["target"], cfg.get("drop") or [], cfg.get("task") or "auto",
                        cfg.get("seed") or 0)
    if cfg.get("target"):
        raise CLIError(_("--target applies to CSV files only, not to {name}").format(name=name))
    if name == "digits":
        return load_digits()
    if name == "synthetic-linear":
        return load_synthetic(cfg.get("seed") or 0)
    return load_idx(name, cfg.get("data_dir") or default_data_dir(), cfg.get("download", True))


# ---- images ----------------------------------------------------------------------------
def _image_bundle(name, train_images, train_labels, test_images, test_labels, scale, classes):
    shape = list(train_images.shape[1:])
    t = {"kind": "image", "scale": scale, "shape": shape, "classes": list(classes)}
    return DataBundle(name, "classification", apply_image(t, train_images),
                      np.asarray(train_labels, dtype=np.int64), apply_image(t, test_images),
                      np.asarray(test_labels, dtype=np.int64), t)


def apply_image(t, images):
    """Raw pixels (N x H x W or N x H*W) -> float32 rows scaled to [0, 1]."""
    arr = np.asarray(images)
    size = int(np.prod(t["shape"]))
    if arr.ndim == 1 and arr.size == size:
        arr = arr[None]
    if arr.dtype.kind not in "uif" or arr.size % size or arr.shape[-1] * (
            arr.shape[-2] if arr.ndim == 3 else 1) != size:
        raise CLIError(_("expected images of {shape} = {size} numeric pixel values each, got "
                         "an array of shape {got} and dtype {dtype}").format(
            shape="x".join(map(str, t["shape"])), size=size, got=arr.shape, dtype=arr.dtype))
    return (arr.reshape(len(arr), size).astype(np.float32) / np.float32(t["scale"]))


def load_digits():
    from ..vision.datasets import Digits
    tr, te = Digits(train=True), Digits(train=False)
    return _image_bundle("digits", tr.data.numpy(), tr.targets.numpy(), te.data.numpy(),
                         te.targets.numpy(), 16.0, range(10))


def idx_folder(name, data_dir):
    return os.path.join(data_dir, IDX_CLASSES[name], "raw")


def idx_dataset_class(name):
    from ..vision import datasets
    return getattr(datasets, IDX_CLASSES[name])


def load_idx(name, data_dir, allow_download=True):
    from ..vision.datasets import DownloadError, IDXError
    cls = idx_dataset_class(name)
    parts = []
    for train in (True, False):
        try:
            try:
                ds = cls(data_dir, train=train)
            except FileNotFoundError:
                if not allow_download:
                    raise CLIError(_("{name} is not in {folder}; run `chainrule datasets "
                                     "download {name}` or place the files there by hand "
                                     "(`chainrule datasets` lists them)").format(
                        name=name, folder=idx_folder(name, data_dir))) from None
                print(_("downloading {name} into {folder} ...").format(
                    name=name, folder=idx_folder(name, data_dir)), flush=True)
                ds = cls(data_dir, train=train, download=True)
        except DownloadError:
            raise CLIError(_("could not download {name} (no internet?); place the files in "
                             "{folder} by hand, as `chainrule datasets` explains").format(
                name=name, folder=idx_folder(name, data_dir))) from None
        except (IDXError, ValueError, OSError) as err:
            raise CLIError(_("cannot read {name} from {folder}: {error}; delete the broken "
                             "file and run `chainrule datasets download {name}`").format(
                name=name, folder=data_dir, error=err)) from None
        parts += [ds.data.numpy(), ds.targets.numpy()]
    return _image_bundle(name, *parts, 255.0, cls.classes)


# ---- d2l's synthetic regression ----------------------------------------------------------
def load_synthetic(seed, n_train=1000, n_test=200):
    """y = X w + b + noise with d2l's w = [2, -3.4], b = 4.2 (ch. 3.3)."""
    rng = np.random.default_rng(seed)
    w = np.array(SYNTHETIC_W)
    X = rng.normal(0, 1, (n_train + n_test, len(w)))
    y = X @ w + SYNTHETIC_B + rng.normal(0, SYNTHETIC_NOISE, len(X))
    X, y = X.astype(np.float32), y.astype(np.float32)[:, None]
    t = {"kind": "features", "columns": [f"x{i + 1}" for i in range(len(w))],
         "true_w": SYNTHETIC_W, "true_b": SYNTHETIC_B}
    return DataBundle("synthetic-linear", "regression", X[:n_train], y[:n_train],
                      X[n_train:], y[n_train:], t)


# ---- CSV tables --------------------------------------------------------------------------
def pandas():
    try:
        import pandas as pd
    except ImportError:
        raise CLIError(_("CSV data needs pandas: pip install 'chainrule[csv]'")) from None
    return pd


def read_csv(path):
    pd = pandas()
    if not os.path.isfile(path):
        raise CLIError(_("CSV file {path} does not exist; check the path").format(path=path))
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise CLIError(_("{path} is not a readable CSV file ({error}); it needs a header row "
                         "and comma-separated values").format(
            path=path, error=one_line_err(err))) from None
    if df.shape[0] == 0 or df.shape[1] == 0:
        raise CLIError(_("{path} has no data rows; it needs a header row and at least a few "
                         "rows").format(path=path))
    df.columns = [str(c).strip() for c in df.columns]
    return df


def one_line_err(err):
    return " ".join(str(err).split())


def infer_task(series):
    pd = pandas()
    values = series.dropna()
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return "classification"
    is_int = pd.api.types.is_integer_dtype(values) or bool(
        len(values) and np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
    return "classification" if is_int and values.nunique() <= MAX_CLASSES else "regression"


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def fit_table_transform(df, target, drop, task):
    """Learn the preprocessing from the training rows."""
    pd = pandas()
    missing = [c for c in [target, *drop] if c not in df.columns]
    if missing:
        raise CLIError(_("column {column!r} is not in the CSV; its columns are: "
                         "{columns}").format(column=missing[0],
                                             columns=", ".join(df.columns[:30])))
    features = [c for c in df.columns if c != target and c not in drop]
    if not features:
        raise CLIError(_("no feature columns left besides the target {target!r}").format(
            target=target))
    t = {"kind": "table", "target": target, "drop": list(drop), "features": features,
         "numeric": {}, "categorical": {}}
    for c in features:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            mean, std = col.mean(), col.std()
            mean = 0.0 if not np.isfinite(mean) else float(mean)
            std = 1.0 if not np.isfinite(std) or std == 0 else float(std)
            t["numeric"][c] = [mean, std]
        else:
            t["categorical"][c] = sorted({str(v) for v in col.dropna()})
    y = df[target]
    t["task"] = infer_task(y) if task == "auto" else task
    if t["task"] == "classification":
        t["classes"] = sorted({_plain(v) for v in y}, key=lambda v: (str(type(v)), v))
    else:
        if not pd.api.types.is_numeric_dtype(y):
            raise CLIError(_("--task regression needs a numeric target; {target!r} holds "
                             "text").format(target=target))
        y = y.astype(float)
        t["target_mean"], t["target_std"] = float(y.mean()), float(y.std() or 1.0)
        if not np.isfinite(t["target_std"]) or t["target_std"] == 0:
            t["target_std"] = 1.0
        t["positive_target"] = bool((y > 0).all())
    t["columns"] = encoded_columns(t)
    return t


def encoded_columns(t):
    cols = list(t["numeric"])
    for c, cats in t["categorical"].items():
        cols += [f"{c}={v}" for v in cats] + [f"{c}=<missing>"]
    return cols


def apply_table(t, df):
    """Raw rows -> float32 feature matrix, exactly as in training."""
    pd = pandas()
    absent = [c for c in t["features"] if c not in df.columns]
    if absent:
        raise CLIError(_("the input lacks column(s) {columns} that the model was trained "
                         "on").format(columns=", ".join(absent[:5])))
    parts = []
    for c, (mean, std) in t["numeric"].items():
        col = pd.to_numeric(df[c], errors="coerce").astype(float)
        parts.append(((col - mean) / std).fillna(0.0).to_numpy()[:, None])
    for c, cats in t["categorical"].items():
        block = np.zeros((len(df), len(cats) + 1))
        index = {v: i for i, v in enumerate(cats)}
        for r, v in enumerate(df[c].tolist()):
            if pd.isna(v):
                block[r, -1] = 1.0
            elif str(v) in index:
                block[r, index[str(v)]] = 1.0
        parts.append(block)
    return np.concatenate(parts, axis=1).astype(np.float32)


def encode_target(t, y):
    if t["task"] == "classification":
        index = {v: i for i, v in enumerate(t["classes"])}
        try:
            return np.array([index[_plain(v)] for v in y], dtype=np.int64)
        except KeyError as err:
            raise CLIError(_("target value {value!r} was not seen in training").format(
                value=err.args[0])) from None
    y = np.asarray(y, dtype=np.float64)
    return ((y - t["target_mean"]) / t["target_std"]).astype(np.float32)[:, None]


def split_rows(n, seed, test_fraction=CSV_TEST_FRACTION):
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * test_fraction)))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def load_csv(path, target, drop, task, seed):
    df = read_csv(path)
    if target not in df.columns:
        raise CLIError(_("target column {target!r} is not in {path}; its columns are: "
                         "{columns}").format(target=target, path=path,
                                             columns=", ".join(df.columns[:30])))
    dropped = int(df[target].isna().sum())
    df = df[df[target].notna()].reset_index(drop=True)
    if len(df) < 5:
        raise CLIError(_("{path} has {rows} rows with a {target!r} value; need at least "
                         "5").format(path=path, rows=len(df), target=target))
    train_idx, test_idx = split_rows(len(df), seed)
    train, test = df.iloc[train_idx], df.iloc[test_idx]
    t = fit_table_transform(train, target, drop, task)
    t.update(source_rows=len(df), test_fraction=CSV_TEST_FRACTION)
    try:
        y_test = encode_target(t, test[target])
    except CLIError:  # a class present only in the test rows: learn the full label set
        t["classes"] = sorted({_plain(v) for v in df[target]}, key=lambda v: (str(type(v)), v))
        y_test = encode_target(t, test[target])
    b = DataBundle(os.path.basename(path), t["task"], apply_table(t, train),
                   encode_target(t, train[target]), apply_table(t, test), y_test, t)
    if dropped:
        b.notes.append(_("{n} row(s) without a {target!r} value were left out").format(
            n=dropped, target=target))
    return b


# ---- inputs for `predict` --------------------------------------------------------------
def read_inputs(t, path):
    """Model inputs from a .npy or .csv file, plus the CSV rows (or None) for output."""
    if not os.path.isfile(path):
        raise CLIError(_("input file {path} does not exist").format(path=path))
    if path.lower().endswith(".npy"):
        if t["kind"] == "table":
            raise CLIError(_("this model was trained on a CSV table: give a CSV input with "
                             "the same columns, not a .npy array"))
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OverflowError) as err:  # OverflowError: a crafted shape
            raise CLIError(_("cannot read {path} as a NumPy array ({error}); object arrays "
                             "are refused because loading them can run code").format(
                path=path, error=one_line_err(err))) from None
        return _numeric_inputs(t, arr), None
    if not path.lower().endswith(".csv"):
        raise CLIError(_("input {path} must be a .npy or .csv file").format(path=path))
    if t["kind"] == "table":
        df = read_csv(path)
        return apply_table(t, df), df
    pd = pandas()
    try:
        df = pd.read_csv(path, header=None)
        if df.shape[0] and not all(pd.api.types.is_numeric_dtype(df[c]) for c in df.columns):
            df = pd.read_csv(path)  # a header row
        arr = df.to_numpy(dtype=np.float64)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise CLIError(_("{path}: expected comma-separated numbers, one row per example "
                         "({error})").format(path=path, error=one_line_err(err))) from None
    return _numeric_inputs(t, arr), None


def _numeric_inputs(t, arr):
    if t["kind"] == "image":
        return apply_image(t, arr)
    arr = np.asarray(arr)
    width = len(t["columns"])
    if arr.ndim == 1 and arr.size == width:
        arr = arr[None]
    if arr.dtype.kind not in "uif" or arr.ndim != 2 or arr.shape[1] != width:
        raise CLIError(_("expected rows of {width} numbers, got an array of shape "
                         "{shape}").format(width=width, shape=arr.shape))
    return arr.astype(np.float32)
