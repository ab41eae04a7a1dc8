"""d2l's models, losses and training loops of chapters 3-5: linreg, squared_loss, sgd,
accuracy, evaluate_accuracy / evaluate_loss, Accumulator, train_epoch_ch3, train_ch3,
predict_ch3, Timer, cpu / gpu / try_gpu / try_all_gpus."""
import time
from collections import namedtuple

import numpy as np

from .. import autograd, cuda, nn, optim
from ..tensors.devices import device
from ..ops.linalg import matmul
from .data import get_fashion_mnist_labels
from ..runtime.notebook_display import in_notebook
from ..runtime.figures import default_figure_path
from .plotting import Animator, show_images

__all__ = ["linreg", "squared_loss", "sgd", "accuracy", "evaluate_accuracy", "evaluate_loss",
           "Accumulator", "train_epoch_ch3", "train_ch3", "predict_ch3", "Timer", "try_gpu",
           "try_all_gpus", "num_gpus", "cpu", "gpu", "TrainResult", "last_history"]

class TrainResult(namedtuple("TrainResult", "train_loss train_acc test_acc")):
    """The last epoch's numbers (d2l's train_ch3 returns nothing, so unpacking these three
    is all old code can do) and, in `.history`, the per-epoch curves ('loss', 'accuracy',
    'test_accuracy') that `chainrule.train.diagnose` reads."""

    def __new__(cls, train_loss, train_acc, test_acc, history=None):
        self = super().__new__(cls, train_loss, train_acc, test_acc)
        self.history = history if history is not None else {
            "loss": [train_loss], "accuracy": [train_acc], "test_accuracy": [test_acc]}
        return self


def linreg(X, w, b):
    """The linear regression model."""
    return matmul(X, w) + b


def squared_loss(y_hat, y):
    """Per-example squared loss, halved (d2l's convention)."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    """Minibatch SGD in place; gradients are zeroed afterwards."""
    with autograd.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def accuracy(y_hat, y):
    """Number of correct predictions (a float, not a fraction)."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


class Accumulator:
    """Running sums over n variables."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        if len(args) != len(self.data):
            raise ValueError(f"Accumulator holds {len(self.data)} sums, got {len(args)} "
                             "values")
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        return f"Accumulator({self.data})"


def evaluate_accuracy(net, data_iter):
    """Accuracy of `net` over a dataset (eval mode, no gradients)."""
    if isinstance(net, nn.Module):
        net.eval()
    metric = Accumulator(2)  # correct predictions, predictions
    with autograd.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def evaluate_loss(net, data_iter, loss):
    """Average loss of `net` over a dataset."""
    metric = Accumulator(2)  # sum of losses, number of examples
    with autograd.no_grad():
        for X, y in data_iter:
            out = net(X)
            y = y.reshape(out.shape)
            l = loss(out, y)
            metric.add(_loss_sum(l, y), y.shape[0] if len(y.shape) else 1)
    return metric[0] / metric[1]


def _loss_sum(l, y):
    # d2l's losses use reduction='none'; a mean-reduced loss is scaled back to a sum so
    # the reported average is right either way
    if l.numel() == 1 and len(y.shape) and y.shape[0] > 1:
        return float(l.sum()) * y.shape[0]
    return float(l.sum())


def train_epoch_ch3(net, train_iter, loss, updater):
    """One epoch; returns (average training loss, training accuracy).

    `updater` is a chainrule.optim optimizer, or d2l's `updater(batch_size)` callable
    (e.g. wrapping d2l.sgd) for models written from scratch."""
    if isinstance(net, nn.Module):
        net.train()
    metric = Accumulator(3)  # sum of losses, correct predictions, examples
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(_loss_sum(l.detach(), y), accuracy(y_hat.detach(), y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater, animator=None,
              check=True):
    """Train for num_epochs, plotting train loss, train and test accuracy per epoch.

    As in d2l, ends by asserting train loss < 0.5 and both accuracies > 0.7 (`check=False`
    skips that, for short demo runs). Outside Jupyter the curves are written to
