"""Probability distributions with PyTorch's API: sample/rsample from chainrule's global
generator (so `manual_seed` makes them reproducible), log_prob, entropy and moments that
are differentiable in the parameters, and PyTorch's argument validation."""
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .kl import kl_divergence
from .multinomial import Multinomial
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Multinomial", "Normal", "Uniform",
           "constraints", "kl_divergence"]


def __getattr__(name):
    # the rest of torch.distributions (Beta, Gamma, ...) is named as not supported
    from ..compat.unsupported import missing
    raise missing("torch.distributions", name)
