"""chainrule.nn: modules, layers, losses, initialisation, as torch.nn."""
from . import functional, init, modules, parallel, utils
from .activation import (GELU, LeakyReLU, LogSigmoid, LogSoftmax, ReLU, Sigmoid, Softmax,
                         Softplus, Tanh)
from .containers import ModuleDict, ModuleList, Sequential
from .layers import Dropout, Flatten, Identity, LazyLinear, Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss,
                   NLLLoss, SmoothL1Loss)
from .module import Module
from .parameter import Parameter, UninitializedParameter

__all__ = ["Module", "Parameter", "UninitializedParameter", "Sequential", "ModuleList",
           "ModuleDict", "Linear", "LazyLinear", "Identity", "Flatten", "Dropout", "ReLU",
           "Sigmoid", "LogSigmoid", "Softplus", "Tanh", "LeakyReLU", "GELU", "Softmax", "LogSoftmax", "MSELoss",
           "L1Loss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
           "BCEWithLogitsLoss", "functional", "init", "parallel", "utils"]


def __getattr__(name):
    # the rest of torch.nn (Conv2d, ...) is named as not supported
    from ..unsupported import missing
    raise missing("torch.nn", name)
