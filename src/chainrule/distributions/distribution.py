"""The Distribution base class: shapes, argument and sample validation with PyTorch's
messages, and the helpers the concrete distributions share (broadcasting parameters,
probabilities <-> logits)."""
import numbers

import numpy as np

from .. import random as _random
from ..tensors import dtypes
from ..autograd import grad_mode
from ..tensors.tensor import Size, Tensor
from ..ops import elementwise as E
from ..ops.special import LGAMMA
from ..ops.shape import expand


class lazy_property:
    """Computed on first access and then stored on the instance, so a distribution built
    from `probs` derives `logits` only when asked (and vice versa)."""
    def __init__(self, fn):
        self.fn = fn
        self.__doc__ = fn.__doc__

    def __get__(self, obj, cls):
        if obj is None:
            return self
        value = self.fn(obj)
        obj.__dict__[self.fn.__name__] = value
        return value


class Distribution:
    has_rsample = False
    arg_constraints = {}
    _validate_args = True

    @staticmethod
    def set_default_validate_args(value):
        if value not in (True, False):
            raise ValueError("set_default_validate_args: expected True or False, got "
                             f"{value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_parameters()

    def _check_parameters(self):
        for name, constraint in self.arg_constraints.items():
            if name not in self.__dict__ and isinstance(getattr(type(self), name, None), lazy_property):
                continue  # derived lazily from the parameter that was given
            value = getattr(self, name)
            if not bool(constraint.check(value).all()):
                raise ValueError(
                    f"Expected parameter {name} ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to satisfy the constraint "
                    f"{constraint!r}, but found invalid values:\n{value}")

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=Size()):
        if not isinstance(sample_shape, (tuple, list)):
            raise TypeError(f"sample: sample_shape must be a tuple of sizes, got "
                            f"{type(sample_shape).__name__} (write sample(({sample_shape},)))")
        return Size(tuple(sample_shape) + self._batch_shape + self._event_shape)

    # (attribute, event dims) of the tensors that expand() broadcasts to a new batch shape
    _expand_params = ()

    def expand(self, batch_shape):
        """The same distribution with its parameters broadcast (not copied) to batch_shape."""
        batch_shape = Size(batch_shape)
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        for name, event_dims in self._expand_params:
            value = self.__dict__.get(name)
            if value is not None:
                event = tuple(value.shape[value.ndim - event_dims:]) if event_dims else ()
                new.__dict__[name] = expand(value, tuple(batch_shape) + event)
        new._batch_shape = batch_shape
        return new

    def sample(self, sample_shape=Size()):
        with grad_mode.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised rsample; "
                                  "use sample()")

    def _validate_sample(self, value):
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        start = value.ndim - len(self._event_shape)
        if value.shape[start:] != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.shape} vs {self._event_shape}.")
        expected = self._batch_shape + self._event_shape
        for i, j in zip(reversed(value.shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{value.shape} vs {Size(expected)}.")
        if not bool(self.support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to be within the support ({self.support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n{value}")

    def log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__}.log_prob is not supported")

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__}.cdf is not supported")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__}.icdf is not supported")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__}.entropy is not supported")

    def perplexity(self):
        return E.exp(self.entropy())

    @property
    def stddev(self):
        return E.sqrt(self.variance)

    def __repr__(self):
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(f"{k}: {self.__dict__[k] if self.__dict__[k].numel() == 1 else self.__dict__[k].size()}"
                         for k in names)
        return f"{type(self).__name__}({args})"


def broadcast_all(*values, opname):
    """Numbers become tensors of the first tensor's dtype (else the default dtype), then
    all are expanded to one shape."""
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)):
            raise ValueError(f"{opname}: parameters must be numbers or tensors, got "
                             f"{type(v).__name__}")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    np_dtype = like._data.dtype if like is not None else dtypes.get_default_dtype().np
    if np_dtype.kind != "f" and like is not None:
        np_dtype = dtypes.get_default_dtype().np
    tensors = [v if isinstance(v, Tensor) else Tensor._wrap(np.asarray(v, dtype=np_dtype))
               for v in values]
    try:
        shape = np.broadcast_shapes(*(t._data.shape for t in tensors))
    except ValueError:
        raise ValueError(f"{opname}: parameter shapes "
                         f"{', '.join(str(tuple(t.shape)) for t in tensors)} cannot be "
                         "broadcast together") from None
    return [t if t._data.shape == shape else expand(t, shape) for t in tensors]


def one_of(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


def noise(draw, shape, like):
    """Standard noise from chainrule's global generator in the parameters' dtype."""
    return Tensor._wrap(np.asarray(draw(_random._rng(None), shape)).astype(like._data.dtype))


def clamp_probs(probs):
    eps = float(np.finfo(probs._data.dtype).eps)
    return E.clamp(probs, eps, 1 - eps)


def probs_to_logits(probs, is_binary=False):
    p = clamp_probs(probs)
    return E.log(p) - E.log1p(-p) if is_binary else E.log(p)


def lgamma_const(value):
    """log Gamma(value) of counts, a constant of the graph (no gradient flows to counts)."""
    arr = value._data if isinstance(value, Tensor) else np.asarray(value)
    if arr.dtype.kind != "f":
        arr = arr.astype(dtypes.get_default_dtype().np)
    return Tensor._wrap(LGAMMA.forward(arr))
