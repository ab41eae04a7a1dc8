"""Reverse-mode automatic differentiation: backward, grad, gradcheck, grad modes."""
import numpy as np

from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from . import function, tensor_hooks
from .function import tensor_class
from .engine import run_backward
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                        set_grad_enabled)
from .gradcheck import gradcheck, gradgradcheck
from .custom_function import Function, FunctionCtx, once_differentiable


def _as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _root_grads(outputs, grad_outputs, create_graph):
    Tensor = tensor_class()
    grads = []
    for i, t in enumerate(outputs):
        g = grad_outputs[i] if i < len(grad_outputs) else None
        if not isinstance(t, Tensor):
            raise TypeError(f"backward: expected tensors, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError("element %d of tensors does not require grad and does not have a "
                               "grad_fn" % i)
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; this output has "
                    f"shape {tuple(t.shape)}. Pass `gradient=` (e.g. torch.ones_like(y)) or "
                    "reduce it first (y.sum()).")
            g = np.ones(t._data.shape, dtype=t._data.dtype)
        else:
            if not isinstance(g, Tensor):
                g = Tensor._wrap(np.asarray(g, dtype=t._data.dtype))
            if g._data.shape != t._data.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{tuple(g.shape)} and output[{i}] has a shape of "
                                   f"{tuple(t.shape)}.")
            g = g if create_graph and g.requires_grad else g._data
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into each leaf's `.grad`."""
    tensors = _as_list(tensors)
    grads = _root_grads(tensors, _as_list(grad_tensors), create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _as_list(inputs)
        results = run_backward(tensors, grads, retain_graph, create_graph, capture=inputs)
        from .engine import _set_grad
        Tensor = tensor_class()
        for t, g in zip(inputs, results):
            if g is not None:
                _set_grad(t, g, Tensor, create_graph)
                if tensor_hooks._on[0] and t.grad_fn is None:
                    tensor_hooks.run_post(t)
        return
    run_backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False, materialize_grads=False):
    """The gradients of `outputs` with respect to `inputs`, returned (not accumulated)."""
    Tensor = tensor_class()
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _root_grads(outputs, _as_list(grad_outputs), create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    results = run_backward(outputs, grads, retain_graph, create_graph, capture=inputs)
    out = []
    for t, g in zip(inputs, results):
        if g is None:
            if materialize_grads:
                g = np.zeros_like(t._data)
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            else:
                out.append(None)
                continue
        if type(g) is not Tensor:
            g = Tensor._wrap(np.copy(g))  # np.copy: a compile recording sees it
        out.append(g)
    return tuple(out)


from . import functional  # noqa: E402  (jacobian, hessian, vjp, jvp, hvp, vhp; uses grad)
