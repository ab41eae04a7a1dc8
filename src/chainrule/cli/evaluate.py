"""`chainrule evaluate RUN`: score a saved model on its data set's test rows."""
import json

from ..runtime.i18n import _
from . import data_sources, models, runs
from ._common import CLIError, HelpFormatter, wrap

EPILOG = """examples:
  chainrule evaluate runs/20250101-120000
  chainrule evaluate runs/fashion --data-dir ~/data      data moved since training
  chainrule evaluate runs/exp1 --json                    machine-readable"""


def add_parser(subparsers):
    p = subparsers.add_parser(
        "evaluate", help="score a trained run on its test rows", epilog=EPILOG,
        formatter_class=HelpFormatter,
        description=wrap("Load the model of a run folder and report its loss and accuracy "
                    "(classification) or RMSE / log-RMSE (regression) on the test rows of "
                    "the data set it was trained on."))
    p.add_argument("run_dir", metavar="RUN", help="a run folder written by `chainrule train`")
    p.add_argument("--data-dir", metavar="DIR", help="where fashion-mnist / mnist live now")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(run=run)
    return p


def test_data(cfg, transform, data_dir=None):
    """The run's test rows, preprocessed exactly as in training."""
    cfg = dict(cfg, download=False)
    if data_dir:
        cfg["data_dir"] = data_dir
    data = data_sources.load(cfg)
    if json.loads(json.dumps(data.transform)) != transform:
        raise CLIError(_("the data set {dataset} has changed since training (its "
                         "preprocessing differs from transform.json), so the test rows are "
                         "not the same; retrain, or use `chainrule predict` on new rows").format(
                             dataset=cfg["dataset"]))
    return data


def run(args):
    run_dir = runs.open_run(args.run_dir)
    model, cfg, transform = models.load_trained(run_dir)
    data = test_data(cfg, transform, args.data_dir)
    from chainrule.train import evaluate
    from .train import metrics_for, test_line
    results = evaluate(model, (data.X_test, data.y_test), loss=models.loss_for(data.task),
                       metrics=metrics_for(data))
    if args.json:
        print(json.dumps({"run": run_dir.path, "test_rows": len(data.X_test), **results}))
    else:
        print(_("{path}: {model} on {data}").format(
            path=run_dir.path, model=models.describe_for(cfg, data), data=data.name))
        print(test_line(results, len(data.X_test)))
    return 0
