"""BatchNorm1d/2d/3d and their lazy forms, with PyTorch's parameters, buffers
(running_mean, running_var, num_batches_tracked), defaults and state_dict keys.

In training they normalise with the batch's statistics and update the running ones
(momentum=None: a cumulative average, 1/num_batches_tracked); in eval() they normalise with
the running statistics, unless the module tracks none (track_running_stats=False)."""
import numbers

import numpy as np

from ..tensors import devices
from ..tensors import dtypes
from ..autograd import grad_mode
from ..tensors.tensor import Tensor
from . import init
from ._batch_norm import batch_norm
from .module import Module
from .parameter import Parameter, UninitializedBuffer, UninitializedParameter, materialize


def _vector(n, fill, dtype, device, name):
    devices.place(device, name)
    np_dtype = dtypes.to_numpy_dtype(dtype or dtypes.get_default_dtype())
    return Tensor._wrap(np.full(n, fill, dtype=np_dtype))


class _NormBase(Module):
    """Parameters and running statistics shared by the batch norms."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, numbers.Integral):
            raise TypeError(f"{name}: num_features must be an integer, got "
                            f"{type(num_features).__name__}")
        if num_features < 0:
            raise RuntimeError(f"{name}: num_features must be non-negative, got "
                               f"{num_features}")
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        n = self.num_features
        if affine:
            self.weight = Parameter(_vector(n, 1.0, dtype, device, name))
            if bias:
                self.bias = Parameter(_vector(n, 0.0, dtype, device, name))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", _vector(n, 0.0, dtype, device, name))
            self.register_buffer("running_var", _vector(n, 1.0, dtype, device, name))
            self.register_buffer("num_batches_tracked", Tensor._wrap(np.array(0, np.int64)))
        else:
            for buffer in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(buffer, None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            with grad_mode.no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def _optional_state(self):
        # checkpoints from before the counter existed load, keeping the current count
        return {"num_batches_tracked": self.num_batches_tracked}

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    def forward(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a tensor input, got "
                            f"{type(input).__name__}")
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # the average of every batch so far; an array op,
                # so that a compiled step computes it afresh on every replay
                factor = np.true_divide(1.0, self.num_batches_tracked._data)
        # eval() normalises with the running statistics when there are any
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if keep else None,
                          self.running_var if keep else None, self.weight, self.bias,
                          use_batch, factor, self.eps)


def _dims_check(expected, label):
    def check(self, input):
        if input.ndim not in expected:
            raise ValueError(f"expected {label} input (got {input.ndim}D input)")
    return check


class BatchNorm1d(_BatchNorm):
    """Over (N, C) or (N, C, L) inputs."""
    _check_input_dim = _dims_check((2, 3), "2D or 3D")


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W) inputs."""
    _check_input_dim = _dims_check((4,), "4D")


class BatchNorm3d(_BatchNorm):
    """Over (N, C, D, H, W) inputs."""
    _check_input_dim = _dims_check((5,), "5D")


class _LazyBatchNorm(_BatchNorm):
    """A batch norm whose num_features is the first input's dim 1; it then becomes the
    plain class (PyTorch's cls_to_become), its placeholders materialised in place."""
    cls_to_become = None

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(dtype=dtype)
            self.running_var = UninitializedBuffer(dtype=dtype)
            self.num_batches_tracked = Tensor._wrap(np.array(0, np.int64))

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features:
            super().reset_parameters()

    def has_uninitialized_params(self):
        return any(isinstance(t, (UninitializedParameter, UninitializedBuffer))
                   for t in (self.weight, self.bias, self.running_mean, self.running_var))

    def initialize_parameters(self, input):
        if input.ndim < 2:
            raise ValueError(f"{type(self).__name__}: expected an input of shape (N, C, ...), "
                             f"got shape {tuple(input.shape)}")
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            for t in (self.weight, self.bias, self.running_mean, self.running_var):
                if isinstance(t, (UninitializedParameter, UninitializedBuffer)):
                    materialize(t, (self.num_features,))
            self.reset_parameters()
        else:  # loaded from a state dict (or nothing to learn): its tensors say how many
            loaded = [t for t in (self.weight, self.running_mean) if t is not None]
            self.num_features = loaded[0].shape[0] if loaded else input.shape[1]

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a tensor input, got "
                            f"{type(input).__name__}")
        self.initialize_parameters(input)
        self.__class__ = self.cls_to_become
        return self.forward(input)


class LazyBatchNorm1d(_LazyBatchNorm):
    cls_to_become = BatchNorm1d
    _check_input_dim = BatchNorm1d._check_input_dim


class LazyBatchNorm2d(_LazyBatchNorm):
    cls_to_become = BatchNorm2d
    _check_input_dim = BatchNorm2d._check_input_dim


class LazyBatchNorm3d(_LazyBatchNorm):
    cls_to_become = BatchNorm3d
    _check_input_dim = BatchNorm3d._check_input_dim
