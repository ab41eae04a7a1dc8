"""F.batch_norm, F.layer_norm, F.group_norm, F.instance_norm and F.local_response_norm
against PyTorch: outputs,
gradients of input, weight and bias, running statistics, float16/float64, extreme
values, empty batches and the errors PyTorch raises."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as cF

from helpers import assert_close, requires_torch, torch

pytestmark = requires_torch

TOL = {np.float16: dict(rtol=2e-3, atol=2e-3), np.float32: dict(rtol=1e-5, atol=1e-6),
       np.float64: dict(rtol=1e-12, atol=1e-13)}


def _libs():
    return ((cr, cF), (torch, torch.nn.functional))


def _run(fn, arrays, dtypes, seed=0):
    """fn(M, F, *tensors) on both libraries: output, gradients and the tensors after."""
    results = []
    for M, F in _libs():
        ts = [M.tensor(a.astype(d), requires_grad=d != np.int64) if a is not None else None
              for a, d in zip(arrays, dtypes)]
        y = fn(M, F, *ts)
        g = np.cos(np.arange(y.numel()) + seed).reshape(tuple(y.shape)).astype(dtypes[0])
        leaves = [t for t in ts if t is not None]
        grads = M.autograd.grad((y * M.tensor(g)).sum(), leaves, allow_unused=True)
        results.append([y.detach().numpy()] + [np.zeros(1) if gr is None else gr.numpy()
                                               for gr in grads])
    return results


def _assert_match(ours, theirs, dtype, scale=None):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.dtype == b.dtype, (i, a.dtype, b.dtype)
        assert_close(a.astype(np.float64), b.astype(np.float64), **TOL[dtype], scale=scale,
                     err_msg=f"result {i} (0: output, then gradients)")


def _data(shape, seed=0, scale=2.0, offset=0.5):
    return np.random.default_rng(seed).standard_normal(shape) * scale + offset


def _bn_train(M, F, x, w, b):
    rm = M.zeros(x.shape[1], dtype=x.dtype if x.dtype != M.float16 else M.float16)
    rv = M.ones(x.shape[1], dtype=rm.dtype)
    return F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2)


# ---- batch_norm ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(8, 3), (6, 3, 5), (4, 3, 5, 5)])
def test_batch_norm_training_output_and_gradients_match_torch(shape, dtype):
    arrays = [_data(shape), _data((3,), 1), _data((3,), 2)]
    _assert_match(*_run(_bn_train, arrays, [dtype] * 3), dtype)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_batch_norm_eval_uses_running_statistics(dtype):
    def fn(M, F, x, w, b):
        rm, rv = M.tensor([0.5, -1.0, 2.0], dtype=x.dtype), M.tensor([2.0, 0.3, 1.0], dtype=x.dtype)
        return F.batch_norm(x, rm, rv, w, b, training=False)
    arrays = [_data((5, 3, 4)), _data((3,), 1), _data((3,), 2)]
    _assert_match(*_run(fn, arrays, [dtype] * 3), dtype)


def test_batch_norm_without_affine_or_running_statistics():
    fn = lambda M, F, x: F.batch_norm(x, None, None, training=True)  # noqa: E731
    _assert_match(*_run(fn, [_data((4, 2, 3, 3))], [np.float64]), np.float64)


@pytest.mark.parametrize("param_dtype", [np.float16, np.float32])
def test_batch_norm_float16_input_with_float16_or_float32_parameters(param_dtype):
    def fn(M, F, x, w, b):
        rm = M.zeros(3, dtype=w.dtype)
        return F.batch_norm(x, rm, M.ones(3, dtype=w.dtype), w, b, training=True)
    arrays = [_data((6, 3, 5), scale=30, offset=100), _data((3,), 1), _data((3,), 2)]
    ours, theirs = _run(fn, arrays, [np.float16, param_dtype, param_dtype])
    _assert_match(ours, theirs, np.float16)


@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_batch_norm_running_statistics_over_several_steps_use_unbiased_variance(momentum, dtype):
    stats = []
    for M, F in _libs():
        rm, rv = M.zeros(3, dtype=getattr(M, np.dtype(dtype).name)), M.ones(3, dtype=getattr(M, np.dtype(dtype).name))
        for step in range(4):
            x = M.tensor(_data((5, 3, 2), step, scale=step + 1, offset=step).astype(dtype))
            F.batch_norm(x, rm, rv, training=True, momentum=momentum)
        stats.append([rm.numpy(), rv.numpy()])
    _assert_match(*stats, dtype)
    n = 10  # the variance of one step: unbiased, n / (n - 1) times the biased one
    x = _data((5, 3, 2), 7).astype(dtype)
    rm, rv = cr.zeros(3, dtype=cr.float64), cr.zeros(3, dtype=cr.float64)
    cF.batch_norm(cr.tensor(x.astype(np.float64)), rm, rv, training=True, momentum=1.0)
    assert_close(rv.numpy(), x.astype(np.float64).transpose(1, 0, 2).reshape(3, n).var(1, ddof=1),
                 rtol=1e-12, atol=1e-13)


def test_batch_norm_updates_running_statistics_in_place_without_a_version_bump():
    rm, rv = cr.zeros(3), cr.ones(3)
    before = (rm._version[0], rv._version[0], rm._data)
    cF.batch_norm(cr.randn(4, 3), rm, rv, training=True)
    assert (rm._version[0], rv._version[0], rm._data) == before  # as PyTorch's kernel
    assert not np.array_equal(rm.numpy(), np.zeros(3))


@pytest.mark.parametrize("offset, scale", [(1e4, 1.0), (1e6, 3.0), (0.0, 1e-20), (0.0, 1e18)])
def test_batch_norm_extreme_values_follow_torch(offset, scale):
    arrays = [_data((6, 3, 4), 3, scale=scale, offset=offset), _data((3,), 1), _data((3,), 2)]
    ours, theirs = _run(_bn_train, arrays, [np.float32] * 3)
    # PyTorch normalises as x * alpha + beta in float32, which cancels about
    # |offset| / std float32 ulps: the comparison allows for as many
    cancel = 1.0 + offset / scale
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert_close(a, b, rtol=1e-5, atol=2e-6 * cancel, err_msg=str(i))


@pytest.mark.parametrize("special", [np.nan, np.inf, "constant"])
def test_batch_norm_nan_inf_and_constant_channels_follow_torch(special):
    x = _data((6, 3, 4), 4)
    if special == "constant":
        x[:, 1] = 3.0  # variance 0: divided by sqrt(eps)
    else:
        x[0, 0, 0] = special
    arrays = [x, _data((3,), 1), _data((3,), 2)]
    ours, theirs = _run(_bn_train, arrays, [np.float64] * 3)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        assert_close(np.nan_to_num(a), np.nan_to_num(b), rtol=1e-10, atol=1e-10)


def test_batch_norm_empty_batch_keeps_running_statistics():
    rm, rv = cr.tensor([0.5, 1.0]), cr.tensor([2.0, 3.0])
    x = cr.zeros(0, 2, 3, requires_grad=True)
    y = cF.batch_norm(x, rm, rv, training=True)
    y.sum().backward()
    assert y.shape == (0, 2, 3) and x.grad.shape == (0, 2, 3)
    assert rm.tolist() == [0.5, 1.0] and rv.tolist() == [2.0, 3.0]


def test_batch_norm_grad_fn_names_as_torch():
    x = cr.randn(4, 3, requires_grad=True)
    assert type(cF.batch_norm(x, None, None, training=True).grad_fn).__name__ == \
        "NativeBatchNormBackward0"
    assert type(cF.layer_norm(x, [3]).grad_fn).__name__ == "NativeLayerNormBackward0"
    assert type(cF.group_norm(x, 1).grad_fn).__name__ == "NativeGroupNormBackward0"
    assert type(cF.instance_norm(x.reshape(2, 3, 2)).grad_fn).__name__ == "ViewBackward0"


def _same_error(call, match):
    """The call raises the same exception type on both libraries; ours names `match`."""
    with pytest.raises(Exception) as theirs:
        call(torch, torch.nn.functional)
    with pytest.raises(type(theirs.value), match=match):
        call(cr, cF)


BN_ERRORS = {
    "eval_without_running_stats": (
        lambda M, F: F.batch_norm(M.randn(4, 3), None, None), "running_mean must be defined"),
    "running_mean_of_wrong_size": (
        lambda M, F: F.batch_norm(M.randn(4, 3, 2), M.zeros(4), M.ones(4), training=True),
        r"running_mean should contain 3 elements not 4 .*shape \(4, 3, 2\)"),
    "weight_of_wrong_size": (
        lambda M, F: F.batch_norm(M.randn(4, 3), None, None, M.ones(2), training=True),
        r"weight should contain 3 elements not 2"),
    "bias_of_wrong_size": (
        lambda M, F: F.batch_norm(M.randn(4, 3), M.zeros(3), M.ones(3), None, M.ones(5)),
        r"bias should contain 3 elements not 5"),
    "one_value_per_channel": (
        lambda M, F: F.batch_norm(M.randn(1, 3, 1, 1), None, None, training=True),
        r"Expected more than 1 value per channel when training, got input size .*\[1, 3, 1, 1\]"),
    "one_dimensional_input": (
        lambda M, F: F.batch_norm(M.randn(3), None, None, training=True),
        r"at least 2 dimensions, got shape \(3,\)"),
    "integer_input": (
        lambda M, F: F.batch_norm(M.ones(4, 3, dtype=M.int64), None, None, training=True),
        r"not implemented for .*int64"),
    "mixed_parameter_dtypes": (
        lambda M, F: F.batch_norm(M.randn(4, 3), M.zeros(3, dtype=M.float64), M.ones(3),
                                  training=True), r"running_mean chainrule.float64"),
}


@pytest.mark.parametrize("case", sorted(BN_ERRORS))
def test_batch_norm_errors_as_torch(case):
    _same_error(*BN_ERRORS[case])


# ---- layer_norm ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape, normalized", [((3, 5), [5]), ((3, 2, 4, 5), (4, 5)),
                                               ((2, 3, 4), (2, 3, 4))])
def test_layer_norm_output_and_gradients_match_torch(shape, normalized, dtype):
    fn = lambda M, F, x, w, b: F.layer_norm(x, normalized, w, b, eps=1e-4)  # noqa: E731
    arrays = [_data(shape), _data(tuple(normalized), 1), _data(tuple(normalized), 2)]
    ours, theirs = _run(fn, arrays, [dtype] * 3)
    # float16 weight/bias gradients: PyTorch sums in float16 steps (an ulp per few rows)
    _assert_match(ours, theirs, dtype, scale=8.0 if dtype == np.float16 else None)


def test_layer_norm_without_affine_and_with_weight_only():
    fn = lambda M, F, x, w: F.layer_norm(x, [4], w) + F.layer_norm(x, [4])  # noqa: E731
    _assert_match(*_run(fn, [_data((3, 4)), _data((4,), 1)], [np.float64] * 2), np.float64)


def test_layer_norm_empty_batch():
    y = cF.layer_norm(cr.zeros(0, 5, requires_grad=True), [5])
    assert y.shape == (0, 5)


LN_ERRORS = {
    "input_shape_does_not_end_with_normalized_shape": (
        lambda M, F: F.layer_norm(M.randn(4, 3, 5), [4]),
        r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], but got input "
        r"of size\[4, 3, 5\]"),
    "weight_shape": (
        lambda M, F: F.layer_norm(M.randn(4, 5), [5], M.ones(4)),
        r"Expected weight to be of same shape as normalized_shape, but got weight of shape "
        r"\[4\] and normalized_shape = \[5\]"),
    "bias_shape": (
        lambda M, F: F.layer_norm(M.randn(4, 5), [5], None, M.ones(1, 5)),
        r"bias of shape \[1, 5\]"),
    "empty_normalized_shape": (
        lambda M, F: F.layer_norm(M.randn(4, 5), []), "at least 1-dimensional"),
    "int_normalized_shape": (
        lambda M, F: F.layer_norm(M.randn(4, 5), 5), "must be tuple of ints, not int"),
    "longer_than_input": (
        lambda M, F: F.layer_norm(M.randn(4, 5), [2, 4, 5]), r"got input of size\[4, 5\]"),
}


@pytest.mark.parametrize("case", sorted(LN_ERRORS))
def test_layer_norm_errors_as_torch(case):
    _same_error(*LN_ERRORS[case])


# ---- group_norm and instance_norm ---------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape, groups", [((3, 6, 4, 5), 2), ((2, 6, 7), 3), ((4, 4), 2),
                                           ((2, 6, 3), 1), ((2, 6, 3), 6)])
def test_group_norm_output_and_gradients_match_torch(shape, groups, dtype):
    fn = lambda M, F, x, w, b: F.group_norm(x, groups, w, b)  # noqa: E731
    arrays = [_data(shape), _data((shape[1],), 1), _data((shape[1],), 2)]
    _assert_match(*_run(fn, arrays, [dtype] * 3), dtype, scale=4.0)


def test_group_norm_without_affine_and_empty_batch():
    fn = lambda M, F, x: F.group_norm(x, 3)  # noqa: E731
    _assert_match(*_run(fn, [_data((2, 6, 5))], [np.float64]), np.float64)
    assert cF.group_norm(cr.zeros(0, 6, 3), 2).shape == (0, 6, 3)


GN_ERRORS = {
    "groups_not_dividing_channels": (
        lambda M, F: F.group_norm(M.randn(4, 3, 5, 5), 2),
        r"Expected number of channels in input to be divisible by num_groups, but got input "
        r"of shape \[4, 3, 5, 5\] and num_groups=2"),
    "weight_size": (
        lambda M, F: F.group_norm(M.randn(4, 6, 5), 3, M.ones(4)),
        r"weight of shape \[4\] and input of shape \[4, 6, 5\]"),
    "one_dimensional_input": (
        lambda M, F: F.group_norm(M.randn(3), 1), "at least 2 dimensions.*received 1"),
    "one_value_per_group": (
        lambda M, F: F.group_norm(M.randn(1, 3), 3), r"more than 1 value.*\[1, 3\]"),
    "negative_groups": (lambda M, F: F.group_norm(M.randn(2, 4), -2), "greater than 0"),
    "zero_groups": (lambda M, F: F.group_norm(M.randn(2, 4), 0), "num_groups"),
    "float_groups": (lambda M, F: F.group_norm(M.randn(2, 4), 2.0), "must be int, not float"),
}


@pytest.mark.parametrize("case", sorted(GN_ERRORS))
def test_group_norm_errors_as_torch(case):
    _same_error(*GN_ERRORS[case])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_instance_norm_output_gradients_and_running_statistics_match_torch(dtype):
    stats = {}

    def fn(M, F, x, w, b):
        rm = M.tensor([0.5, -0.5, 1.0], dtype=x.dtype)
        rv = M.tensor([1.0, 2.0, 0.5], dtype=x.dtype)
        out = F.instance_norm(x, rm, rv, w, b, momentum=0.3)
        stats[M.__name__] = [rm.numpy(), rv.numpy()]
        return out + F.instance_norm(x, rm, rv, use_input_stats=False)
    arrays = [_data((4, 3, 6)), _data((3,), 1), _data((3,), 2)]
    _assert_match(*_run(fn, arrays, [dtype] * 3), dtype)
    _assert_match(stats["chainrule"], stats["torch"], dtype)


def test_instance_norm_refuses_one_spatial_element_as_torch():
    _same_error(lambda M, F: F.instance_norm(M.randn(4, 3)), "more than 1 spatial element")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, size", [((2, 5, 4), 3), ((2, 6, 3, 4), 4), ((2, 3, 2, 2, 2), 2),
                                         ((2, 3, 5), 7)])
def test_local_response_norm_output_and_gradient_match_torch(shape, size, dtype):
    fn = lambda M, F, x: F.local_response_norm(x, size, alpha=0.5, beta=0.75, k=2.0)  # noqa: E731
    _assert_match(*_run(fn, [_data(shape)], [dtype]), dtype)


def test_local_response_norm_refuses_two_dimensional_input_as_torch():
    _same_error(lambda M, F: F.local_response_norm(M.randn(2, 3), 2),
                r"Expected 3D or higher dimensionality input \(got 2 dimensions\).*\(2, 3\)")
    assert cF.local_response_norm(cr.zeros(0, 3, 4), 3).shape == (0, 3, 4)
