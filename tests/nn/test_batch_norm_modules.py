"""BatchNorm1d/2d, LazyBatchNorm1d/2d, LayerNorm, GroupNorm and LocalResponseNorm against
PyTorch: defaults, parameters and buffers, state_dict keys, repr, several training steps
and eval mode; state_dict save/load round trips; PyTorch's BatchNorm2d state loaded into
chainrule's."""
import numpy as np
import pytest

import chainrule as cr

from helpers import assert_close, requires_torch, torch

pytestmark = requires_torch

BUILDERS = {
    "bn1d": lambda M: M.nn.BatchNorm1d(3),
    "bn2d": lambda M: M.nn.BatchNorm2d(3),
    "bn2d_momentum_none": lambda M: M.nn.BatchNorm2d(3, momentum=None),
    "bn2d_untracked": lambda M: M.nn.BatchNorm2d(3, track_running_stats=False),
    "bn2d_no_affine": lambda M: M.nn.BatchNorm2d(3, affine=False, eps=1e-3),
    "bn1d_no_bias": lambda M: M.nn.BatchNorm1d(3, bias=False, momentum=0.5),
    "lazy_bn1d": lambda M: M.nn.LazyBatchNorm1d(),
    "lazy_bn2d": lambda M: M.nn.LazyBatchNorm2d(momentum=None),
    "layer_norm": lambda M: M.nn.LayerNorm(4),
    "layer_norm_2d": lambda M: M.nn.LayerNorm([3, 4], elementwise_affine=False),
    "layer_norm_no_bias": lambda M: M.nn.LayerNorm((4,), bias=False, eps=1e-3),
    "group_norm": lambda M: M.nn.GroupNorm(3, 3),
    "group_norm_no_affine": lambda M: M.nn.GroupNorm(1, 3, affine=False),
    "local_response_norm": lambda M: M.nn.LocalResponseNorm(2, alpha=0.1, k=2.0),
    "instance_norm_1d": lambda M: M.nn.InstanceNorm1d(3),
    "instance_norm_2d_tracked": lambda M: M.nn.InstanceNorm2d(3, affine=True,
                                                              track_running_stats=True),
}
INPUT_SHAPE = {"bn1d": (6, 3), "bn1d_no_bias": (6, 3, 4), "lazy_bn1d": (6, 3, 4),
               "layer_norm": (5, 3, 4), "layer_norm_2d": (5, 3, 4),
               "layer_norm_no_bias": (5, 4), "group_norm_no_affine": (5, 3, 4),
               "instance_norm_1d": (5, 3, 4)}


def _pair(name):
    return BUILDERS[name](cr), BUILDERS[name](torch)


