"""Probability distributions with PyTorch's API: sample/rsample from chainrule's global
generator (so `manual_seed` makes them reproducible), log_prob, entropy and moments that
are differentiable in the parameters, and PyTorch's argument validation."""
from . import constraints
from .continuous import Normal, Uniform
from .discrete import Bernoulli, Categorical, Multinomial
from .distribution import Distribution

__all__ = ["Bernoulli", "Categorical", "Distribution", "Multinomial", "Normal", "Uniform",
           "constraints"]
