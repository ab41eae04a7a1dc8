"""Bernoulli, Categorical and Multinomial, each built from `probs` or `logits` (exactly one);
the other parameterisation is derived on first use."""
import math
import numbers

import numpy as np

from .. import random as _random
from ..tensor import Size, Tensor
from ..ops import elementwise as E, reduction as R, softmax as SM
from ..ops.indexing import gather
from ..ops.shape import expand
from ..nn._losses import binary_cross_entropy_with_logits as _bce_logits
from . import constraints
from .distribution import (Distribution, broadcast_all, clamp_probs, lazy_property,
                           lgamma_const, probs_to_logits)


def _one_of(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


class Bernoulli(Distribution):
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
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


class Categorical(Distribution):
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / R.sum(probs, -1, keepdim=True)
        else:
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - SM.logsumexp(logits, -1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        batch = self._param.shape[:-1] if self._param.ndim > 1 else Size()
        super().__init__(batch, validate_args=validate_args)

    @lazy_property
    def probs(self):
        return SM.softmax(self.logits, -1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        return Tensor._wrap(np.full(self._batch_shape, np.nan, dtype=self.probs._data.dtype))

    variance = mean

    @property
    def mode(self):
        return R.argmax(self.probs, -1)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        cdf = np.cumsum(self.probs._data, -1)
        u = _random._rng(None).random(shape + (1,)) * cdf[..., -1:]
        # inverse CDF: the index of the first category whose cumulative mass exceeds u
        idx = (u >= cdf).sum(-1)
        return Tensor._wrap(np.minimum(idx, self._num_events - 1).astype(np.int64))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        shape = np.broadcast_shapes(value.shape, self.logits.shape)
        log_pmf = expand(self.logits, shape)
        index = Tensor._wrap(np.broadcast_to(value._data, shape[:-1] + (1,)).copy())
        return gather(log_pmf, -1, index).squeeze(-1)

    def entropy(self):
        low = float(np.finfo(self.logits._data.dtype).min)
        return -R.sum(E.clamp(self.logits, min=low) * self.probs, -1)

    def enumerate_support(self, expand=True):
        values = Tensor._wrap(np.arange(self._num_events).reshape(
            (-1,) + (1,) * len(self._batch_shape)))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values


class Multinomial(Distribution):
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, numbers.Integral) or isinstance(total_count, bool):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = int(total_count)
        self._categorical = Categorical(probs=probs, logits=logits, validate_args=validate_args)
        param = self._categorical.param_shape
        super().__init__(self._categorical.batch_shape, param[-1:], validate_args=validate_args)

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
