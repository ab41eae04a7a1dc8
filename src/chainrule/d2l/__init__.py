"""The helpers of *Dive into Deep Learning* (chapters 2-7) on chainrule.

    import chainrule as torch
    from chainrule import d2l

replaces `from d2l import torch as d2l`: same names, signatures and behaviour, with
`d2l.plt` for matplotlib and d2l's small tensor aliases (d2l.numpy, d2l.reshape, ...).
Extra, for working offline: `d2l.load_data_digits`, a Fashion-MNIST stand-in made from
the UCI digits that ship with chainrule."""
from ..tensors import creation as _creation
from ..tensors import dtypes as _dtypes
from .. import ops as _ops  # noqa: F401
from ..ops import elementwise as _ew
from ..ops import linalg as _linalg
from ..ops import shape as _shape
from .. import random as _random
from .data import (DEFAULT_DATA_ROOT, fashion_mnist_available, get_dataloader_workers,
                   get_digits_labels, get_fashion_mnist_labels, load_array, load_data_digits,
                   load_data_fashion_mnist, synthetic_data)
from .convolution import corr2d
from .plotting import Animator, plot, set_axes, set_figsize, show_images, use_svg_display
from .training import (Accumulator, Timer, TrainResult, accuracy, cpu, evaluate_accuracy,
                       evaluate_loss, gpu, last_history, linreg, num_gpus, predict_ch3, sgd,
                       squared_loss, train_ch3, train_epoch_ch3, try_all_gpus, try_gpu)
from .residual import Residual
from .training_ch6 import evaluate_accuracy_gpu, train_ch6

# d2l's framework-neutral aliases, used in its notebooks and older chapter code
ones, zeros, tensor, arange = _creation.ones, _creation.zeros, _creation.tensor, _creation.arange
linspace, eye = _creation.linspace, _creation.eye
sin, cos, tanh, exp, log, abs = _ew.sin, _ew.cos, _ew.tanh, _ew.exp, _ew.log, _ew.abs
sigmoid = _ew.sigmoid
normal, rand, randn = _random.normal, _random.rand, _random.randn
matmul, batch_matmul = _linalg.matmul, _linalg.bmm
concat, stack = _shape.cat, _shape.stack
int32, int64, float32 = _dtypes.int32, _dtypes.int64, _dtypes.float32


def numpy(x, *args, **kwargs):
    return x.detach().numpy(*args, **kwargs)


def size(x, *args, **kwargs):
    return x.numel(*args, **kwargs)


def reshape(x, *args, **kwargs):
    return x.reshape(*args, **kwargs)


def to(x, *args, **kwargs):
    return x.to(*args, **kwargs)


def reduce_sum(x, *args, **kwargs):
    return x.sum(*args, **kwargs)


def reduce_mean(x, *args, **kwargs):
    return x.mean(*args, **kwargs)


def argmax(x, *args, **kwargs):
    # d2l writes argmax(x, axis=1); chainrule's reductions take dim=
    if "axis" in kwargs:
        kwargs["dim"] = kwargs.pop("axis")
    return x.argmax(*args, **kwargs)


def astype(x, *args, **kwargs):
    return x.type(*args, **kwargs)


def transpose(x, *args, **kwargs):
    return x.t(*args, **kwargs)


def __getattr__(name):
    # `d2l.plt` imports matplotlib only when a program actually plots
    if name == "plt":
        from .plotting import get_plt
        return get_plt()
    raise AttributeError(f"module 'chainrule.d2l' has no attribute {name!r}")


__all__ = ["synthetic_data", "load_array", "get_fashion_mnist_labels", "get_digits_labels",
           "get_dataloader_workers", "load_data_fashion_mnist", "fashion_mnist_available",
           "load_data_digits", "DEFAULT_DATA_ROOT", "linreg", "squared_loss", "sgd",
           "accuracy", "evaluate_accuracy", "evaluate_loss", "Accumulator", "train_epoch_ch3",
           "train_ch3", "predict_ch3", "TrainResult", "Animator", "plot", "set_figsize",
           "set_axes", "use_svg_display", "show_images", "Timer", "try_gpu", "try_all_gpus",
           "num_gpus", "cpu", "gpu", "last_history", "plt", "corr2d", "evaluate_accuracy_gpu",
           "train_ch6", "Residual"]
