"""How ill-conditioned PyTorch's answer to a recipe is. Rounding is where two correct
frameworks part: each step's result is its exact value within a unit of its dtype, and
which way each rounds is the framework's choice (order of additions, kernels). So the
recipe is replayed in PyTorch with every step's float result moved by one epsilon of its
dtype, up or down at random, element by element (two draws; a third all up, a fourth all
down), and the gradient a
softmax-like step passes back by an epsilon of the gradient it receives; where that moves
PyTorch's answer, the comparison allows chainrule's to sit that far off too (SLACK times):
integers made from floats included, and an inf on one side only where a draw of PyTorch's
answer crosses the dtype's largest value as chainrule's does.
Well-conditioned elements move by about an epsilon, far inside the tolerance, so a wrong
formula still shows; an x ** 30, a variance of values far from zero or the gradient of a
std of nearly equal values move by as much as the two frameworks differ.

Only computed when a comparison fails: most graphs never pay for the extra replays."""
import numpy as np

SLACK = 2.0
# two draws of random directions, one all upward and one all downward: random signs can
# cancel in a sum (two terms a unit up and a unit down), the same sign cannot; and a float
# truncated to an integer (10.0 against a kernel's 9.999999) moves only when pushed down
DRAWS = (1, 2, "up", "down")


def _signs(rng, shape):
    if isinstance(rng, str):
        return np.full(shape, 1.0 if rng == "up" else -1.0)
    return rng.choice((-1.0, 1.0), size=shape)


def _shares_memory(torch, v, earlier):
    """Whether `v` is a view or holds the storage of an earlier value (an in-place step's
    result, a detach): moving it alone would break the aliasing the recipe tests."""
    if v._base is not None or v.numel() == 0:
        return True
    ptr = v.untyped_storage().data_ptr()
    return any(isinstance(e, torch.Tensor) and e.numel() and e.untyped_storage().data_ptr() == ptr
               for e in earlier)


# steps whose backward is g - p · sum(g) over a softmax's classes: where p is near 1 the
# difference cancels, and a unit of rounding in p is a unit of g in the result
_SOFTMAX_LIKE = {"softmax", "log_softmax", "logsumexp", "logcumsumexp"}


def _softmax_like(step):
    return step[0] == "loss" or (step[0] in ("reduce", "reduce_dtype") and step[1] in _SOFTMAX_LIKE)


def _gradient_noise(torch, rng, out, x):
    """The gradient reaching x through a softmax-like step moved by one epsilon of the
    largest gradient reaching that step's result, up or down at random."""
    scale = [0.0]

    def seen(g):
        finite = g[torch.isfinite(g)]
        scale[0] = float(finite.abs().max()) if finite.numel() else 0.0

    def moved(g):
        if not scale[0]:
            return None
        signs = _signs(rng, tuple(g.shape))
        return g + torch.tensor(torch.finfo(g.dtype).eps * scale[0] * signs, dtype=g.dtype)
    out.register_hook(seen)
    x.register_hook(moved)


def rounding_noise(rng):
    """A replay hook: each fresh float result times 1 ± eps (never past the dtype's range:
    a finite value stays finite); through a softmax-like step's backward, its input's
    gradient moved by an epsilon of the gradient it receives."""
    import torch

    def noise(v, earlier, step):
        if not isinstance(v, torch.Tensor) or not v.dtype.is_floating_point or \
                _shares_memory(torch, v, earlier):
            return v
        eps = torch.finfo(v.dtype).eps
        signs = _signs(rng, tuple(v.shape))
        with torch.no_grad():
            moved = v * torch.tensor(1.0 + eps * signs, dtype=v.dtype)
            factor = torch.where(torch.isfinite(moved) | ~torch.isfinite(v),
                                 torch.tensor(1.0 + eps * signs, dtype=v.dtype),
                                 torch.ones((), dtype=v.dtype))
            if v.is_leaf:  # a leaf stays the leaf whose gradient is compared
                v.mul_(factor)
                return v
        v = v * factor
        x = earlier[step[2]] if _softmax_like(step) else None
        if v.requires_grad and isinstance(x, torch.Tensor) and x.requires_grad:
            _gradient_noise(torch, rng, v, x)
        return v
    return noise


class Conditioning:
    """The extra allowance, element by element, for each value and leaf gradient of a
    recipe; the perturbed replays run on the first request."""

    def __init__(self, recipe, run):
        self.recipe, self.run, self.draws = recipe, run, None

    def _draws(self):
        if self.draws is None:
            self.draws = [self.run(self.recipe, rounding_noise(
                seed if isinstance(seed, str) else np.random.default_rng(seed)))
                for seed in DRAWS]
        return self.draws

    def slack(self, key, want):
        """SLACK times the most a draw moved PyTorch's answer `want` (key: ("value", k) or
        (label, leaf)); 0 where a draw raised, lacks it, or is not finite."""
        want = np.asarray(want, dtype=np.float64)
        moved = np.zeros(want.shape)
        for draw in self._draws():
            got = None if draw is None else draw.get(key)
            if got is None or np.shape(got) != want.shape:
                continue
            got = np.asarray(got, dtype=np.float64)
            both = np.isfinite(got) & np.isfinite(want)
            with np.errstate(invalid="ignore", over="ignore"):
                moved = np.maximum(moved, np.where(both, np.abs(got - want), 0.0))
        return SLACK * moved

    def overflow_edge(self, key, got):
        """Where a draw of PyTorch's answer is inf as chainrule's `got` is (same sign), or
        finite where `got` is: a rounding carries PyTorch's own answer across the dtype's
        largest value there (a float16 running sum near 65,504)."""
        got = np.asarray(got, dtype=np.float64)
        reached = np.zeros(got.shape, dtype=bool)
        for draw in self._draws():
            moved = None if draw is None else draw.get(key)
            if moved is None or np.shape(moved) != got.shape:
                continue
            moved = np.asarray(moved, dtype=np.float64)
            reached |= np.where(np.isinf(got), moved == got, np.isfinite(moved))
        return reached
