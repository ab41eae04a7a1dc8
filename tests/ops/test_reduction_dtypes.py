"""Reductions and scans decide their result dtype and their accumulator in one place
(ops/accumulate.py): `dtype=`, integer and bool inputs, and float16's wider running
values, each compared with PyTorch."""
import numpy as np
import pytest

import chainrule as cr
from helpers import assert_close, requires_torch, torch

pytestmark = requires_torch

# op name -> call; the scans and softmaxes take a dim
CALLS = {
    "sum": lambda m, x, **kw: m.sum(x, **kw),
    "nansum": lambda m, x, **kw: m.nansum(x, **kw),
    "prod": lambda m, x, **kw: m.prod(x, **kw),
    "cumsum": lambda m, x, **kw: m.cumsum(x, 0, **kw),
    "cumprod": lambda m, x, **kw: m.cumprod(x, 0, **kw),
    "mean": lambda m, x, **kw: m.mean(x, **kw),
    "nanmean": lambda m, x, **kw: m.nanmean(x, **kw),
    "softmax": lambda m, x, **kw: m.softmax(x, 0, **kw),
    "log_softmax": lambda m, x, **kw: m.log_softmax(x, 0, **kw),
    "norm": lambda m, x, **kw: m.linalg.vector_norm(x, **kw) if kw else x.norm(),
    "logsumexp": lambda m, x, **kw: m.logsumexp(x, 0, **kw),
    "logcumsumexp": lambda m, x, **kw: m.logcumsumexp(x, 0, **kw),
    "var": lambda m, x, **kw: m.var(x, **kw),
}
INPUTS = {"int32": [3, -2, 5], "uint8": [3, 2, 5], "bool": [True, False, True],
          "float32": [1.7, -2.5, 3.25], "float16": [1.7, -2.5, 3.25]}


def _outcome(m, name, data, in_dtype, dtype):
    x = m.tensor(np.array(data, dtype=in_dtype))
    kw = {} if dtype is None else {"dtype": getattr(m, dtype)}
    try:
        out = CALLS[name](m, x, **kw)
    except Exception as err:  # noqa: BLE001 - the error's type is compared
        return type(err).__name__
    return str(out.dtype).split(".")[-1], out.numpy().astype(np.float64)


@pytest.mark.parametrize("dtype", [None, "float64", "float16", "int16", "int64", "bool"])
@pytest.mark.parametrize("in_dtype", sorted(INPUTS))
@pytest.mark.parametrize("name", sorted(CALLS))
def test_dtype_argument_and_integer_inputs_give_torchs_result_dtype(name, in_dtype, dtype):
    got = _outcome(cr, name, INPUTS[in_dtype], in_dtype, dtype)
    want = _outcome(torch, name, INPUTS[in_dtype], in_dtype, dtype)
    if isinstance(want, str) or isinstance(got, str):
        assert got == want
        return
    assert got[0] == want[0]
    assert_close(got[1], want[1], rtol=2e-3, atol=1e-3)


def test_dtype_argument_casts_the_input_before_reducing():
    # 1.7 + 1.7 with dtype=int64 is 1 + 1, as PyTorch's
    for m in (cr, torch):
        x = m.tensor([1.7, 1.7])
        assert m.sum(x, dtype=m.int64).item() == 2
        assert m.cumprod(x, 0, dtype=m.int64).tolist() == [1, 1]


def test_dtype_argument_of_a_scan_keeps_the_gradient_in_the_input_dtype():
    grads = []
    for m in (cr, torch):
        x = m.tensor([1.5, -2.0, 0.5], requires_grad=True)
        (m.cumprod(x, 0, dtype=m.float64) * m.tensor([1.0, 2.0, 3.0], dtype=m.float64)).sum().backward()
        assert x.grad.dtype == m.float32
        grads.append(x.grad.numpy())
    assert_close(grads[0], grads[1], rtol=1e-6, atol=1e-7)


