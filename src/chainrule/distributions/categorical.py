"""The categorical distribution over {0, ..., K-1}, from `probs` (normalised along the last
dimension) or `logits` (log-normalised); the other is derived on first use."""
import numpy as np

from .. import random as _random
from ..tensors.tensor import Size, Tensor
from ..ops import elementwise as E, reduction as R, softmax as SM
from ..ops.indexing import gather
from ..ops.shape import expand
from . import constraints
from .distribution import Distribution, lazy_property, one_of, probs_to_logits


class Categorical(Distribution):
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True
    _expand_params = (("probs", 1), ("logits", 1), ("_param", 1))

    def __init__(self, probs=None, logits=None, validate_args=None):
        one_of(probs, logits)
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
        u = _random._rng(None).random(shape) * cdf[..., -1]
        # inverse CDF: the index of the first category whose cumulative mass exceeds u
        rows = cdf.reshape(-1, self._num_events)
        draws = u.reshape(-1, rows.shape[0])
        idx = np.empty(draws.shape, dtype=np.int64)
        for b, row in enumerate(rows):
            idx[:, b] = np.searchsorted(row, draws[:, b], side="right")
        return Tensor._wrap(np.minimum(idx, self._num_events - 1).reshape(shape))

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
