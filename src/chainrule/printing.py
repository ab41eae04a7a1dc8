"""PyTorch's tensor printing: `tensor([ 0,  1,  2])`, `tensor([[1., 2.]])`,
`tensor(14., grad_fn=<DotBackward0>)`."""
import numpy as np

_options = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
            "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     sci_mode=None):
    for k, v in dict(precision=precision, threshold=threshold, edgeitems=edgeitems,
                     linewidth=linewidth).items():
        if v is not None:
            _options[k] = v
    _options["sci_mode"] = sci_mode


def _float_formatter(arr):
    p = _options["precision"]
    finite = arr[np.isfinite(arr)].astype(np.float64)
    if finite.size == 0:
        return lambda v: f"{v:.0f}".replace("nan", "nan")
    absf = np.abs(finite)
    nz = absf[absf > 0]
    int_mode = bool(np.all(finite == np.round(finite)))
    hi = float(nz.max()) if nz.size else 0.0
    lo = float(nz.min()) if nz.size else 0.0
    sci = _options["sci_mode"]
    if sci is None:
        if int_mode:
            sci = hi > 1e8
        else:
            sci = nz.size > 0 and (hi / lo > 1000.0 or hi > 1e8 or lo < 1e-4)
    if sci:
        fmt = lambda v: f"{v:.{p}e}"
    elif int_mode:
        fmt = lambda v: f"{v:.0f}." if np.isfinite(v) else f"{v}"
    else:
        fmt = lambda v: f"{v:.{p}f}"
    width = max(len(fmt(v)) for v in np.concatenate([finite[:1000], arr[~np.isfinite(arr)][:3]]))
    return lambda v: fmt(v).rjust(width)


def format_array(arr, prefix="tensor("):
    if arr.dtype.kind == "f":
        formatter = {"float_kind": _float_formatter(arr) if arr.size else str}
    elif arr.dtype.kind == "b":
        formatter = {"bool": lambda v: str(bool(v)).rjust(5 if arr.size > 1 and not arr.all() else 4)}
    else:
        formatter = None
    if arr.size == 0:
        return "[]"
    return np.array2string(arr, separator=", ", prefix=prefix, formatter=formatter,
                           max_line_width=_options["linewidth"],
                           threshold=_options["threshold"], edgeitems=_options["edgeitems"])


def tensor_repr(t):
    arr = t._data
    body = format_array(arr)
    extras = []
    if arr.size == 0 and arr.ndim != 1:
        extras.append(f"size={tuple(arr.shape)}")
    name = arr.dtype.name
    if name not in ("float32", "int64", "bool") or (arr.size == 0 and name != "float32"):
        extras.append(f"dtype=chainrule.{name}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.op.name}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
