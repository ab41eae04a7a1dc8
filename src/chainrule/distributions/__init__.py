"""Probability distributions with PyTorch's API: sample/rsample from chainrule's global
generator (so `manual_seed` makes them reproducible), log_prob, entropy and moments that
are differentiable in the parameters, and PyTorch's argument validation."""
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .multinomial import Multinomial
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Multinomial", "Normal", "Uniform",
           "constraints"]