def _state(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_module_defaults_repr_and_state_dict_match_torch(name):
    ours, theirs = _pair(name)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    if name.startswith("lazy"):
        return  # nothing to compare before the first input
    for (k, a), b in zip(_state(ours).items(), _state(theirs).values()):
        assert a.dtype == b.dtype and a.shape == b.shape, k
        np.testing.assert_array_equal(a, b, err_msg=k)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_training_steps_then_eval_match_torch(name):
    ours, theirs = _pair(name)
    shape = INPUT_SHAPE.get(name, (5, 3, 4, 4))
    rng = np.random.default_rng(0)
    for step in range(4):
        x = rng.standard_normal(shape) * (step + 1) + step
        weights = rng.standard_normal(shape).astype(np.float32)
        results = []
        for M, m in ((cr, ours), (torch, theirs)):
            t = M.tensor(x.astype(np.float32), requires_grad=True)
            y = m(t)
            (y * M.tensor(weights)).sum().backward()
            results.append([y.detach().numpy(), t.grad.numpy()]
                           + [p.grad.numpy() for p in m.parameters()])
        for a, b in zip(*results):
            assert_close(a, b, rtol=1e-5, atol=1e-6)
        for (k, a), b in zip(_state(ours).items(), _state(theirs).values()):
            assert_close(a, b, rtol=1e-6, atol=1e-7, err_msg=k)
    assert type(ours).__name__ == type(theirs).__name__  # a lazy module has become its class
    ours.eval(), theirs.eval()
    x = rng.standard_normal((2,) + shape[1:]).astype(np.float32)
    assert_close(ours(cr.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                 rtol=1e-5, atol=1e-6)


def test_momentum_none_is_the_cumulative_average_of_every_batch():
    m = cr.nn.BatchNorm1d(2, momentum=None)
    batches = [np.random.default_rng(i).standard_normal((4, 2)) * (i + 1) for i in range(3)]
    for b in batches:
        m(cr.tensor(b.astype(np.float32)))
    assert m.num_batches_tracked.item() == 3 and m.num_batches_tracked.dtype == cr.int64
    assert_close(m.running_mean.numpy(), np.mean([b.mean(0) for b in batches], 0),
                 rtol=1e-6, atol=1e-7)
    assert_close(m.running_var.numpy(), np.mean([b.var(0, ddof=1) for b in batches], 0),
                 rtol=1e-6, atol=1e-7)


def test_eval_mode_does_not_touch_running_statistics_or_the_counter():
    m = cr.nn.BatchNorm2d(3)
    m(cr.randn(4, 3, 2, 2))
    before = _state(m)
    m.eval()
    m(cr.randn(1, 3, 1, 1))  # one value per channel is fine with running statistics
    for k, v in _state(m).items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


@pytest.mark.parametrize("build, shape", [
    (lambda M: M.nn.BatchNorm1d(3), (1, 3)), (lambda M: M.nn.BatchNorm2d(3), (1, 3, 1, 1)),
    (lambda M: M.nn.BatchNorm1d(3, track_running_stats=False).eval(), (1, 3))])
def test_batch_of_one_in_training_raises_as_torch(build, shape):
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        build(torch)(torch.randn(*shape))
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when "
                                         r"training, got input size chainrule.Size\(\[1, 3"):
        build(cr)(cr.randn(*shape))


@pytest.mark.parametrize("build, shape, error, match", [
    (lambda M: M.nn.BatchNorm2d(3), (2, 3, 4), ValueError, r"expected 4D input \(got 3D input\)"),
    (lambda M: M.nn.BatchNorm1d(3), (2, 3, 4, 4), ValueError, r"expected 2D or 3D input \(got 4D"),
    (lambda M: M.nn.BatchNorm2d(4), (2, 3, 4, 4), RuntimeError,
     r"running_mean should contain 3 elements not 4"),
    (lambda M: M.nn.LayerNorm(5), (2, 4), RuntimeError, r"normalized_shape=\[5\].*size\[2, 4\]"),
    (lambda M: M.nn.GroupNorm(2, 6), (2, 4, 3), RuntimeError,
     r"weight of shape \[6\] and input of shape \[2, 4, 3\]")])
def test_wrong_input_for_the_module_raises_as_torch(build, shape, error, match):
    with pytest.raises(error):
        build(torch)(torch.randn(*shape))
    with pytest.raises(error, match=match):
        build(cr)(cr.randn(*shape))


def test_group_norm_channels_not_divisible_by_groups_raises_as_torch():
    for M in (torch, cr):
        with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by "
                                             r"num_groups \(4\)"):
            M.nn.GroupNorm(4, 6)


def test_lazy_batch_norm_infers_features_and_trains_with_an_optimizer_built_before():
    m = cr.nn.LazyBatchNorm2d()
    assert repr(m.weight) == "<UninitializedParameter>"
    assert repr(m.running_mean) == "<UninitializedBuffer>"
    opt = cr.optim.SGD(m.parameters(), lr=0.5)
    m(cr.randn(4, 5, 2, 2) * 3).sum().backward()
    opt.step()
    assert type(m) is cr.nn.BatchNorm2d and m.num_features == 5
    assert m.running_mean.shape == (5,) and type(m.running_mean) is cr.Tensor
    assert m.weight.shape == (5,) and m.weight.grad is not None


def test_lazy_batch_norm_takes_its_size_from_a_loaded_state_dict():
    source = cr.nn.BatchNorm1d(4)
    source(cr.randn(8, 4))
    lazy = cr.nn.LazyBatchNorm1d()
    lazy.load_state_dict(source.state_dict())
    lazy.eval(), source.eval()
    x = cr.randn(3, 4)
    np.testing.assert_array_equal(lazy(x).detach().numpy(), source(x).detach().numpy())
    assert lazy.num_features == 4


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_state_dict_round_trips_with_buffers_through_save_and_load(tmp_path, suffix):
    m = cr.nn.BatchNorm2d(3, momentum=None)
    for i in range(3):
        m(cr.randn(4, 3, 2, 2) + i)
    cr.save(m.state_dict(), tmp_path / f"bn{suffix}")
    fresh = cr.nn.BatchNorm2d(3, momentum=None)
    fresh.load_state_dict(cr.load(tmp_path / f"bn{suffix}"))
    for k, v in _state(m).items():
        got = _state(fresh)[k]
        assert got.dtype == v.dtype, k
        np.testing.assert_array_equal(got, v, err_msg=k)
    assert fresh.num_batches_tracked.item() == 3


