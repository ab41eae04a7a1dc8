"""nn, optim and data semantics that must match PyTorch's: deferred initialisation, tied
modules in state dicts, schedulers resumed from a checkpoint, fractional splits,
truncated-normal init."""
import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.utils.data import TensorDataset, random_split

torch = pytest.importorskip("torch")

_INITS = [("normal_", ()), ("uniform_", ()), ("zeros_", ()), ("ones_", ()),
          ("constant_", (0.5,)), ("xavier_uniform_", ()), ("xavier_normal_", ()),
          ("kaiming_uniform_", ()), ("kaiming_normal_", ()), ("trunc_normal_", ())]


@pytest.mark.parametrize("name,args", _INITS, ids=[n for n, _ in _INITS])
def test_init_of_lazy_parameter_before_first_call_raises_like_torch(name, args):
    tm = torch.nn.LazyLinear(3)
    with pytest.raises((ValueError, RuntimeError), match="uninitialized parameter"):
        getattr(torch.nn.init, name)(tm.weight, *args)
    m = nn.LazyLinear(3)
    with pytest.raises(ValueError, match=f"{name}.*uninitialized parameter"):
        getattr(nn.init, name)(m.weight, *args)


def test_lazy_linear_becomes_linear_after_first_call():
    for lib in (torch, cr):
        m = lib.nn.LazyLinear(3)
        assert type(m) is lib.nn.LazyLinear and isinstance(m, lib.nn.Linear)
        assert repr(m) == "LazyLinear(in_features=0, out_features=3, bias=True)"
        m(lib.ones(2, 5))
        assert type(m) is lib.nn.Linear  # d2l's `type(m) == nn.Linear` checks see it
        assert repr(m) == "Linear(in_features=5, out_features=3, bias=True)"
        assert m.in_features == 5 and tuple(m.weight.shape) == (3, 5)


def test_init_after_first_call_of_lazy_linear_is_kept():
    m = nn.LazyLinear(2)
    m(cr.ones(1, 4))
    nn.init.constant_(m.weight, 0.25)
    nn.init.zeros_(m.bias)
    np.testing.assert_array_equal(m(cr.ones(1, 4)).detach().numpy(), [[1.0, 1.0]])


def test_lazy_linear_loads_state_dict_before_first_call():
    ref = torch.nn.Linear(4, 3)
    sd = {k: v.detach().numpy().copy() for k, v in ref.state_dict().items()}
    tm = torch.nn.LazyLinear(3)
    tm.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    m = nn.LazyLinear(3)
    res = m.load_state_dict({k: cr.tensor(v) for k, v in sd.items()})
    assert not res.missing_keys and not res.unexpected_keys
    # both stay lazy until their first call
    assert type(m) is nn.LazyLinear and type(tm) is torch.nn.LazyLinear
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    want = tm(torch.tensor(x)).detach().numpy()
    got = m(cr.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * np.abs(want).max())
    assert type(m) is nn.Linear and m.in_features == 4


def test_lazy_linear_loaded_then_called_with_other_width_raises():
    ref = nn.Linear(4, 3)
    m = nn.LazyLinear(3)
    m.load_state_dict(ref.state_dict())
    with pytest.raises(RuntimeError, match="LazyLinear.*last dimension 5.*in_features 4"):
        m(cr.ones(2, 5))


def test_lazy_linear_failed_load_changes_nothing():
    m = nn.LazyLinear(3)
    with pytest.raises(RuntimeError, match='Missing key.*"bias"'):
        m.load_state_dict({"weight": cr.ones(3, 4)})
    assert m.has_uninitialized_params()
    m(cr.ones(1, 6))
    assert m.in_features == 6


def _tied(lib):
    lin = lib.nn.Linear(2, 2)
    return lib.nn.Sequential(lin, lib.nn.ReLU(), lin)


def test_state_dict_of_sequential_using_one_layer_twice_lists_keys_like_torch():
    assert list(_tied(cr).state_dict()) == list(_tied(torch).state_dict())
    assert ([n for n, _ in _tied(cr).named_parameters()]
            == [n for n, _ in _tied(torch).named_parameters()])
    assert ([n for n, _ in _tied(cr).named_parameters(remove_duplicate=False)]
            == [n for n, _ in _tied(torch).named_parameters(remove_duplicate=False)])


def test_torch_state_dict_of_tied_sequential_loads_strictly():
    tnet = _tied(torch)
    sd = {k: cr.tensor(v.detach().numpy().copy()) for k, v in tnet.state_dict().items()}
    net = _tied(cr)
    res = net.load_state_dict(sd, strict=True)
    assert not res.missing_keys and not res.unexpected_keys
    x = np.array([[0.5, -1.5], [2.0, 0.25]], dtype=np.float32)
    want = tnet(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(net(cr.tensor(x)).detach().numpy(), want, rtol=1e-6,
                               atol=1e-6 * np.abs(want).max())


def _resumed_exponential_lrs(lib):
    opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=1.0)
    sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.5)
    for _ in range(4):
        opt.step()
        sched.step()
    opt2 = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=1.0)
    opt2.load_state_dict(opt.state_dict())
    sched2 = lib.optim.lr_scheduler.ExponentialLR(opt2, 0.5, last_epoch=3)
    lrs = [opt2.param_groups[0]["lr"]]
    for _ in range(3):
        opt2.step()
        sched2.step()
        lrs.append(opt2.param_groups[0]["lr"])
    return lrs, sched2.get_last_lr()


