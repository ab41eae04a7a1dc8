"""`chainrule predict RUN INPUT`: predictions of a saved model for new rows."""
import csv
import io
import os
import sys

import numpy as np

from ..runtime.atomic_files import atomic_write_text
from ..runtime.i18n import N_, _
from . import data_sources, models, runs
from ._common import CLIError, HelpFormatter, wrap

EPILOG = """examples:
  chainrule predict runs/exp1 images.npy                 digits: N x 8 x 8 raw pixels (0-16)
  chainrule predict runs/house test.csv --output submission.csv
  chainrule predict runs/exp1 rows.csv | head

Inputs are raw, as in the training data: the run's transform.json (pixel scale, CSV
means, standard deviations and categories) is applied before the model sees them.
Classification output: the predicted class and the probability of every class;
regression output: the predicted value. CSV runs keep the first --drop column (an Id)."""


def add_parser(subparsers):
    p = subparsers.add_parser(
        "predict", help="predict new rows with a trained run", epilog=EPILOG,
        formatter_class=HelpFormatter,
        description=wrap("Apply the model of a run folder to the rows of a .npy or .csv file "
                    "and write the predictions as CSV (stdout or --output)."))
    p.add_argument("run_dir", metavar="RUN", help="a run folder written by `chainrule train`")
    p.add_argument("input", metavar="INPUT", help="a .npy array or a .csv file of new rows")
    p.add_argument("--output", "-o", metavar="FILE.csv", help="write here instead of stdout")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --output file")
    p.set_defaults(run=run)
    return p


def predictions_table(outputs, cfg, transform, rows):
    """(header, columns) of the output CSV."""
    out = np.asarray(outputs, dtype=np.float64)
    header, columns = [], []
    if transform.get("kind") == "table" and transform.get("drop"):
        keep = transform["drop"][0]
        if rows is not None and keep in rows.columns:
            header.append(keep)
            columns.append(rows[keep].tolist())
    name = transform.get("target", "prediction")
    if cfg["task"] == "classification":
        shifted = np.exp(out - out.max(axis=1, keepdims=True))
        probs = shifted / shifted.sum(axis=1, keepdims=True)
        classes = transform["classes"]
        header.append(name)
        columns.append([classes[i] for i in probs.argmax(axis=1)])
        for j, c in enumerate(classes):
            header.append(f"p_{c}")
            columns.append([f"{p:.6f}" for p in probs[:, j]])
    else:
        values = out.reshape(-1)
        if transform.get("kind") == "table":
            values = values * transform["target_std"] + transform["target_mean"]
        header.append(name)
        columns.append([f"{v:.6g}" for v in values])
    return header, columns


def to_csv(header, columns):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(zip(*columns))
    return buf.getvalue()


# (one bad row, several): the message for inputs, and for the model's outputs
NOT_FINITE_INPUT = (
    N_("{path}: row {rows} holds a value that is not a finite number (inf, NaN or beyond "
       "float32's range); fix or remove it"),
    N_("{path}: row {rows} holds a value that is not a finite number (inf, NaN or beyond "
       "float32's range); fix or remove them"))
NOT_FINITE_OUTPUT = (
    N_("{path}: row {rows} gives a model output that is not finite (inputs far outside "
       "the training range); fix or remove it"),
    N_("{path}: row {rows} gives a model output that is not finite (inputs far outside "
       "the training range); fix or remove them"))


def _check_finite(values, path, messages):
    """A NaN probability printed with exit status 0 would pass for a prediction: refuse."""
    values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if bad.size:
        rows = ", ".join(str(i + 1) for i in bad[:5]) + (" ..." if bad.size > 5 else "")
        raise CLIError(_(messages[bad.size > 1]).format(path=path, rows=rows))


def _warn_if_prescaled(X, transform, path):
    """Images scaled to 0..1 before predict are divided by the run's pixel scale again:
    the model then sees them as nearly black. Say so (stderr: the CSV stays clean)."""
    scale = float(transform.get("scale") or 1.0) if transform.get("kind") == "image" else 1.0
    top = float(np.max(X)) * scale if np.size(X) else 0.0
    if scale > 1.0 and 0.0 < top <= 1.0:
        sys.stderr.write(_("chainrule: warning: every value in {path} lies in 0..1, but "
                           "this run was trained on raw pixels 0..{scale:g} (transform.json "
                           "divides by {scale:g}); pass raw pixels, or the model sees images "
                           "{scale:g}x too dark").format(path=path, scale=scale) + "\n")


def run(args):
    run_dir = runs.open_run(args.run_dir)
    if args.output and os.path.exists(args.output) and not args.overwrite:
        raise CLIError(_("{path} already exists; pass --overwrite to replace it").format(
            path=args.output))
    model, cfg, transform = models.load_trained(run_dir)
    with np.errstate(all="ignore"):  # overflow to inf is reported below, by row
        X, rows = data_sources.read_inputs(transform, args.input)
    if len(X) == 0:
        raise CLIError(_("{path} holds no rows to predict").format(path=args.input))
    _check_finite(X, args.input, NOT_FINITE_INPUT)
    from chainrule.train import predict
    with np.errstate(all="ignore"):  # reported below, by row
        outputs = predict(model, X).detach().numpy()
    _check_finite(outputs, args.input, NOT_FINITE_OUTPUT)
    text = to_csv(*predictions_table(outputs, cfg, transform, rows))
    if args.output:
        try:
            atomic_write_text(args.output, text)
        except OSError as err:  # a missing folder or no permission: the user's path
            raise CLIError(_("cannot write --output {path}: {error}").format(
                path=args.output, error=err.strerror)) from None
        print(_("{n} predictions written to {path}").format(n=len(X), path=args.output))
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    _warn_if_prescaled(X, transform, args.input)  # after: an error stays one line
    return 0