def test_torch_batch_norm_state_dict_gives_the_same_eval_outputs(tmp_path):
    st = pytest.importorskip("safetensors.torch")
    theirs = torch.nn.BatchNorm2d(3)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 2.0), theirs.bias.uniform_(-1.0, 1.0)
    for i in range(3):
        theirs(torch.randn(4, 3, 5, 5) * (i + 1) + i)
    st.save_file(theirs.state_dict(), str(tmp_path / "bn.safetensors"))
    ours = cr.nn.BatchNorm2d(3)
    ours.load_state_dict(cr.load(tmp_path / "bn.safetensors"))
    assert ours.num_batches_tracked.item() == 3
    ours.eval(), theirs.eval()
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 5)).astype(np.float32)
    assert_close(ours(cr.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                 rtol=1e-6, atol=1e-7)


def test_half_and_double_modules_keep_the_counter_int64():
    for convert in ("half", "double"):
        ours, theirs = getattr(cr.nn.BatchNorm1d(3), convert)(), getattr(torch.nn.BatchNorm1d(3), convert)()
        assert {k: str(v.dtype).split(".")[1] for k, v in ours.state_dict().items()} == \
            {k: str(v.dtype).split(".")[1] for k, v in theirs.state_dict().items()}
        x = np.random.default_rng(2).standard_normal((5, 3))
        y = ours(cr.tensor(x).to(ours.weight.dtype))
        assert y.dtype == ours.weight.dtype


def test_state_dict_without_num_batches_tracked_loads_as_in_torch():
    for M in (torch, cr):
        model = M.nn.Sequential(M.nn.Linear(3, 3), M.nn.BatchNorm1d(3))
        model(M.randn(4, 3))
        state = {k: v for k, v in model.state_dict().items() if "num_batches" not in k}
        result = model.load_state_dict(state)
        assert not result.missing_keys and not result.unexpected_keys
        assert model[1].num_batches_tracked.item() == 1  # kept, not reset


@pytest.mark.parametrize("input_grad", [False, True])
def test_weight_gradient_with_and_without_input_gradient_and_twice_with_retain_graph(
        input_grad):
    x = np.random.default_rng(3).standard_normal((6, 3, 4))
    results = []
    for M in (cr, torch):
        m = M.nn.BatchNorm1d(3)
        t = M.tensor(x.astype(np.float32), requires_grad=input_grad)
        y = m(t)
        w = M.tensor(np.cos(np.arange(72)).reshape(6, 3, 4).astype(np.float32))
        (y * w).sum().backward(retain_graph=True)
        first = [m.weight.grad.clone(), m.bias.grad.clone()]
        (y * w * 2).sum().backward()  # a second incoming gradient: no stale sums reused
        results.append([a.numpy() for a in (*first, m.weight.grad, m.bias.grad)]
                       + ([t.grad.numpy()] if input_grad else []))
    for a, b in zip(*results):
        assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_instance_norm_unbatched_input_and_channel_checks_as_torch():
    x = np.random.default_rng(4).standard_normal((3, 5)).astype(np.float32)
    assert_close(cr.nn.InstanceNorm1d(3)(cr.tensor(x)).numpy(),
                 torch.nn.InstanceNorm1d(3)(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)
    for M in (torch, cr):
        with pytest.raises(ValueError, match=r"expected input's size at dim=1 to match "
                                             r"num_features \(3\), but got: 4"):
            M.nn.InstanceNorm1d(3, affine=True)(M.randn(2, 4, 5))
        with pytest.warns(UserWarning, match="does not match num_features"):
            M.nn.InstanceNorm1d(3)(M.randn(2, 4, 5))
        with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
            M.nn.InstanceNorm2d(3)(M.randn(2, 3))
