"""KL divergence between two distributions of the same family, in closed form."""
import math

from ..ops import elementwise as E, reduction as R
from .bernoulli import Bernoulli
from .categorical import Categorical
from .normal import Normal
from .uniform import Uniform


def _normal(p, q):
    ratio = (p.scale / q.scale) ** 2
    return 0.5 * (ratio + ((p.loc - q.loc) / q.scale) ** 2 - 1 - E.log(ratio))


def _categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = E.where(q.probs == 0, math.inf, t)
    return R.sum(E.where(p.probs == 0, 0.0, t), -1)


def _bernoulli(p, q):
    from ..nn.functional import softplus
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = E.where(q.probs == 0, math.inf, E.where(p.probs == 0, 0.0, t1))
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = E.where(q.probs == 1, math.inf, E.where(p.probs == 1, 0.0, t2))
    return t1 + t2


def _uniform(p, q):
    out = E.log((q.high - q.low) / (p.high - p.low))
    return E.where((q.low > p.low) | (q.high < p.high), math.inf, out)


_RULES = {(Normal, Normal): _normal, (Categorical, Categorical): _categorical,
          (Bernoulli, Bernoulli): _bernoulli, (Uniform, Uniform): _uniform}


def kl_divergence(p, q):
    rule = _RULES.get((type(p), type(q)))
    if rule is None:
        raise NotImplementedError(f"chainrule does not support kl_divergence between "
                                  f"{type(p).__name__} and {type(q).__name__}; supported: "
                                  + ", ".join(f"{a.__name__}-{b.__name__}" for a, b in _RULES))
    return rule(p, q)
