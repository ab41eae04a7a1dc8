"""One global random generator (NumPy's PCG64), seeded by manual_seed, so the same seed
gives the same numbers. `Generator` objects can be passed where PyTorch takes one."""
import numpy as np

from .runtime import recording_hooks
from .tensors import dtypes
from .tensors.creation import _finish, _np_dtype, _shape, like_input
from .tensors.devices import CPU, place
from .tensors.tensor import Tensor


class Generator:
    def __init__(self, device="cpu"):
        self._rng = np.random.default_rng(0)
        self._seed = 0

    @recording_hooks.replayed(idempotent=True)  # inside a compiled function: every replay seeds
    def manual_seed(self, seed):
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise TypeError(f"manual_seed: the seed must be an integer, got "
                            f"{type(seed).__name__} {seed!r}") from None
        if -2 ** 63 <= seed < 0:  # PyTorch reads negative seeds as unsigned 64-bit
            seed += 2 ** 64
        if not 0 <= seed < 2 ** 64:
            raise RuntimeError(f"manual_seed: the seed must be in [-2**63, 2**64), got {seed}")
        self._seed = seed
        self._rng = np.random.default_rng(self._seed)
        return self

    @recording_hooks.replayed(idempotent=True)
    def seed(self):
        return self.manual_seed(np.random.SeedSequence().entropy % (2 ** 63))._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self._rng.bit_generator.state

    @recording_hooks.replayed(idempotent=True)
    def set_state(self, state):
        self._rng.bit_generator.state = state


default_generator = Generator().manual_seed(np.random.SeedSequence().entropy % (2 ** 63))


def manual_seed(seed):
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _rng(generator):
    gen = generator or default_generator
    recorder = recording_hooks.ACTIVE[0]  # a compile recording replays each draw as a draw
    return gen._rng if recorder is None or recorder.suspended else recorder.draws(gen)


def rand(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    shape = _shape(sizes if size is None else (size,), "rand")
    arr = _rng(generator).random(shape, dtype=np.float64).astype(_np_dtype(dtype))
    return _finish(arr, requires_grad, device, "rand")


def randn(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    dt = _np_dtype(dtype)
    arr = _rng(generator).standard_normal(_shape(sizes if size is None else (size,), "randn"),
                                          dtype=dt if dt in (np.float32, np.float64) else np.float64)
    return _finish(arr.astype(dt, copy=False), requires_grad, device, "randn")


def randint(low, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    if size is None and isinstance(high, (tuple, list)):
        high, size = None, high  # randint(high, size), PyTorch's short form
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing the required argument 'size' (a tuple)")
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    arr = _rng(generator).integers(low, high, size=_shape((size,), "randint"))
    return _finish(arr.astype(_np_dtype(dtype, dtypes.int64)), requires_grad, device, "randint")


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None):
    """rand(input.shape) with input's dtype: the same numbers as rand after the same seed."""
    dtype = _float_like(input, dtype, "rand_like", device)
    return rand(input.shape, generator=generator, dtype=dtype, device=CPU,
                requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, memory_format=None):
    dtype = _float_like(input, dtype, "randn_like", device)
    return randn(input.shape, generator=generator, dtype=dtype, device=CPU,
                 requires_grad=requires_grad)


def _float_like(x, dtype, opname, device):
    dtype = like_input(x, dtype, opname, device)
    if dtypes.to_numpy_dtype(dtype).kind != "f":
        raise NotImplementedError(f"{opname}: random floats cannot be drawn for dtype "
                                  f"{dtype}; pass a floating-point dtype= (e.g. float32)")
    return dtype


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad=False, memory_format=None):
    """Integers in [low, high) shaped like input, in input's dtype (floats included);
    randint_like(x, high) starts at 0."""
    dtype = like_input(input, dtype, "randint_like", device)
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"randint_like: expected low < high, got low={low}, high={high}")
    bottom, top = _bounds(dtypes.to_numpy_dtype(dtype))
    if low < bottom or high - 1 > top:
        raise RuntimeError(f"randint_like: [{low}, {high}) is out of bounds for {dtype}")
    return randint(low, high, input.shape, generator=generator, dtype=dtype, device=CPU,
                   requires_grad=requires_grad)


def _bounds(np_dtype):
    if np_dtype.kind == "b":
        return 0, 1
    if np_dtype.kind == "f":
        return float(np.finfo(np_dtype).min), float(np.finfo(np_dtype).max)
    return int(np.iinfo(np_dtype).min), int(np.iinfo(np_dtype).max)


def randperm(n, generator=None, dtype=None, device=None):
    place(device, "randperm")
    return Tensor._wrap(_rng(generator).permutation(n).astype(_np_dtype(dtype, dtypes.int64)))


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, device=None,
           requires_grad=False):
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if size is None:
        size = np.broadcast_shapes(np.shape(m), np.shape(s))
    if np.any(np.asarray(s) < 0):
        raise RuntimeError(f"normal: std must be non-negative, got {std}")
    arr = _rng(generator).normal(m, s, size=_shape((size,), "normal"))
    dt = _np_dtype(dtype) if dtype is not None or not isinstance(mean, Tensor) else mean._data.dtype
    return _finish(arr.astype(dt), requires_grad, device, "normal")


def bernoulli(p, generator=None):
    probs = p._data
    return Tensor._wrap((_rng(generator).random(probs.shape) < probs).astype(probs.dtype))


def multinomial(probs, num_samples, replacement=False, generator=None):
    w = probs._data
    if w.ndim not in (1, 2) or w.shape[-1] == 0:
        raise RuntimeError(f"multinomial: expected a 1-D or 2-D tensor of weights with at "
                           f"least one category, got shape {tuple(w.shape)}")
    if not (np.isfinite(w).all() and (w >= 0).all()):
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or an "
                           "element < 0 (weights must be finite and non-negative)")
    if (w.sum(-1) <= 0).any():
        raise RuntimeError("multinomial: each row of weights must have a positive sum, got a "
                           "row of zeros")
    if not replacement and num_samples > w.shape[-1]:
        raise RuntimeError(f"multinomial: cannot draw {num_samples} samples without "
                           f"replacement from {w.shape[-1]} categories (use replacement=True)")
    p = w / w.sum(-1, keepdims=True)
    rng = _rng(generator)
    rows = np.atleast_2d(p)
    out = np.stack([rng.choice(len(r), num_samples, replace=replacement, p=r) for r in rows])
    return Tensor._wrap(out if p.ndim > 1 else out[0])