train_ch3.png (in $CHAINRULE_FIGURE_DIR or the current folder) and the path is printed;
pass your own `Animator` (with `path=` for a file) to keep or save the figure.
    Returns None, as d2l's does (a notebook cell shows no extra output); the last epoch's
    (train_loss, train_acc, test_acc) with the per-epoch curves in `.history` are kept for
    `last_history()`, so `chainrule.train.diagnose(d2l.last_history())` reads them."""
    if animator is None:  # outside Jupyter its figure goes to a file when training ends
        animator = Animator(xlabel="epoch", xlim=[1, num_epochs], ylim=[0.3, 0.9],
                            ylim_grows=True, legend=["train loss", "train acc", "test acc"],
                            path=None if in_notebook() else default_figure_path("train_ch3.png"))
    train_loss = train_acc = test_acc = float("nan")
    curves = {"loss": [], "accuracy": [], "test_accuracy": []}
    for epoch in range(num_epochs):
        train_loss, train_acc = train_epoch_ch3(net, train_iter, loss, updater)
        test_acc = evaluate_accuracy(net, test_iter)
        animator.add(epoch + 1, (train_loss, train_acc, test_acc))
        for key, v in zip(curves, (train_loss, train_acc, test_acc)):
            curves[key].append(float(v))
    _last[0] = TrainResult(train_loss, train_acc, test_acc, curves)  # kept when a check fails
    if hasattr(animator, "finish"):  # any object with add(x, y) may stand in
        animator.finish()
    if check:  # d2l's own checks, with what to do when one fails
        hint = (" (d2l's final check; chainrule.train.diagnose(d2l.last_history()) says "
                "why, check=False skips it)")
        assert train_loss < 0.5, f"train loss {train_loss:.4f} is not below 0.5{hint}"
        assert 0.7 < train_acc <= 1, f"train accuracy {train_acc:.4f} is not above 0.7{hint}"
        assert 0.7 < test_acc <= 1, f"test accuracy {test_acc:.4f} is not above 0.7{hint}"


_last = [None]


def last_history():
    """The result of the latest train_ch3 call (None before any): a TrainResult that
    unpacks to the last epoch's (train_loss, train_acc, test_acc) and holds the per-epoch
    curves in `.history`; `chainrule.train.diagnose` accepts it as it is."""
    return _last[0]


def predict_ch3(net, test_iter, n=6, labels_fn=None):
    """Show the first n test images titled with their true and predicted labels (None is
    returned, as by d2l); outside Jupyter the figure is written to predict_ch3.png (in
    $CHAINRULE_FIGURE_DIR or the current folder) and the path printed. Labels are Fashion-MNIST's names unless `labels_fn` is given or
    the loader carries its own (load_data_digits' loaders name digits 0-9)."""
    labels_fn = labels_fn or getattr(test_iter, "text_labels", None) or get_fashion_mnist_labels
    for X, y in test_iter:
        break
    if isinstance(net, nn.Module):
        net.eval()
    with autograd.no_grad():
        preds = labels_fn(net(X).argmax(dim=1))
    trues = labels_fn(y)
    titles = [true + "\n" + pred for true, pred in zip(trues, preds)]
    h, w = X.shape[-2], X.shape[-1]
    axes = show_images(X[0:n].reshape((n, h, w)), 1, n, titles=titles[0:n])
    if not in_notebook():  # a script shows nothing: write the figure and say where
        from ..runtime.figures import write_figure
        path = default_figure_path("predict_ch3.png")
        write_figure(axes[0].figure, path)
        print(f"predict_ch3: figure written to {path}", flush=True)


class Timer:
    """Record multiple running times."""

    def __init__(self):
        self.times = []
        self.start()

    def start(self):
        self.tik = time.perf_counter()

    def stop(self):
        self.times.append(time.perf_counter() - self.tik)
        return self.times[-1]

    def avg(self):
        return sum(self.times) / len(self.times)

    def sum(self):
        return sum(self.times)

    def cumsum(self):
        return np.array(self.times).cumsum().tolist()


def cpu():
    return device("cpu")


def gpu(i=0):
    """The i-th GPU's device object; as in PyTorch, placing a tensor there fails on a
    machine without one (chainrule computes on the CPU)."""
    return device(f"cuda:{i}")


def num_gpus():
    return cuda.device_count()  # 0: chainrule computes on the CPU with NumPy


def try_gpu(i=0):
    """The i-th GPU if there is one, else the CPU (so always device(type='cpu') here)."""
    return gpu(i) if num_gpus() >= i + 1 else cpu()


def try_all_gpus():
    """Every GPU, or [device(type='cpu')] when there is none."""
    return [gpu(i) for i in range(num_gpus())] or [cpu()]
