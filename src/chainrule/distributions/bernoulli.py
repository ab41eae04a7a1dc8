"""The Bernoulli distribution over {0, 1}, from `probs` or `logits` (exactly one)."""
import math
import numbers

from .. import random as _random
from ..tensors.tensor import Size, Tensor
from ..ops import elementwise as E
from ..nn._elementwise_losses import binary_cross_entropy_with_logits as _bce_logits
from . import constraints
from .distribution import Distribution, broadcast_all, lazy_property, one_of, probs_to_logits


class Bernoulli(Distribution):
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    _expand_params = (("probs", 0), ("logits", 0), ("_param", 0))

    def __init__(self, probs=None, logits=None, validate_args=None):
        one_of(probs, logits)
        given = probs if probs is not None else logits
        (param,) = broadcast_all(given, opname="Bernoulli")
        self.__dict__["probs" if probs is not None else "logits"] = param
        self._param = param
        shape = Size() if isinstance(given, numbers.Number) else param.shape
        super().__init__(shape, validate_args=validate_args)

    @lazy_property
    def probs(self):
        return E.sigmoid(self.logits)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        m = (self.probs >= 0.5).to(self.probs.dtype)
        return E.where(self.probs == 0.5, math.nan, m)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        p = self.probs._data
        u = _random._rng(None).random(shape)
        return Tensor._wrap((u < p).astype(p.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value, opname="Bernoulli.log_prob")
        return -_bce_logits(logits, value, reduction="none")

    def entropy(self):
        return _bce_logits(self.logits, self.probs, reduction="none")
