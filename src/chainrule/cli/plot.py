"""`chainrule plot RUN` and `chainrule plot activations`: the figures a teacher would
draw on the board, as PNG files."""
import os

import numpy as np

from ..runtime.i18n import _
from . import models, runs
from ._common import CLIError, HelpFormatter, wrap

EPILOG = """examples:
  chainrule plot runs/exp1          curves.png, confusion_matrix.png, gradient_flow.png
  chainrule plot activations        ReLU, sigmoid and tanh with their derivatives
  chainrule plot activations --output act.svg"""


def add_parser(subparsers):
    p = subparsers.add_parser(
        "plot", help="draw a run's figures, or the activation functions", epilog=EPILOG,
        formatter_class=HelpFormatter,
        description=wrap("For a run folder: learning curves, the confusion matrix on the test "
                    "rows (classification) and the gradient flow (mean gradient norm per "
                    "layer), written into the run folder. For `activations`: ReLU, sigmoid "
                    "and tanh with their derivatives computed by autograd."))
    p.add_argument("target", metavar="RUN|activations",
                   help="a run folder, or the word `activations`")
    p.add_argument("--output", "-o", metavar="FILE",
                   help="file for `plot activations` (default: activations.png); PNG, SVG or PDF")
    p.add_argument("--data-dir", metavar="DIR", help="where fashion-mnist / mnist live now")
    p.set_defaults(run=run)
    return p


def _matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CLIError(_("plots need matplotlib: pip install matplotlib")) from None
    from chainrule.train import plots
    return plots


def _close():
    import matplotlib.pyplot as plt
    plt.close("all")


def plot_activations(output):
    plots = _matplotlib()
    path = output or "activations.png"
    if os.path.splitext(path)[1].lower() not in (".png", ".svg", ".pdf"):
        raise CLIError(_("--output {path}: use a .png, .svg or .pdf file name").format(
            path=path))
    folder = os.path.dirname(path)
    if folder and not os.path.isdir(folder):
        raise CLIError(_("folder {folder} does not exist; create it or choose another "
                         "--output").format(folder=folder))
    plots.plot_activations(path)
    _close()
    print(_("wrote {path}").format(path=path))
    return 0


def plot_run(run_dir, data_dir):
    plots = _matplotlib()
    cfg = run_dir.config()
    written = []
    if cfg.get("kfold"):
        print(_("{path} is a K-fold run; its figure is {figure}").format(
            path=run_dir.path, figure=run_dir.file(runs.KFOLD_PNG)))
        return 0
    from chainrule.train import History
    history = History.from_dict(run_dir.read_json(runs.HISTORY_JSON))
    plots.plot_history(history, run_dir.file(runs.CURVES))
    written.append(runs.CURVES)
    _close()
    grads = run_dir.read_json(runs.GRADIENTS)
    if any(len(v) for v in grads.get("norms", {}).values()):
        plots.plot_gradient_flow(grads["norms"], run_dir.file(runs.GRADIENT_FLOW), epoch=None)
        written.append(runs.GRADIENT_FLOW)
        _close()
    if cfg.get("task") == "classification":
        from chainrule.train import confusion_matrix, predict
        from .evaluate import test_data
        model, cfg, transform = models.load_trained(run_dir)
        data = test_data(cfg, transform, data_dir)
        scores = predict(model, data.X_test).detach().numpy()
        cm = confusion_matrix(scores, data.y_test, num_classes=data.output_dim)
        labels = [str(c) for c in transform["classes"]]
        plots.plot_confusion_matrix(cm, run_dir.file(runs.CONFUSION), labels=labels)
        written.append(runs.CONFUSION)
        _close()
        worst = np.argmax(cm - np.diag(np.diag(cm)))
        i, j = divmod(int(worst), cm.shape[0])
        if cm[i, j]:
            print(_("most frequent mistake: {true} taken for {predicted} ({n} times)").format(
                true=labels[i], predicted=labels[j], n=int(cm[i, j])))
    print(_("wrote {files} in {path}/").format(files=", ".join(written), path=run_dir.path))
    return 0


def run(args):
    if args.target == "activations" and not os.path.isdir(args.target):
        return plot_activations(args.output)
    if args.output:
        raise CLIError(_("--output applies to `chainrule plot activations`; run figures go "
                         "into the run folder"))
    return plot_run(runs.open_run(args.target), args.data_dir)
