"""nn.init statistics and bounds against PyTorch's formulas, and nn.utils clipping."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import init

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name,param", [("linear", None), ("sigmoid", None), ("tanh", None),
                                        ("relu", None), ("leaky_relu", None),
                                        ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="Unsupported nonlinearity swish"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(30, 20), (8, 4, 3, 3), (5, 7, 2)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(cr.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(cr.empty(5))


def _stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.mean(), a.std(), np.abs(a).max()


SHAPE = (400, 600)  # fan_in 600, fan_out 400


def test_uniform_and_normal():
    cr.manual_seed(0)
    m, s, mx = _stats(init.uniform_(cr.empty(*SHAPE), -0.5, 1.5))
    assert abs(m - 0.5) < 0.01 and abs(s - 2 / math.sqrt(12)) < 0.01
    m, s, _ = _stats(init.normal_(cr.empty(*SHAPE), 2.0, 0.3))
    assert abs(m - 2.0) < 0.005 and abs(s - 0.3) < 0.005


def test_constant_zeros_ones():
    t = cr.empty(3, 2)
    assert (init.constant_(t, 0.25).numpy() == 0.25).all()
    assert not init.zeros_(t).numpy().any()
    assert (init.ones_(t).numpy() == 1).all()
    assert t.dtype == cr.float32


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(gain):
    cr.manual_seed(1)
    bound = gain * math.sqrt(6 / (400 + 600))
    _, s, mx = _stats(init.xavier_uniform_(cr.empty(*SHAPE), gain=gain))
    assert mx <= bound and mx > 0.999 * bound and abs(s - bound / math.sqrt(3)) < 0.01 * bound
    _, s, _ = _stats(init.xavier_normal_(cr.empty(*SHAPE), gain=gain))
    assert abs(s - gain * math.sqrt(2 / 1000)) < 0.01 * s


@pytest.mark.parametrize("mode,fan", [("fan_in", 600), ("fan_out", 400)])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0), ("leaky_relu", math.sqrt(5)), ("tanh", 0)])
def test_kaiming(mode, fan, nonlinearity, a):
    cr.manual_seed(2)
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3) * std
    _, s, mx = _stats(init.kaiming_uniform_(cr.empty(*SHAPE), a=a, mode=mode, nonlinearity=nonlinearity))
    assert mx <= bound and mx > 0.999 * bound and abs(s - std) < 0.01 * std
    _, s, _ = _stats(init.kaiming_normal_(cr.empty(*SHAPE), a=a, mode=mode, nonlinearity=nonlinearity))
    assert abs(s - std) < 0.01 * std
    # the same bound PyTorch draws within
    tmx = torch.nn.init.kaiming_uniform_(torch.empty(*SHAPE), a=a, mode=mode,
                                         nonlinearity=nonlinearity).abs().max().item()
    assert abs(tmx - mx) < 0.001 * bound


def test_kaiming_bad_mode():
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(cr.empty(3, 3), mode="fan_avg")


def test_init_on_parameters_records_no_graph_and_is_seeded():
    lin = nn.Linear(5, 3)
    cr.manual_seed(3)
    init.normal_(lin.weight, std=0.01)
    init.zeros_(lin.bias)
    assert lin.weight.is_leaf and lin.weight.requires_grad and lin.weight.grad_fn is None
    w = lin.weight.detach().numpy().copy()
    cr.manual_seed(3)
    np.testing.assert_array_equal(init.normal_(cr.empty(3, 5), std=0.01).numpy(), w)

    def init_weights(m):
        if type(m) is nn.Linear:
            init.xavier_uniform_(m.weight)
    net = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)).apply(init_weights)
    assert np.abs(net[2].weight.detach().numpy()).max() <= math.sqrt(6 / 6)


# ---- nn.utils ----------------------------------------------------------------------------
def _grads_pair(seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) * scale for s in [(4, 3), (3,), (2, 2)]]
    cp = [cr.tensor(a, requires_grad=True) for a in arrays]
    tp = [torch.tensor(a, requires_grad=True) for a in arrays]
    for c, t, a in zip(cp, tp, arrays):
        c.grad = cr.tensor(a * 1.7)
        t.grad = torch.tensor(a * 1.7)
    return cp, tp


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3])
@pytest.mark.parametrize("max_norm", [0.5, 1000.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    cp, tp = _grads_pair()
    cn = nn.utils.clip_grad_norm_(cp, max_norm, norm_type=norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type=norm_type)
    assert isinstance(cn, cr.Tensor) and cn.dtype == cr.float64
    np.testing.assert_allclose(cn.item(), tn.item(), rtol=1e-9)
    for c, t in zip(cp, tp):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-9)


def test_clip_grad_norm_nonfinite():
    p = cr.zeros(2, requires_grad=True)
    p.grad = cr.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert math.isinf(nn.utils.clip_grad_norm_(p, 1.0).item())


def test_clip_grad_value_and_vector():
    cp, tp = _grads_pair()
    nn.utils.clip_grad_value_(cp, 2.0)
    torch.nn.utils.clip_grad_value_(tp, 2.0)
    for c, t in zip(cp, tp):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy())
    vec = nn.utils.parameters_to_vector(cp)
    np.testing.assert_allclose(vec.detach().numpy(),
                               torch.nn.utils.parameters_to_vector(tp).detach().numpy())
    nn.utils.vector_to_parameters(vec.detach() * 2, cp)
    np.testing.assert_allclose(cp[1].detach().numpy(), 2 * tp[1].detach().numpy())


@pytest.mark.parametrize("norm_type", [2.0, float("inf")])
def test_clip_grad_norm_in_float32_scales_like_torch_and_keeps_dtype(norm_type):
    rng = np.random.default_rng(5)
    shapes = ((4, 3), (3,)) + (((0,),) if norm_type == 2.0 else ())  # torch: no empty inf-norm
    grads = [rng.standard_normal(s).astype(np.float32) * 30 for s in shapes]
    cp = [cr.zeros(g.shape, requires_grad=True) for g in grads]
    tp = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for c, t, g in zip(cp, tp, grads):
        c.grad, t.grad = cr.tensor(g), torch.tensor(g)
    cn = nn.utils.clip_grad_norm_(cp, 1.0, norm_type=norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tp, 1.0, norm_type=norm_type)
    assert cn.dtype == cr.float32 and cp[0].grad.dtype == cr.float32
    np.testing.assert_allclose(cn.item(), tn.item(), rtol=1e-6)
    for c, t in zip(cp, tp):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)