def test_exponential_lr_resumed_with_last_epoch_does_not_decay_twice():
    got, want = _resumed_exponential_lrs(cr), _resumed_exponential_lrs(torch)
    assert got == want
    assert got[0][0] == 0.0625  # the loaded lr, not one more decay


_SCHEDULERS = {
    "StepLR": lambda L, o, e: L.optim.lr_scheduler.StepLR(o, 2, 0.5, last_epoch=e),
    "MultiStepLR": lambda L, o, e: L.optim.lr_scheduler.MultiStepLR(o, [2, 4, 5], 0.5,
                                                                     last_epoch=e),
    "ExponentialLR": lambda L, o, e: L.optim.lr_scheduler.ExponentialLR(o, 0.5, last_epoch=e),
    "CosineAnnealingLR": lambda L, o, e: L.optim.lr_scheduler.CosineAnnealingLR(
        o, 6, 0.1, last_epoch=e),
    "LambdaLR": lambda L, o, e: L.optim.lr_scheduler.LambdaLR(o, lambda k: 0.9 ** k,
                                                               last_epoch=e),
}


@pytest.mark.parametrize("name", list(_SCHEDULERS))
def test_schedulers_resumed_from_a_loaded_optimizer_follow_torch(name):
    def lrs(lib):
        make = _SCHEDULERS[name]
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=1.0)
        sched = make(lib, opt, -1)
        for _ in range(4):
            opt.step()
            sched.step()
        opt2 = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=1.0)
        opt2.load_state_dict(opt.state_dict())
        sched2 = make(lib, opt2, 3)
        out = [opt2.param_groups[0]["lr"]]
        for _ in range(5):
            opt2.step()
            sched2.step()
            out.append(opt2.param_groups[0]["lr"])
        return out
    assert lrs(cr) == pytest.approx(lrs(torch), rel=1e-12)


@pytest.mark.parametrize("n,fractions", [(1, [0.7, 0.3]), (1, [0.3, 0.7]), (0, [0.5, 0.5]),
                                          (1, [1]), (3, [0.7, 0.3]), (7, [0.1, 0.1, 0.8])])
def test_random_split_with_fractions_matches_torch_lengths(n, fractions):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about empty splits
        want = [len(s) for s in torch.utils.data.random_split(
            torch.utils.data.TensorDataset(torch.zeros(n)), fractions)]
    got = [len(s) for s in random_split(TensorDataset(cr.zeros(n)), fractions)]
    assert got == want


def test_random_split_rejects_fraction_outside_unit_interval():
    with pytest.raises(ValueError, match="fraction at index 0 is not between 0 and 1"):
        random_split(TensorDataset(cr.zeros(3)), [1.2, -0.2])


def _truncated_mean(mean, std, a, b):
    # exact mean of N(mean, std²) restricted to [a, b], computed on the short tail side
    lo, hi = (a - mean) / std, (b - mean) / std
    sign = 1.0
    if hi <= 0:
        lo, hi, sign = -hi, -lo, -1.0
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    sf = lambda z: 0.5 * math.erfc(z / math.sqrt(2))  # noqa: E731
    return mean + sign * std * (pdf(lo) - pdf(hi)) / (sf(lo) - sf(hi))


@pytest.mark.slow
@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (10.0, 1.0, -2.0, 2.0),
                                          (-30.0, 1.0, -2.0, 2.0), (5.0, 1.0, 0.0, 0.1),
                                          (0.0, 1.0, 3.0, math.inf), (0.0, 2.0, 30.0, 31.0)])
def test_trunc_normal_returns_values_in_bounds_even_with_mean_outside(mean, std, a, b):
    n = 20000
    cr.manual_seed(0)
    x = nn.init.trunc_normal_(cr.empty(n), mean, std, a, b).numpy().astype(np.float64)
    assert x.min() >= a and x.max() <= b
    want = _truncated_mean(mean, std, a, b)
    # the sample mean of n draws lies within 5 standard errors (spread ≤ std and ≤ b - a)
    spread = min(std, b - a)
    assert abs(x.mean() - want) <= 5 * spread / math.sqrt(n)
    if a > -math.inf and b < math.inf and abs(mean) < 20:
        torch.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = torch.nn.init.trunc_normal_(torch.empty(n), mean, std, a, b).double().numpy()
        assert t.min() >= a and t.max() <= b
        assert abs(t.mean() - want) <= 5 * spread / math.sqrt(n) + 1e-3 * spread


def test_trunc_normal_rejects_bounds_in_wrong_order():
    with pytest.raises(ValueError, match="trunc_normal_: expected a <= b"):
        nn.init.trunc_normal_(cr.empty(3), a=1.0, b=0.0)
