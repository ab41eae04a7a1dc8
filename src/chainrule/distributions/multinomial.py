"""The multinomial distribution: counts of `total_count` draws from a Categorical."""
import math
import numbers

import numpy as np

from .. import random as _random
from ..tensors.tensor import Size, Tensor
from ..ops import elementwise as E, reduction as R
from . import constraints
from .categorical import Categorical
from .distribution import Distribution, broadcast_all, lgamma_const, probs_to_logits


class Multinomial(Distribution):
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, numbers.Integral) or isinstance(total_count, bool):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = int(total_count)
        self._categorical = Categorical(probs=probs, logits=logits, validate_args=validate_args)
        param = self._categorical.param_shape
        super().__init__(self._categorical.batch_shape, param[-1:], validate_args=validate_args)

    def expand(self, batch_shape):
        new = super().expand(batch_shape)
        new._categorical = self._categorical.expand(batch_shape)
        return new

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        p = self.probs._data.astype(np.float64)
        p = p / p.sum(-1, keepdims=True)
        counts = _random._rng(None).multinomial(self.total_count, p, size=shape[:-1])
        return Tensor._wrap(counts.astype(self.probs._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value, opname="Multinomial.log_prob")
        log_factorial_n = lgamma_const(R.sum(value, -1) + 1)
        log_factorial_xs = R.sum(lgamma_const(value + 1), -1)
        # 0 * log(0) counts as 0: a category never drawn contributes nothing
        logits = E.where((value == 0) & (logits == -math.inf), 0.0, logits)
        return log_factorial_n - log_factorial_xs + R.sum(logits * value, -1)

    def entropy(self):
        n = self.total_count
        term1 = n * self._categorical.entropy() - float(math.lgamma(n + 1))
        p = self.probs
        # sum over k = 1..n of Binomial(n, p).pmf(k) * log k!, per category
        support = Tensor._wrap(np.arange(1, n + 1, dtype=p._data.dtype).reshape(
            (-1,) + (1,) * p.ndim))
        log_pmf = _binomial_log_prob(support, n, probs_to_logits(p, is_binary=True))
        term2 = R.sum(E.exp(log_pmf) * lgamma_const(support + 1), (0, -1))
        return term1 + term2


def _binomial_log_prob(k, n, logits):
    """log Binomial(n, sigmoid(logits)).pmf(k), stable for large |logits|."""
    log_choose = float(math.lgamma(n + 1)) - lgamma_const(k + 1) - lgamma_const(n - k + 1)
    # max(logits, 0) written so that its gradient at 0 is 1/2 on both sides, as PyTorch's
    positive = (E.clamp(logits, min=0) + logits - E.clamp(logits, max=0)) / 2
    normaliser = n * positive + n * E.log1p(E.exp(-E.abs(logits)))
    return k * logits + log_choose - normaliser
