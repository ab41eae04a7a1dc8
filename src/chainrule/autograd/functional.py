"""Derivatives of whole functions: jacobian, hessian, vjp, jvp, vhp, hvp, with PyTorch's
signatures and return structures (a tensor for a tensor argument, tuples for tuples).

Everything is built on reverse mode: a Jacobian row per output element, forward-mode
products (jvp, hvp) by the double-backward trick (differentiate a vjp with respect to
its cotangent, which it is linear in). Results are detached unless create_graph=True.
"""
from . import grad_mode

_OUTPUTS = "outputs of the user-provided function"


def _tensor_type():
    from ..tensors.tensor import Tensor
    return Tensor


def _as_tuple(x, what, fn_name):
    Tensor = _tensor_type()
    is_tuple = isinstance(x, tuple)
    items = x if is_tuple else (x,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"the value at index {i} has" if is_tuple else f"the given {what} has"
            raise TypeError(f"The {what} given to {fn_name} must be either a Tensor or a tuple "
                            f"of Tensors but {where} type {type(el)}.")
    return is_tuple, items


def _unpack(res, is_tuple):
    return res if is_tuple else res[0]


def _unpack2(res, out_tuple, in_tuple):
    if not in_tuple:
        res = tuple(r[0] for r in res)
    return res if out_tuple else res[0]


def _prepare(inputs, create_graph, need_graph=True):
    """Fresh leaves to differentiate against (or the inputs themselves, keeping their
    graph, when create_graph asks for higher derivatives)."""
    if create_graph:
        return tuple(t if t.requires_grad else t.detach().requires_grad_(need_graph)
                     for t in inputs)
    return tuple(t.detach().requires_grad_(need_graph) for t in inputs)


def _finish(values, create_graph):
    return tuple(v if create_graph or v is None else v.detach() for v in values)


def _validate_v(v, ref, is_ref_tuple):
    if len(ref) != len(v):
        if is_ref_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(ref)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for a, b in zip(ref, v):
        if a.shape != b.shape:
            raise RuntimeError(f"v has invalid size: should be {a.shape} but got {b.shape}.")


def _check_requires_grad(values, kind, strict):
    if not strict:
        return
    for i, t in enumerate(values):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if t.requires_grad:
            continue
        if kind == "hessian":
            raise RuntimeError(
                f"The hessian of the user-provided function with respect to input {i} is "
                "independent of the input. This is not allowed in strict mode. You should "
                "ensure that your function is thrice differentiable and that the hessian "
                "depends on the inputs.")
        if kind == "jacobian":
            raise RuntimeError(
                "While computing the hessian, found that the jacobian of the user-provided "
                f"function with respect to input {i} is independent of the input. This is not "
                "allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).")
        if kind == "grad_inputs":
            raise RuntimeError(f"The gradient with respect to input {i} is independent of the "
                               "inputs of the user-provided function. This is not allowed in "
                               "strict mode.")
        raise RuntimeError(f"Output {i} of the user-provided function does not require "
                           "gradients. The outputs must be computed in a differentiable manner "
                           "from the input when running in strict mode.")


def _grads(outputs, inputs, grad_outputs=None, create_graph=False):
    """autograd.grad over the outputs that require grad; None where a result is unused."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs)
             if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    from . import grad
    return grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs],
                 retain_graph=True, create_graph=create_graph, allow_unused=True)


_MISSING = {
    "back": "The output of the user-provided function is independent of input {i}. This is "
            "not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
                         "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward "
                         "mode AD.",
}


def _fill_zeros(grads, refs, strict, create_graph, stage):
    """Zeros where a gradient is missing (an independent input), or strict's error."""
    from ..tensors.creation import zeros_like
    out = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_MISSING[stage].format(i=i))
            g = zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        out.append(g)
    return tuple(out)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), vᵀ·J): the vector-Jacobian product at `inputs`."""
    with grad_mode.enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph)
        out_tuple, outputs = _as_tuple(func(*inputs), _OUTPUTS, "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        if v is not None:
            _, v = _as_tuple(v, "v", "vjp")
            v = _prepare(v, create_graph, need_graph=False)
            _validate_v(v, outputs, out_tuple)
        elif len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        result = _fill_zeros(_grads(outputs, inputs, v, create_graph), inputs, strict,
                             create_graph, "back")
    return (_unpack(_finish(outputs, create_graph), out_tuple),
            _unpack(_finish(result, create_graph), in_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), J·v): the Jacobian-vector product, by the double-backward trick."""
    from ..tensors.creation import zeros_like
    with grad_mode.enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph)
        if v is not None:
            _, v = _as_tuple(v, "v", "jvp")
            v = _prepare(v, create_graph, need_graph=False)
            _validate_v(v, inputs, in_tuple)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the "
                               "user-provided function is a single Tensor with a single "
                               "element.")
        out_tuple, outputs = _as_tuple(func(*inputs), _OUTPUTS, "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        # vjp(u) is linear in the cotangent u; its derivative along v with respect to u is J·v
        cotangents = tuple(zeros_like(o, requires_grad=True) for o in outputs)
        back = _grads(outputs, inputs, cotangents, create_graph=True)
        _check_requires_grad(back, "grad_inputs", strict)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        result = _fill_zeros(_grads(back, cotangents, v, create_graph), outputs, strict,
                             create_graph, "back_trick")
    return (_unpack(_finish(outputs, create_graph), out_tuple),
            _unpack(_finish(result, create_graph), out_tuple))


def _jacobian_rows(out, inputs, i, create_graph, strict):
    """d out / d inputs[j] for each j, shaped out.shape + inputs[j].shape."""
    from ..tensors.creation import zeros, zeros_like
    from ..ops.shape import stack
    rows = [[] for _ in inputs]
    flat = out.reshape(-1)
    for k in range(out.numel()):
        for j, (g, ref) in enumerate(zip(_grads((flat[k],), inputs, create_graph=create_graph),
                                         inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is "
                                       f"independent of input {j}. This is not allowed in "
                                       "strict mode.")
                g = zeros_like(ref)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is "
                                   f"independent of input {i}. This is not allowed in strict "
                                   "mode when create_graph=True.")
            rows[j].append(g)
    shapes = [tuple(out.shape) + tuple(ref.shape) for ref in inputs]
    return tuple(stack(r).reshape(s) if r else zeros(s, dtype=ref.dtype)
                 for r, s, ref in zip(rows, shapes, inputs))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of `func` at `inputs`: a tensor of shape out.shape + in.shape for one
    input and one output, tuples over inputs and/or outputs otherwise. `vectorize`
    changes nothing here (rows are computed one by one either way)."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                         f'got {strategy!r}')
    if strategy == "forward-mode":
        raise NotImplementedError("jacobian(strategy='forward-mode') is not supported in "
                                  "chainrule; use strategy='reverse-mode'")
    with grad_mode.enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph)
        out_tuple, outputs = _as_tuple(func(*inputs), _OUTPUTS, "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        result = tuple(_finish(_jacobian_rows(out, inputs, i, create_graph, strict),
                               create_graph) for i, out in enumerate(outputs))
    return _unpack2(result, out_tuple, in_tuple)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar(*args):
        out = _single_output(func(*args), "hessian", strict)
        return out.reshape(())

    def gradient(*args):
        jac = jacobian(scalar, args, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack2(result, in_tuple, in_tuple)


def _single_output(out, fn_name, strict):
    Tensor = _tensor_type()
    is_tuple, outs = _as_tuple(out, _OUTPUTS, fn_name)
    _check_requires_grad(outs, "outputs", strict)
    if is_tuple or not isinstance(out, Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if out.numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")
    return out


def _second_order_setup(func, inputs, v, create_graph, strict, fn_name):
    in_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _prepare(inputs, create_graph)
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _prepare(v, create_graph, need_graph=False)
        _validate_v(v, inputs, in_tuple)
    elif len(inputs) != 1 or inputs[0].numel() != 1:
        raise RuntimeError("The vector v can only be None if the input to the user-provided "
                           "function is a single Tensor with a single element.")
    else:
        from ..tensors.creation import ones_like
        v = (ones_like(inputs[0]),)
    out = _single_output(func(*inputs), fn_name, strict)
    jac = _grads((out,), inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return in_tuple, inputs, v, out, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), vᵀ·H) for a scalar function."""
    with grad_mode.enable_grad():
        in_tuple, inputs, v, out, jac = _second_order_setup(func, inputs, v, create_graph,
                                                            strict, "vhp")
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        result = _fill_zeros(_grads(jac, inputs, v, create_graph), inputs, strict,
                             create_graph, "double_back")
    return _finish((out,), create_graph)[0], _unpack(_finish(result, create_graph), in_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), H·v) for a scalar function, by the double-backward trick."""
    from ..tensors.creation import zeros_like
    with grad_mode.enable_grad():
        in_tuple, inputs, v, out, jac = _second_order_setup(func, inputs, v, create_graph,
                                                            strict, "hvp")
        grad_jac = tuple(zeros_like(t, requires_grad=True) for t in inputs)
        double_back = _grads(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        result = _fill_zeros(_grads(double_back, grad_jac, v, create_graph), inputs, strict,
                             create_graph, "double_back_trick")
    return _finish((out,), create_graph)[0], _unpack(_finish(result, create_graph), in_tuple)
