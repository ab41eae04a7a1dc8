"""An intended difference where `dtype=` names float16 (excused in fuzz_known.py):
chainrule casts the input to that dtype first, as PyTorch documents; PyTorch's CPU sum
does so too, but where the reduced dims do not merge into one run of memory (dims 0 and
2 of a 3-d tensor) it converts the input straight to float32, sums and rounds once. Then
int64 ±9.2e18, or float32 ±70,000, overflow float16 in chainrule's cast (inf - inf: NaN)
and not in PyTorch's. Pinned by tests/regressions/test_sum_to_float16_casts_the_input_first.py."""
import numpy as np


def _near(a, b):
    """Equal, NaN for NaN, or within one float16 unit of b."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(invalid="ignore"):
        return (a == b) | (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= np.spacing(np.abs(b)))


def float16_sum_cast_first(step, tvals, got, want, tol):
    """Elements where chainrule has the sum of the input cast to float16 and PyTorch that
    of the input converted to float32, the two differing."""
    import torch
    _, name, i, dim, keepdim, dtype = step
    if dtype != "float16" or want.dtype != np.float16:
        return None
    x = tvals[i].detach()
    total = torch.nansum if name == "nansum" else torch.sum
    kw = {} if dim is None and not keepdim else {"dim": dim, "keepdim": keepdim}
    cast_first = total(x.to(torch.float16).double(), **kw).to(torch.float16).numpy()
    wide_first = total(x.to(torch.float32).double(), **kw).to(torch.float16).numpy()
    return _near(got, cast_first) & _near(want, wide_first) & ~_near(cast_first, wide_first)