def test_integer_dtype_argument_on_a_tensor_requiring_grad_is_refused_as_in_torch():
    for m in (cr, torch):
        x = m.tensor([1.5, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="Autograd not support dtype: Long"):
            m.cumsum(x, 0, dtype=m.int64)
        with m.no_grad():
            assert m.prod(x, dtype=m.int64).item() == 2


# float16 inputs whose running value leaves float16's range or precision on the way
HALF_CASES = {
    "cumprod": ([300.0, 300.0, 0.001], lambda m, x: m.cumprod(x, 0)),
    "prod": ([300.0, 300.0, 0.001], lambda m, x: m.prod(x)),
    "cumsum": ([60000.0, 60000.0, -60000.0], lambda m, x: m.cumsum(x, 0)),
    "sum": ([60000.0, 60000.0, -60000.0], lambda m, x: m.sum(x)),
    "nansum": ([60000.0, float("nan"), 60000.0, -60000.0], lambda m, x: m.nansum(x)),
    "mean": ([60000.0, 60000.0, -60000.0], lambda m, x: m.mean(x)),
    "nanmean": ([60000.0, float("nan"), 60000.0, -60000.0], lambda m, x: m.nanmean(x)),
    "var": ([60000.0, -60000.0, 1.0], lambda m, x: m.var(x)),
    "std": ([60000.0, -60000.0, 1.0], lambda m, x: m.std(x)),
    "norm": ([300.0, 300.0, 1.0], lambda m, x: m.linalg.vector_norm(x)),
    "norm3": ([60.0, 60.0, 1.0], lambda m, x: x.norm(p=3)),
    "logsumexp": ([11.0] * 5000, lambda m, x: m.logsumexp(x, 0)),
    "logcumsumexp": ([11.0, 11.0, 11.0, 11.0, 11.2], lambda m, x: m.logcumsumexp(x, 0)),
}


@pytest.mark.parametrize("name", sorted(HALF_CASES))
def test_float16_reductions_and_scans_accumulate_like_torch(name):
    data, fn = HALF_CASES[name]
    out = []
    for m in (cr, torch):
        x = m.tensor(np.array(data, dtype=np.float16), requires_grad=True)
        y = fn(m, x)
        y.sum().backward()
        out.append((y.detach().numpy(), x.grad.numpy()))
    for got, want in zip(out[0], out[1]):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))
        assert_close(got.astype(np.float64), want.astype(np.float64), rtol=2e-3, atol=1e-3)


def test_float16_cumprod_keeps_its_running_product_in_float32():
    x = cr.tensor(np.array([300.0, 300.0, 0.001], dtype=np.float16))
    assert cr.cumprod(x, 0)[2].item() == pytest.approx(90.0625)


def test_mean_with_dtype_float16_sums_in_float32_as_torch():
    for data, in_dtype in (([2147483647, -2147483648, 100], np.int32), ([70000.0, -69999.0], np.float32)):
        got = cr.mean(cr.tensor(np.array(data, dtype=in_dtype)), dtype=cr.float16)
        want = torch.mean(torch.tensor(np.array(data, dtype=in_dtype)), dtype=torch.float16)
        assert got.item() == want.item()


@pytest.mark.parametrize("data,dtype", [
    ([-1.5e-323, 0.0, float("nan"), -float("inf")], None),       # after the first zero: 0
    ([[-30.0, 30.0, -0.0], [float("inf"), -1.5e-323, 1e30]], "float32"),  # rule sees x
    ([float("inf")], None)], ids=["after_zero", "dtype_cast", "one_element"])
def test_cumprod_gradient_at_zeros_and_infinities_matches_torch(data, dtype):
    out = []
    for m in (cr, torch):
        x = m.tensor(np.array(data), requires_grad=True)
        y = m.cumprod(x, 0, **({} if dtype is None else {"dtype": getattr(m, dtype)}))
        y.backward(m.ones_like(y))
        out.append(x.grad.numpy())
    np.testing.assert_array_equal(np.isnan(out[0]), np.isnan(out[1]))
    assert_close(np.nan_to_num(out[0]), np.nan_to_num(out[1]), rtol=1e-6, atol=1e-7)


def test_scans_of_a_0d_infinite_value_pass_the_gradient_on_as_torch():
    for m in (cr, torch):
        for fn in (m.logcumsumexp, m.cumprod):
            x = m.tensor(float("inf"), requires_grad=True)
            fn(x, 0).backward()
            assert x.grad.item() == 1.0
