"""Every figure is written (PNG and SVG) and is not empty; inputs are checked."""
import functools
import os

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib", reason="the plots need matplotlib, which is not "
                                                           "installed")

import chainrule as cr  # noqa: E402
from chainrule import nn, optim  # noqa: E402
from chainrule.train import (GradientMonitor, History, confusion_matrix, fit, k_fold,  # noqa: E402
                             plot_activations, plot_confusion_matrix, plot_gradient_flow,
                             plot_history, plot_k_fold, plot_predictions, predict)
from chainrule.vision.datasets import Digits  # noqa: E402


@pytest.fixture(scope="module")
def trained():
    ds = Digits(train=True)
    X = ds.data.numpy()[:400].reshape(-1, 64).astype(np.float32) / 16
    y = ds.targets.numpy()[:400]
    cr.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    gm = GradientMonitor()
    h = fit(net, (X, y), loss=nn.CrossEntropyLoss(), optimizer=optim.SGD(net.parameters(), lr=0.2),
            epochs=4, validation_split=0.25, callbacks=[gm], progress=False, seed=0)
    return net, X, y, h, gm


def _check(path, kind):
    assert os.path.getsize(path) > 1000
    head = open(path, "rb").read(200)
    if kind == "png":
        assert head.startswith(b"\x89PNG")
    else:
        assert b"<svg" in open(path, "rb").read()


@pytest.mark.slow
@pytest.mark.parametrize("ext", ["png", "svg"])
def test_all_plots_written(trained, tmp_path, ext):
    net, X, y, h, gm = trained
    figs = {}
    figs["history"] = plot_history(h, tmp_path / f"history.{ext}")
    figs["grad"] = plot_gradient_flow(gm, tmp_path / f"grad.{ext}", epoch=None)
    cm = confusion_matrix(predict(net, X[-100:]), y[-100:], num_classes=10)
    figs["cm"] = plot_confusion_matrix(cm, tmp_path / f"cm.{ext}", labels=Digits.classes,
                                       normalize=True)
    figs["pred"] = plot_predictions(net, X[:12], y[:12], tmp_path / f"pred.{ext}")
    figs["act"] = plot_activations(tmp_path / f"act.{ext}")
    res = k_fold(lambda: nn.Linear(64, 10), X[:90], y[:90], k=3,
                 fit_kwargs=dict(loss=nn.CrossEntropyLoss(), epochs=2,
                                 optimizer=functools.partial(optim.SGD, lr=0.1)))
    figs["kfold"] = plot_k_fold(res, tmp_path / f"kfold.{ext}")
    for name in ["history", "grad", "cm", "pred", "act", "kfold"]:
        _check(tmp_path / f"{name}.{ext}", ext)
    # labelled axes and legends where they belong
    ax = figs["history"].axes[0]
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "train loss" in labels and "validation loss" in labels
    assert any(t.startswith("best epoch") for t in labels)
    assert figs["cm"].axes[0].get_xlabel() == "predicted class"
    assert figs["grad"].axes[0].get_yscale() == "log"
    titles = [a.get_title() for a in figs["pred"].axes if a.get_title()]
    assert len(titles) == 12 and all("true:" in t and "pred:" in t for t in titles)
    import matplotlib.pyplot as plt
    plt.close("all")


def test_activation_derivatives_come_from_autograd():
    fig = plot_activations(names=("sigmoid",))
    lines = fig.axes[0].get_lines()
    x, s, ds = lines[0].get_xdata(), lines[0].get_ydata(), lines[1].get_ydata()
    np.testing.assert_allclose(ds, s * (1 - s), atol=1e-6)
    assert len(x) == 160
    with pytest.raises(ValueError, match="unknown activation"):
        plot_activations(names=("swish",))


def test_plot_inputs_checked(tmp_path):
    with pytest.raises(ValueError, match="loss"):
        plot_history({"accuracy": [0.5]})
    with pytest.raises(ValueError, match="no gradient norms"):
        plot_gradient_flow({"w": []})
    h = History({"loss": [1.0, 0.5]}, [0, 1])
    h.plot(tmp_path / "h.png")
    _check(tmp_path / "h.png", "png")
