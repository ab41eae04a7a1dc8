"""chainrule.distributions against torch.distributions: log_prob, entropy and moments with
their gradients, sample statistics from a fixed seed, and the validation errors."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import distributions as D
from helpers import assert_close, requires_torch, torch

pytestmark = requires_torch
TD = torch.distributions if torch is not None else None
TOL = dict(rtol=1e-9, atol=1e-10)


def _both(build, arrays, value=None, positive=()):
    """Build the same distribution in both frameworks from float64 parameter arrays."""
    cx = [cr.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    return (build(D, cx), cx), (build(TD, tx), tx)


def _check(build, arrays, stat, tol=TOL):
    """stat(dist, module) must agree in value and in gradient with respect to each parameter."""
    (cd, cx), (td, tx) = _both(build, arrays)
    cout, tout = stat(cd, cr), stat(td, torch)
    assert tuple(cout.shape) == tuple(tout.shape)
    assert_close(cout.detach().numpy(), tout.detach().numpy(), **tol)
    if not tout.requires_grad:
        return
    w = np.linspace(0.5, 1.5, tout.numel()).reshape(tuple(tout.shape))
    (cout * cr.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for c, t in zip(cx, tx):
        if t.grad is None:
            assert c.grad is None or not np.any(c.grad.numpy())
        else:
            assert_close(c.grad.numpy(), t.grad.numpy(), **tol)


LOC, SCALE = np.array([-1.5, 0.0, 2.0]), np.array([0.5, 1.0, 3.0])
VALUES = np.array([[0.3, -2.0, 30.0], [-1.5, 1e-3, 2.0]])
NORMAL = lambda m, p: m.Normal(p[0], p[1])
STATS = {
    "log_prob": lambda d, m: d.log_prob(m.tensor(VALUES)),
    "entropy": lambda d, m: d.entropy(),
    "mean": lambda d, m: d.mean * 1,
    "variance": lambda d, m: d.variance,
    "stddev": lambda d, m: d.stddev * 1,
}


@pytest.mark.parametrize("stat", sorted(STATS) + ["cdf", "icdf"])
def test_normal_statistics_and_their_gradients_match_torch(stat):
    fn = STATS.get(stat) or {"cdf": lambda d, m: d.cdf(m.tensor(VALUES)),
                             "icdf": lambda d, m: d.icdf(m.tensor([[0.1, 0.5, 0.999]]))}[stat]
    _check(NORMAL, [LOC, SCALE], fn, dict(rtol=1e-7, atol=1e-12) if "cdf" in stat else TOL)


def test_normal_log_prob_second_derivative_in_loc_is_minus_inverse_variance():
    loc = cr.tensor(LOC, requires_grad=True)
    lp = D.Normal(loc, cr.tensor(SCALE)).log_prob(cr.tensor(VALUES[0])).sum()
    (g,) = cr.autograd.grad(lp, loc, create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), loc)
    np.testing.assert_allclose(h.numpy(), -1 / SCALE ** 2, **TOL)


def test_normal_rsample_is_reparameterised_so_gradients_reach_loc_and_scale():
    cr.manual_seed(1)
    loc = cr.tensor(LOC, requires_grad=True)
    scale = cr.tensor(SCALE, requires_grad=True)
    s = D.Normal(loc, scale).rsample((50,))
    assert s.shape == (50, 3) and s.requires_grad
    s.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), np.full(3, 50.0))
    eps = (s.detach().numpy() - LOC) / SCALE
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0), rtol=1e-9, atol=1e-9)
    assert not D.Normal(loc, scale).sample((4,)).requires_grad


UNIFORM = lambda m, p: m.Uniform(p[0], p[1])
LOW, HIGH = np.array([-1.0, 0.0, 2.0]), np.array([1.0, 0.5, 30.0])
U_VALUES = np.array([[0.5, 0.25, 3.0], [-1.0, 0.0, 29.0]])


@pytest.mark.parametrize("stat", ["log_prob", "entropy", "mean", "variance", "stddev", "cdf"])
def test_uniform_statistics_and_their_gradients_match_torch(stat):
    fn = {"log_prob": lambda d, m: d.log_prob(m.tensor(U_VALUES)),
          "cdf": lambda d, m: d.cdf(m.tensor(U_VALUES))}.get(stat) or STATS[stat]
    _check(UNIFORM, [LOW, HIGH], fn)


def test_uniform_log_prob_outside_support_is_minus_inf_without_validation():
    u = D.Uniform(0.0, 1.0, validate_args=False)
    out = u.log_prob(cr.tensor([-0.5, 1.0, 0.5]))
    assert out.tolist() == TD.Uniform(0.0, 1.0, validate_args=False).log_prob(
        torch.tensor([-0.5, 1.0, 0.5])).tolist()


def test_uniform_rsample_gradient_flows_to_low_and_high():
    cr.manual_seed(2)
    low = cr.tensor(LOW, requires_grad=True)
    high = cr.tensor(HIGH, requires_grad=True)
    s = D.Uniform(low, high).rsample((40,))
    s.sum().backward()
    u = (s.detach().numpy() - LOW) / (HIGH - LOW)
    np.testing.assert_allclose(high.grad.numpy(), u.sum(0), rtol=1e-9)
    np.testing.assert_allclose(low.grad.numpy(), (1 - u).sum(0), rtol=1e-9)


P = np.array([0.1, 0.5, 0.93])
BIN_VALUES = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])


@pytest.mark.parametrize("param", ["probs", "logits"])
@pytest.mark.parametrize("stat", ["log_prob", "entropy", "mean", "variance", "probs", "logits"])
def test_bernoulli_statistics_and_their_gradients_match_torch(stat, param):
    arr = P if param == "probs" else np.log(P / (1 - P)) * 3
    build = lambda m, p: m.Bernoulli(**{param: p[0]})
    fn = {"log_prob": lambda d, m: d.log_prob(m.tensor(BIN_VALUES)),
          "probs": lambda d, m: d.probs * 1, "logits": lambda d, m: d.logits * 1}.get(stat) or STATS[stat]
    _check(build, [arr], fn)


CAT_P = np.array([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]])
CAT_VALUES = np.array([[0, 2], [1, 1], [2, 0]])


@pytest.mark.parametrize("param", ["probs", "logits"])
@pytest.mark.parametrize("stat", ["log_prob", "entropy", "probs", "logits"])
def test_categorical_statistics_and_their_gradients_match_torch(stat, param):
    arr = CAT_P * 3 if param == "probs" else np.log(CAT_P) + 1.5
    build = lambda m, p: m.Categorical(**{param: p[0]})
    fn = {"log_prob": lambda d, m: d.log_prob(m.tensor(CAT_VALUES)),
          "entropy": lambda d, m: d.entropy(),
          "probs": lambda d, m: d.probs * 1, "logits": lambda d, m: d.logits * 1}[stat]
    _check(build, [arr], fn)


def test_categorical_mean_and_variance_are_nan_and_mode_is_argmax():
    c = D.Categorical(probs=cr.tensor(CAT_P))
    assert np.isnan(c.mean.numpy()).all() and c.mean.shape == (2,)
    assert c.mode.tolist() == [2, 0]
    assert c.enumerate_support().tolist() == TD.Categorical(
        probs=torch.tensor(CAT_P)).enumerate_support().tolist()


MULTI_VALUES = np.array([[[1.0, 0.0, 3.0], [0.0, 4.0, 0.0]], [[2.0, 2.0, 0.0], [1.0, 1.0, 2.0]]])


@pytest.mark.parametrize("stat", ["log_prob", "entropy", "mean", "variance"])
def test_multinomial_statistics_and_their_gradients_match_torch(stat):
    build = lambda m, p: m.Multinomial(4, probs=p[0])
    fn = {"log_prob": lambda d, m: d.log_prob(m.tensor(MULTI_VALUES))}.get(stat) or STATS[stat]
    # PyTorch evaluates log(n!) of the integer count in float32: allow that rounding
    _check(build, [CAT_P * 2], fn, dict(rtol=1e-7, atol=1e-9) if stat == "entropy" else TOL)


def test_multinomial_log_prob_with_zero_probability_and_zero_count_is_finite():
    logits = [0.0, -math.inf, 1.0]
    ours = D.Multinomial(3, logits=cr.tensor(logits)).log_prob(cr.tensor([1.0, 0.0, 2.0]))
    ref = TD.Multinomial(3, logits=torch.tensor(logits)).log_prob(torch.tensor([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(ours.item(), ref.item(), rtol=4e-6)  # float32: a few ulp


SHAPES = {
    "normal": lambda m, t: m.Normal(t.zeros(2, 3), 1.0),
    "uniform": lambda m, t: m.Uniform(0.0, t.ones(4)),
    "bernoulli": lambda m, t: m.Bernoulli(probs=0.3),
    "categorical": lambda m, t: m.Categorical(logits=t.zeros(5, 2, 3)),
    "multinomial": lambda m, t: m.Multinomial(7, probs=t.ones(2, 6)),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_batch_event_and_sample_shapes_match_torch(name):
    ours, ref = SHAPES[name](D, cr), SHAPES[name](TD, torch)
    assert tuple(ours.batch_shape) == tuple(ref.batch_shape)
    assert tuple(ours.event_shape) == tuple(ref.event_shape)
    assert tuple(ours.sample().shape) == tuple(ref.sample().shape)
    assert tuple(ours.sample((4, 2)).shape) == tuple(ref.sample((4, 2)).shape)
    assert ours.sample().dtype.name == str(ref.sample().dtype)[6:]
    assert repr(ours) == repr(ref).replace("torch.", "chainrule.")


def _within(samples, mean, sd):
    """The sample mean is within 6 standard errors of the true mean (fixed seed)."""
    n = samples.shape[0]
    assert np.all(np.abs(samples.mean(0) - mean) <= 6 * sd / math.sqrt(n)), (samples.mean(0), mean)


def test_normal_and_uniform_sample_moments_match_the_distribution():
    cr.manual_seed(0)
    n = 20000
    s = D.Normal(cr.tensor(LOC), cr.tensor(SCALE)).sample((n,)).numpy()
    _within(s, LOC, SCALE)
    # (x - mu)^2 has mean sigma^2 and standard deviation sqrt(2) sigma^2
    _within((s - LOC) ** 2, SCALE ** 2, math.sqrt(2) * SCALE ** 2)
    u = D.Uniform(cr.tensor(LOW), cr.tensor(HIGH)).sample((n,)).numpy()
    _within(u, (LOW + HIGH) / 2, (HIGH - LOW) / math.sqrt(12))
    assert np.all(u >= LOW) and np.all(u < HIGH)


def test_discrete_sample_frequencies_match_the_probabilities():
    cr.manual_seed(0)
    n = 20000
    b = D.Bernoulli(probs=cr.tensor(P)).sample((n,)).numpy()
    _within(b, P, np.sqrt(P * (1 - P)))
    c = D.Categorical(probs=cr.tensor(CAT_P)).sample((n,)).numpy()
    assert c.dtype == np.int64 and c.min() >= 0 and c.max() <= 2
    onehot = np.eye(3)[c]
    _within(onehot, CAT_P, np.sqrt(CAT_P * (1 - CAT_P)))
    m = D.Multinomial(10, probs=cr.tensor(CAT_P)).sample((n,)).numpy()
    assert np.all(m.sum(-1) == 10)
    _within(m, 10 * CAT_P, np.sqrt(10 * CAT_P * (1 - CAT_P)))


def test_sampling_is_reproducible_under_manual_seed():
    dists = [D.Normal(0.0, 1.0), D.Uniform(0.0, 1.0), D.Bernoulli(probs=0.4),
             D.Categorical(probs=cr.ones(4)), D.Multinomial(5, probs=cr.ones(3))]
    cr.manual_seed(123)
    first = [d.sample((6,)).tolist() for d in dists]
    cr.manual_seed(123)
    assert [d.sample((6,)).tolist() for d in dists] == first


def test_d2l_dice_cumulative_estimates_converge_to_fair_probabilities():
    from chainrule.distributions import multinomial  # the import d2l writes
    cr.manual_seed(0)
    fair = cr.ones([6]) / 6
    one = multinomial.Multinomial(1, fair).sample()
    assert one.shape == (6,) and one.sum().item() == 1
    counts = D.Multinomial(10, fair).sample((500,))
    cum = counts.cumsum(dim=0)
    estimates = cum / cum.sum(dim=1, keepdims=True)
    assert estimates.shape == (500, 6)
    # 5000 rolls: each estimate's standard error is sqrt(p(1-p)/5000) ~ 0.0053
    assert np.all(np.abs(estimates[-1].numpy() - 1 / 6) < 6 * math.sqrt(5 / 36 / 5000))


def test_distribution_modules_have_pytorchs_names():
    from chainrule.distributions import bernoulli, categorical, normal, uniform
    assert (bernoulli.Bernoulli, categorical.Categorical, normal.Normal, uniform.Uniform) == (
        D.Bernoulli, D.Categorical, D.Normal, D.Uniform)
    assert issubclass(D.Normal, D.distribution.Distribution)


BAD = {
    "negative_scale": lambda m, t: m.Normal(t.tensor([0.0]), t.tensor([-1.0])),
    "low_above_high": lambda m, t: m.Uniform(1.0, 0.0),
    "probs_above_one": lambda m, t: m.Bernoulli(probs=t.tensor(1.5)),
    "negative_categorical_probs": lambda m, t: m.Categorical(probs=t.tensor([-1.0, 2.0])),
    "negative_multinomial_probs": lambda m, t: m.Multinomial(3, t.tensor([0.5, -0.1])),
    "uniform_value_outside": lambda m, t: m.Uniform(0.0, 1.0).log_prob(t.tensor(2.0)),
    "bernoulli_value_not_binary": lambda m, t: m.Bernoulli(probs=0.3).log_prob(t.tensor(0.5)),
    "categorical_value_too_big": lambda m, t: m.Categorical(probs=t.tensor([0.5, 0.5])).log_prob(t.tensor(3)),
    "neither_probs_nor_logits": lambda m, t: m.Bernoulli(),
    "both_probs_and_logits": lambda m, t: m.Categorical(probs=t.ones(2), logits=t.ones(2)),
    "zero_dim_categorical": lambda m, t: m.Categorical(probs=t.tensor(0.5)),
    "value_not_a_tensor": lambda m, t: m.Normal(0.0, 1.0).log_prob(0.5),
    "value_wrong_event_shape": lambda m, t: m.Multinomial(3, t.ones(3)).log_prob(t.ones(2)),
    "value_not_broadcastable": lambda m, t: m.Normal(t.zeros(3), 1.0).log_prob(t.zeros(2)),
    "tensor_total_count": lambda m, t: m.Multinomial(t.tensor(3), t.ones(3)),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_invalid_arguments_raise_torchs_error(case):
    with pytest.raises(Exception) as ref:
        BAD[case](TD, torch)
    with pytest.raises(type(ref.value)) as ours:
        BAD[case](D, cr)
    assert str(ours.value) == str(ref.value).replace("torch.", "chainrule.")


def test_set_default_validate_args_turns_validation_off_and_on():
    try:
        D.Distribution.set_default_validate_args(False)
        assert D.Normal(0.0, -1.0).scale.item() == -1.0
        D.Distribution.set_default_validate_args(True)
        with pytest.raises(ValueError, match="GreaterThan"):
            D.Normal(0.0, -1.0)
        assert D.Normal(0.0, -1.0, validate_args=False).scale.item() == -1.0
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError, match="True or False"):
        D.Distribution.set_default_validate_args("yes")


def test_sample_shape_given_as_an_int_is_a_clear_error():
    with pytest.raises(TypeError, match="sample_shape"):
        D.Normal(0.0, 1.0).sample(5)


def test_discrete_distributions_have_no_rsample():
    with pytest.raises(NotImplementedError, match="Bernoulli"):
        D.Bernoulli(probs=0.5).rsample()


KL = {
    "normal": (lambda m, p: (m.Normal(p[0], p[1]), m.Normal(p[1] - 1, p[1] * 2)), [LOC, SCALE]),
    "categorical": (lambda m, p: (m.Categorical(probs=p[0]), m.Categorical(logits=p[0] * -2)),
                    [CAT_P]),
    "bernoulli": (lambda m, p: (m.Bernoulli(probs=p[0]), m.Bernoulli(logits=p[0] * 3 - 1)), [P]),
    "uniform": (lambda m, p: (m.Uniform(p[0], p[1]), m.Uniform(p[0] - 1, p[1] + 0.5)), [LOW, HIGH]),
}


@pytest.mark.parametrize("pair", sorted(KL))
def test_kl_divergence_and_its_gradient_match_torch(pair):
    build, arrays = KL[pair]
    kl = {D: D.kl_divergence, TD: TD.kl_divergence}
    _check(lambda m, p: build(m, p), arrays, lambda pq, m: kl[D if m is cr else TD](*pq))


def test_kl_divergence_is_infinite_where_q_has_no_mass():
    ours = D.kl_divergence(D.Categorical(probs=cr.tensor([0.5, 0.5])),
                           D.Categorical(probs=cr.tensor([1.0, 0.0])))
    ref = TD.kl_divergence(TD.Categorical(probs=torch.tensor([0.5, 0.5])),
                           TD.Categorical(probs=torch.tensor([1.0, 0.0])))
    assert ours.item() == ref.item() == math.inf
    outside = D.kl_divergence(D.Uniform(0.0, 2.0), D.Uniform(0.0, 1.0))
    assert outside.item() == TD.kl_divergence(TD.Uniform(0.0, 2.0), TD.Uniform(0.0, 1.0)).item()


def test_unsupported_pairs_and_distributions_are_named():
    with pytest.raises(NotImplementedError, match="between Normal and Bernoulli"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(probs=0.5))
    with pytest.raises(AttributeError, match=r"chainrule does not support torch\.distributions\.Beta"):
        D.Beta
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
        D.NoSuchThing


EXPAND = {
    "normal": (lambda m, t: m.Normal(t.tensor([0.0, 1.0]), 2.0), (3, 2)),
    "uniform": (lambda m, t: m.Uniform(0.0, 1.0), (4,)),
    "bernoulli": (lambda m, t: m.Bernoulli(logits=t.tensor([0.5])), (2, 3)),
    "categorical": (lambda m, t: m.Categorical(probs=t.tensor([0.2, 0.8])), (3,)),
    "multinomial": (lambda m, t: m.Multinomial(4, probs=t.tensor([[0.2, 0.3, 0.5]])), (2, 1)),
}


@pytest.mark.parametrize("name", sorted(EXPAND))
def test_expand_broadcasts_the_batch_like_torch(name):
    build, shape = EXPAND[name]
    ours, ref = build(D, cr).expand(shape), build(TD, torch).expand(shape)
    assert tuple(ours.batch_shape) == tuple(ref.batch_shape) == shape
    assert tuple(ours.event_shape) == tuple(ref.event_shape)
    assert tuple(ours.sample((5,)).shape) == tuple(ref.sample((5,)).shape)
    value = ref.sample()
    np.testing.assert_allclose(ours.log_prob(cr.tensor(value.numpy())).numpy(),
                               ref.log_prob(value).numpy(), rtol=4e-6)
    if name != "multinomial":  # PyTorch's expanded Multinomial loses what entropy() needs
        np.testing.assert_allclose(ours.entropy().numpy(), ref.entropy().numpy(), rtol=4e-6)
    else:
        assert ours.entropy().shape == shape


def test_expand_keeps_the_gradient_path_and_refuses_incompatible_shapes():
    loc = cr.tensor([0.5], requires_grad=True)
    D.Normal(loc, 1.0).expand((4,)).log_prob(cr.zeros(4)).sum().backward()
    assert loc.grad.tolist() == [-2.0]  # four copies, each d/d loc = (0 - 0.5) / 1
    with pytest.raises(RuntimeError):
        D.Normal(cr.zeros(3), 1.0).expand((4,))
