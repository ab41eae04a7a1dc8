"""A float converted into uint8 goes through int64 in PyTorch, so it wraps around modulo
256 (2 ** 31 + 95 is 95, -1.5 is 255; NaN and inf are 0): by .to(), copy_, x[:] = t,
tensor(..., dtype=uint8) and a reduction's dtype=uint8 alike. NumPy's direct cast of a
float64 past int32's range gives 0."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

VALUES = [2147483743.0, -2147483547.0, 4294967297.0, 300.7, -1.5, np.nan, -np.inf, 1e19, 255.9]


def _ways(M, src):
    x = M.tensor(np.array(VALUES, dtype=src))
    copied = M.zeros(len(VALUES), dtype=M.uint8)
    copied.copy_(x)
    assigned = M.zeros(len(VALUES), dtype=M.uint8)
    assigned[:] = x
    return {"to": x.to(M.uint8), "copy_": copied, "setitem": assigned,
            "tensor": M.tensor(np.array(VALUES, dtype=src), dtype=M.uint8),
            "nansum": M.nansum(x.reshape(3, 3), 1, dtype=M.uint8)}


@pytest.mark.parametrize("src", ["float64", "float32", "float16"])
def test_float_into_uint8_wraps_through_int64_like_torch(src):
    with np.errstate(all="ignore"):
        got, want = _ways(cr, src), _ways(torch, src)
    for way in got:
        assert got[way].dtype == cr.uint8
        np.testing.assert_array_equal(got[way].numpy(), want[way].numpy(), err_msg=way)


def test_float64_past_int32_into_uint8_keeps_its_low_byte():
    x = cr.tensor([2.0 ** 31 + 95, 2.0 ** 32 + 1, -1.5], dtype=cr.float64)
    assert x.to(cr.uint8).tolist() == [95, 1, 255]
    assert x.to(cr.int64).tolist() == [2 ** 31 + 95, 2 ** 32 + 1, -1]


@pytest.mark.parametrize("src", ["float16", "float32", "float64"])
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64", "bool"])
def test_nansum_to_an_integer_dtype_takes_nan_to_num_first(src, dtype):
    # NaN is 0 and ±inf the input dtype's extremes: float16 inf is 65,504, 224 in uint8
    for values in ([np.inf, 0.0], [-np.inf], [np.nan, 3.0], [300.7, 2.0], [np.inf, -np.inf, 1.0]):
        x = np.array(values, dtype=src)
        got = cr.nansum(cr.tensor(x), dtype=getattr(cr, dtype)).item()
        assert got == torch.nansum(torch.tensor(x), dtype=getattr(torch, dtype)).item(), values
