"""Learning-rate schedules against torch.optim.lr_scheduler, epoch by epoch, plus
state_dict round trips and errors."""
import math
import pickle

import numpy as np
import pytest

import chainrule as cr
from helpers import requires_torch, torch

SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=6, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=4)),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e / (1 + e))),
]


def _pair(opt_name="SGD", groups=2, **kwargs):
    cps = [cr.tensor([1.0], requires_grad=True) for _ in range(groups)]
    tps = [torch.tensor([1.0], requires_grad=True) for _ in range(groups)]
    lrs = [0.1 * (i + 1) for i in range(groups)]
    copt = getattr(cr.optim, opt_name)([{"params": [p], "lr": lr} for p, lr in zip(cps, lrs)], **kwargs)
    topt = getattr(torch.optim, opt_name)([{"params": [p], "lr": lr} for p, lr in zip(tps, lrs)], **kwargs)
    return copt, topt


@requires_torch
@pytest.mark.parametrize("name,kwargs", SCHEDULES, ids=[s[0] + str(i) for i, s in enumerate(SCHEDULES)])
def test_matches_torch_epoch_by_epoch(name, kwargs):
    copt, topt = _pair()
    csched = getattr(cr.optim.lr_scheduler, name)(copt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for epoch in range(20):
        assert csched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12), epoch
        assert [g["lr"] for g in copt.param_groups] == pytest.approx(
            [g["lr"] for g in topt.param_groups], rel=1e-12)
        copt.step()
        topt.step()
        csched.step()
        tsched.step()


@requires_torch
@pytest.mark.parametrize("kwargs", [
    dict(mode="min", factor=0.5, patience=2),
    dict(mode="max", factor=0.2, patience=1, threshold=0.1, threshold_mode="abs", cooldown=2),
    dict(mode="min", factor=0.5, patience=0, min_lr=[0.02, 0.05], threshold_mode="rel"),
    dict(mode="max", patience=0, threshold=0.05, min_lr=0.01),
])
def test_reduce_on_plateau_matches_torch(kwargs):
    copt, topt = _pair()
    csched = cr.optim.lr_scheduler.ReduceLROnPlateau(copt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    metrics = np.random.default_rng(0).normal(size=30).cumsum() * 0.1
    for epoch, m in enumerate(metrics):
        csched.step(cr.tensor(float(m)))
        tsched.step(float(m))
        assert csched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12), epoch
        assert csched.num_bad_epochs == tsched.num_bad_epochs
    assert csched.get_last_lr() != [0.1, 0.2]  # the run did reduce


@pytest.mark.parametrize("name,kwargs", SCHEDULES[:5])
def test_state_dict_resumes_schedule(name, kwargs):
    def make():
        w = cr.tensor([1.0], requires_grad=True)
        opt = cr.optim.SGD([w], lr=0.1)
        return opt, getattr(cr.optim.lr_scheduler, name)(opt, **kwargs)

    opt, sched = make()
    for _ in range(4):
        opt.step()
        sched.step()
    saved = pickle.loads(pickle.dumps((opt.state_dict(), sched.state_dict())))
    expected = []
    for _ in range(6):
        opt.step()
        sched.step()
        expected.append(sched.get_last_lr()[0])
    opt2, sched2 = make()
    opt2.load_state_dict(saved[0])
    sched2.load_state_dict(saved[1])
    got = []
    for _ in range(6):
        opt2.step()
        sched2.step()
        got.append(sched2.get_last_lr()[0])
    assert got == expected


def test_lambda_lr_state_dict_skips_plain_functions_but_keeps_callable_objects():
    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.n)

    w = cr.tensor([1.0], requires_grad=True)
    opt = cr.optim.SGD([{"params": [w]}, {"params": [cr.tensor([1.0], requires_grad=True)]}], lr=1.0)
    sched = cr.optim.lr_scheduler.LambdaLR(opt, [Warmup(4), lambda e: 0.5])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"n": 4}, None]
    state["lr_lambdas"] = [{"n": 2}, None]
    sched.load_state_dict(state)
    sched.step()
    assert sched.get_last_lr() == [1.0, 0.5]
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        cr.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1.0])


def test_cosine_reaches_eta_min_at_t_max():
    opt = cr.optim.SGD([cr.tensor([1.0], requires_grad=True)], lr=1.0)
    sched = cr.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.1)
    for _ in range(10):
        sched.step()
    assert sched.get_last_lr()[0] == pytest.approx(0.1)
    assert opt.param_groups[0]["initial_lr"] == 1.0


def test_step_with_epoch_uses_closed_form_and_warns():
    opt = cr.optim.SGD([cr.tensor([1.0], requires_grad=True)], lr=1.0)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(5)
    assert sched.get_last_lr()[0] == pytest.approx(0.01)


def test_errors():
    opt = cr.optim.SGD([cr.tensor([1.0], requires_grad=True)], lr=1.0)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        cr.optim.lr_scheduler.StepLR([], step_size=1)
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        cr.optim.lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        cr.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode sideways is unknown"):
        cr.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="sideways")
    with pytest.raises(ValueError, match="expected 1 min_lrs, got 2"):
        cr.optim.lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])
    fresh = cr.optim.SGD([cr.tensor([1.0], requires_grad=True)], lr=1.0)
    with pytest.raises(KeyError, match="initial_lr"):
        cr.optim.lr_scheduler.ExponentialLR(fresh, gamma=0.5, last_epoch=3)
    assert math.isfinite(opt.param_groups[0]["lr"])
