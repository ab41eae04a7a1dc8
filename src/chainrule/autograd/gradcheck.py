"""Check analytic gradients against central differences in float64 — for users and tests."""
import numpy as np


def _differentiable(args):
    from ..tensors.tensor import Tensor
    return [t for t in args if isinstance(t, Tensor) and t.requires_grad]


def _float_outputs(fn, args):
    from ..tensors.tensor import Tensor
    out = fn(*args)
    return [o for o in (out if isinstance(out, (tuple, list)) else (out,))
            if isinstance(o, Tensor) and o._data.dtype.kind == "f"]


def _numeric_jacobian(fn, args, t, k, eps):
    """Column i: d(output k)/d(t_i) by central differences."""
    view = t._data.reshape(-1)
    cols = []
    for i in range(view.size):
        old = view[i]
        # evaluated with grad on: fn may itself call autograd.grad (gradgradcheck)
        view[i] = old + eps
        plus = _float_outputs(fn, args)[k]._data.astype(np.float64).reshape(-1)
        view[i] = old - eps
        minus = _float_outputs(fn, args)[k]._data.astype(np.float64).reshape(-1)
        view[i] = old
        cols.append((plus - minus) / (2 * eps))
    return np.stack(cols, axis=1) if cols else np.zeros((0, 0))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True when the gradient of `fn` (returning a tensor or a tuple of tensors) with respect
    to every float64 input that requires grad matches central differences."""
    from ..tensors.tensor import Tensor
    from . import grad as autograd_grad
    args = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = _differentiable(args)
    for t in diff:
        if t._data.dtype != np.float64:
            raise ValueError(f"gradcheck: inputs must be float64 for central differences, got "
                             f"{t.dtype}; call .double() first")
    outs = _float_outputs(fn, args)
    for k, out in enumerate(outs):
        for t in diff:
            numeric = _numeric_jacobian(fn, args, t, k, eps)
            analytic = np.zeros_like(numeric)
            for j in range(out._data.size):
                if not out.requires_grad:
                    break
                gout = np.zeros(out._data.size, dtype=out._data.dtype)
                gout[j] = 1.0
                (g,) = autograd_grad(out, [t], grad_outputs=Tensor._wrap(gout.reshape(out._data.shape)),
                                     retain_graph=True, allow_unused=True)
                if g is not None:
                    analytic[j] = g._data.reshape(-1)
            if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
                if raise_exception:
                    raise RuntimeError(
                        f"gradcheck: Jacobian mismatch for output {k} with respect to an input "
                        f"of shape {tuple(t.shape)}:\nnumerical:\n{numeric}\nanalytical:\n{analytic}")
                return False
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """gradcheck of the first gradient itself (built with create_graph=True)."""
    from . import grad as autograd_grad
    args = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = _differentiable(args)

    def first_grad(*a):
        out = fn(*a)
        return autograd_grad(out.sum(), diff, create_graph=True, allow_unused=True,
                             materialize_grads=True)
    return gradcheck(first_grad, args, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
