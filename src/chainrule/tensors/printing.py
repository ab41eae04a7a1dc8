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


def _float_format(values):
    """PyTorch's rule: integers print as `1.`, else 4 decimals, scientific when the range
    of magnitudes is wide."""
    p = _options["precision"]
    finite = values[np.isfinite(values)].astype(np.float64)
    absf = np.abs(finite)
    nz = absf[absf > 0]
    int_mode = bool(np.all(finite == np.round(finite)))
    hi = float(nz.max()) if nz.size else 0.0
    lo = float(nz.min()) if nz.size else 0.0
    sci = _options["sci_mode"]
    if sci is None:
        sci = hi > 1e8 if int_mode else nz.size > 0 and (hi / lo > 1000.0 or hi > 1e8 or lo < 1e-4)
    if sci:
        return lambda v: f"{v:.{p}e}"
    if int_mode:
        return lambda v: f"{v:.0f}." if np.isfinite(v) else f"{v}"
    return lambda v: f"{v:.{p}f}" if np.isfinite(v) else f"{v}"


def _summarised(arr, summarize):
    e = _options["edgeitems"]
    if summarize and arr.shape[0] > 2 * e:
        return list(range(e)) + [None] + list(range(arr.shape[0] - e, arr.shape[0]))
    return list(range(arr.shape[0]))


def _render(arr, fmt, width, indent, summarize):
    if arr.ndim == 0:
        return fmt(arr.item()).rjust(width)
    rows = _summarised(arr, summarize)
    if arr.ndim == 1:
        # PyTorch's row gap is " ...", so `1.1391,  ..., -0.0689` has two spaces before it
        items = [" ..." if i is None else fmt(arr[i].item()).rjust(width) for i in rows]
        per_line = max(1, (_options["linewidth"] - indent) // (width + 2))
        lines = [", ".join(items[k:k + per_line]) for k in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    parts = ["..." if i is None else _render(arr[i], fmt, width, indent + 1, summarize)
             for i in rows]
    sep = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(parts) + "]"


def format_array(arr, indent=7):
    if arr.size == 0:
        return "[]"
    summarize = arr.size > _options["threshold"]
    shown = arr
    if summarize:
        e = _options["edgeitems"]
        for axis in range(arr.ndim):
            if arr.shape[axis] > 2 * e:
                idx = np.r_[0:e, arr.shape[axis] - e:arr.shape[axis]]
                shown = np.take(shown, idx, axis=axis)
    if arr.dtype.kind == "f":
        fmt = _float_format(shown.reshape(-1))
    elif arr.dtype.kind == "b":
        fmt = lambda v: str(bool(v))
    else:
        fmt = str
    flat = shown.reshape(-1)
    if arr.dtype.kind == "f":  # PyTorch sizes columns by the finite nonzero values only:
        flat = flat[np.isfinite(flat) & (flat != 0)]  # tensor([0., inf]) is not padded
    width = max((len(fmt(v)) for v in flat.tolist()), default=1)
    return _render(arr, fmt, width, indent, summarize)


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
    return _with_suffixes("tensor(" + body, extras)


def _with_suffixes(text, suffixes, indent=7):
    """`, dtype=...`, `, grad_fn=<...>` after the values; one that would run past the line
    width starts a new line indented under the values, as PyTorch lays them out."""
    parts = [text]
    line_len = len(text) - text.rfind("\n") + 1  # PyTorch's count, kept so lines break alike
    for s in suffixes:
        if line_len + len(s) + 2 > _options["linewidth"]:
            parts.append(",\n" + " " * indent + s)
            line_len = indent + len(s)
        else:
            parts.append(", " + s)
            line_len += len(s) + 2
    return "".join(parts) + ")"
