"""The main job's training step under JAX's jit, for benchmarks/compiled.py's optional JAX
row: the same model (64-256-128-10, ReLU), cross-entropy, Adam (lr 1e-3, PyTorch's
defaults), batch 32, one epoch of the digits; JAX on one thread. JAX is not a dependency
of chainrule: without it the row is skipped with a message.

The batches are sliced once before timing (a slice of a JAX array is a dispatch of its
own), and each epoch waits for its last step's result."""
import importlib.util
import os

import numpy as np

_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def available():
    return importlib.util.find_spec("jax") is not None and importlib.util.find_spec(
        "jaxlib") is not None


def _jax():
    """jax, pinned to one CPU thread (the flags count only when set before jax starts)."""
    if _ONE_THREAD not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_ONE_THREAD}".strip()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    return jax


def _init(sizes, seed=0):
    """PyTorch's Linear initialisation: uniform in ±1/sqrt(fan_in) (weights stored (in,
    out), so a layer is x @ w + b)."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        params.append((rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                       rng.uniform(-bound, bound, fan_out).astype(np.float32)))
    return params


def epoch_fn(X, y, batch=32, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    """A function running one epoch of jitted steps (compiled for both batch shapes
    before it is returned)."""
    jax = _jax()
    jnp = jax.numpy
    b1, b2 = betas

    def loss_fn(params, xb, yb):
        h = xb
        for w, b in params[:-1]:
            h = jax.nn.relu(h @ w + b)
        w, b = params[-1]
        logp = jax.nn.log_softmax(h @ w + b)
        return -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1))

    def step(state, xb, yb):
        params, m, v, t = state
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
        t = t + 1
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        size = lr / (1 - b1 ** t)
        root = jnp.sqrt(1 - b2 ** t)
        params = jax.tree_util.tree_map(
            lambda p, m, v: p - size * m / (jnp.sqrt(v) / root + eps), params, m, v)
        return (params, m, v, t), loss

    jstep = jax.jit(step, donate_argnums=0)
    params = jax.tree_util.tree_map(jnp.asarray, _init((X.shape[1], 256, 128, 10)))
    def zeros():
        return jax.tree_util.tree_map(jnp.zeros_like, params)
    state = [(params, zeros(), zeros(), jnp.zeros((), jnp.float32))]
    batches = [(jnp.asarray(X[i:i + batch]), jnp.asarray(y[i:i + batch].astype(np.int32)))
               for i in range(0, len(X), batch)]

    def epoch():
        s = state[0]
        for xb, yb in batches:
            s, loss = jstep(s, xb, yb)
        loss.block_until_ready()
        state[0] = s
    epoch()  # compiles the step for each batch shape
    return epoch
