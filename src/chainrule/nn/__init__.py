"""chainrule.nn: modules, layers, losses, initialisation, as torch.nn."""
from . import functional, init, modules, parallel, utils
from .activation import (GELU, LeakyReLU, LogSigmoid, LogSoftmax, ReLU, Sigmoid, Softmax,
                         Softplus, Tanh)
from .batchnorm import (BatchNorm1d, BatchNorm2d, BatchNorm3d, LazyBatchNorm1d,
                        LazyBatchNorm2d, LazyBatchNorm3d)
from .containers import ModuleDict, ModuleList, Sequential
from .conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d,
                   LazyConv2d)
from .fold import Fold, Unfold
from .padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d,
                      ConstantPad3d, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d,
                      ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
                      ZeroPad3d)
from .layers import Dropout, Flatten, Identity, LazyLinear, Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss,
                   NLLLoss, SmoothL1Loss)
from .module import Module
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .normalization import GroupNorm, LayerNorm, LocalResponseNorm
from .parameter import Parameter, UninitializedParameter

__all__ = ["Module", "Parameter", "UninitializedParameter", "Sequential", "ModuleList",
           "ModuleDict", "Linear", "LazyLinear", "Identity", "Flatten", "Dropout", "ReLU",
           "Sigmoid", "LogSigmoid", "Softplus", "Tanh", "LeakyReLU", "GELU", "Softmax", "LogSoftmax", "MSELoss",
           "L1Loss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
           "BCEWithLogitsLoss", "functional", "init", "parallel", "utils"]
__all__ += ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
            "LazyBatchNorm3d", "LayerNorm", "GroupNorm", "LocalResponseNorm", "InstanceNorm1d",
            "InstanceNorm2d", "InstanceNorm3d"]

__all__ += ["Conv3d", "ConvTranspose3d"]
__all__ += ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "LazyConv2d", "Fold",
            "Unfold", "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d",
            "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d",
            "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
            "ZeroPad1d", "ZeroPad2d", "ZeroPad3d"]


def __getattr__(name):
    # the rest of torch.nn (Conv2d, ...) is named as not supported
    from ..compat.unsupported import missing
    raise missing("torch.nn", name)


# pooling, resampling, channel dropout and more activations
from .activation import (CELU, ELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish,  # noqa: E402
                         Hardtanh, Mish, ReLU6, RReLU, SiLU, Softmax2d, Softmin, Softshrink,
                         Softsign, Tanhshrink, Threshold)
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d,  # noqa: E402
                      AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d)
from .pooling import (AdaptiveAvgPool3d, AdaptiveMaxPool3d, AvgPool3d,  # noqa: E402
                      MaxPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d)
from .resampling import (Dropout1d, Dropout2d, PixelShuffle, PixelUnshuffle,  # noqa: E402
                         Upsample, UpsamplingBilinear2d, UpsamplingNearest2d)
__all__ += ["ELU", "SELU", "CELU", "SiLU", "Mish", "Hardswish", "Hardsigmoid", "ReLU6",
            "Hardtanh", "Softsign", "Softmin", "Softmax2d", "GLU", "Tanhshrink", "Softshrink",
            "Hardshrink", "Threshold", "RReLU", "MaxPool1d", "MaxPool2d", "AvgPool1d",
            "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d",
            "AdaptiveMaxPool2d", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d",
            "PixelShuffle", "PixelUnshuffle", "Dropout1d", "Dropout2d"]
__all__ += ["MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "MaxUnpool1d",
            "MaxUnpool2d", "MaxUnpool3d"]
