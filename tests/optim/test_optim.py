"""Optimizers against torch.optim: same problem, same hyperparameters, parameters compared
after every step; plus state_dict resume, param groups and error messages."""
import copy
import pickle

import numpy as np
import pytest

import chainrule as cr
from helpers import assert_close, requires_torch, torch

# rtol, and atol per unit of the compared values' scale: a parameter that ends near zero
# among others of size ~1 carries their rounding error, which differs between CPUs
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-11, atol=1e-12)}

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, maximize=True, weight_decay=0.05)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.8)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, maximize=True)),
]


def _problem(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return dict(w=rng.normal(size=(4, 3)).astype(dtype), b=rng.normal(size=3).astype(dtype),
                x=rng.normal(size=(8, 4)).astype(dtype), y=rng.normal(size=(8, 3)).astype(dtype),
                q=rng.uniform(0.5, 2.0, size=3).astype(dtype))


def _loss(lib, w, b, data):
    # a linear least-squares term plus a quadratic one, so every parameter gets a gradient
    pred = lib.tensor(data["x"]) @ w + b
    return ((pred - lib.tensor(data["y"])) ** 2).mean() + (lib.tensor(data["q"]) * b * b).sum()


def _run_both(name, kwargs, dtype, steps=10):
    data = _problem(dtype)
    cw, cb = (cr.tensor(data[k], requires_grad=True) for k in "wb")
    tw, tb = (torch.tensor(data[k], requires_grad=True) for k in "wb")
    copt = getattr(cr.optim, name)([cw, cb], **kwargs)
    topt = getattr(torch.optim, name)([tw, tb], **kwargs)
    for step in range(steps):
        for lib, opt, w, b in ((cr, copt, cw, cb), (torch, topt, tw, tb)):
            opt.zero_grad()
            _loss(lib, w, b, data).backward()
            opt.step()
        for c, t in ((cw, tw), (cb, tb)):
            assert c.dtype.name == str(t.dtype).replace("torch.", "")
            assert_close(c.detach().numpy(), t.detach().numpy(),
                         err_msg=f"{name} {kwargs} step {step}", **TOL[dtype])
    return copt, topt


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_matches_torch_step_by_step(name, kwargs, dtype):
    copt, topt = _run_both(name, kwargs, dtype)
    cstate, tstate = copt.state_dict(), topt.state_dict()
    assert set(cstate["state"]) == set(tstate["state"])
    for i in tstate["state"]:
        assert set(cstate["state"][i]) == set(tstate["state"][i])
        for k, v in tstate["state"][i].items():
            assert_close(np.asarray(cstate["state"][i][k]), v.numpy(), **TOL[dtype])
    assert [g["params"] for g in cstate["param_groups"]] == [g["params"] for g in tstate["param_groups"]]


@pytest.mark.parametrize("name,kwargs", CASES[:: 3])
def test_float32_stays_float32_and_version_bumps(name, kwargs):
    w = cr.tensor(np.ones(5, np.float32), requires_grad=True)
    opt = getattr(cr.optim, name)([w], **dict(kwargs, lr=np.float64(0.01)))
    for _ in range(2):
        version = w._version[0]
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        assert w._version[0] > version
    assert w._data.dtype == np.float32
    assert all(v._data.dtype in (np.float32,) for v in opt.state[w].values())


@pytest.mark.parametrize("name,kwargs", [CASES[2], CASES[9], CASES[17]])
def test_state_dict_resume_is_bit_identical(name, kwargs):
    data = _problem(np.float32, seed=3)

    def make():
        w, b = (cr.tensor(data[k], requires_grad=True) for k in "wb")
        return w, b, getattr(cr.optim, name)([w, b], **kwargs)

    def train(w, b, opt, n):
        for _ in range(n):
            opt.zero_grad()
            _loss(cr, w, b, data).backward()
            opt.step()

    w, b, opt = make()
    train(w, b, opt, 4)
    saved = pickle.loads(pickle.dumps((w.detach().numpy().copy(), b.detach().numpy().copy(),
                                       opt.state_dict())))
    train(w, b, opt, 5)
    w2, b2, opt2 = make()
    w2._data[...] = saved[0]
    b2._data[...] = saved[1]
    opt2.load_state_dict(saved[2])
    train(w2, b2, opt2, 5)
    assert np.array_equal(w._data, w2._data) and np.array_equal(b._data, b2._data)


def test_load_state_dict_copies_and_keeps_hyperparameters():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)
    (w * w).sum().backward()
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    sd["param_groups"][0]["lr"] = 0.5
    w2 = cr.tensor([1.0, 2.0], requires_grad=True)
    opt2 = cr.optim.SGD([w2], lr=0.1, momentum=0.9)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.5 and opt2.param_groups[0]["params"][0] is w2
    assert opt2.state[w2]["momentum_buffer"]._data is not sd["state"][0]["momentum_buffer"]._data
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt2.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt2.load_state_dict({"state": {}, "param_groups": [{"lr": 1, "params": [0, 1]}]})


@requires_torch
def test_param_groups_with_weight_decay_match_torch():
    data = _problem(np.float64, seed=1)
    cw, cb = (cr.tensor(data[k], requires_grad=True) for k in "wb")
    tw, tb = (torch.tensor(data[k], requires_grad=True) for k in "wb")
    copt = cr.optim.SGD([{"params": cw, "weight_decay": 3}, {"params": cb}], lr=0.01)
    topt = torch.optim.SGD([{"params": tw, "weight_decay": 3}, {"params": tb}], lr=0.01)
    for lib, opt, w, b in ((cr, copt, cw, cb), (torch, topt, tw, tb)):
        for _ in range(5):
            opt.zero_grad()
            _loss(lib, w, b, data).backward()
            opt.step()
    np.testing.assert_allclose(cw.detach().numpy(), tw.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(cb.detach().numpy(), tb.detach().numpy(), rtol=1e-12)
    assert copt.param_groups[0]["weight_decay"] == 3 and copt.param_groups[1]["weight_decay"] == 0


def test_add_param_group_and_zero_grad():
    a = cr.tensor([1.0], requires_grad=True)
    b = cr.tensor([2.0], requires_grad=True)
    opt = cr.optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    (a * b).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and a.grad.item() == 0.0
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    opt.step()  # no gradients: nothing changes, no state is created
    assert a.item() == 1.0 and len(opt.state) == 0
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_closure_is_called_and_its_loss_returned():
    w = cr.tensor([3.0], requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    assert w.item() == pytest.approx(1.5)


@pytest.mark.parametrize("make,message", [
    (lambda p: cr.optim.SGD([], lr=0.1), "optimizer got an empty parameter list"),
    (lambda p: cr.optim.SGD([p], lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda p: cr.optim.SGD([p], momentum=-1), "Invalid momentum value: -1"),
    (lambda p: cr.optim.SGD([p], weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: cr.optim.SGD([p], nesterov=True), "Nesterov momentum requires a momentum"),
    (lambda p: cr.optim.Adam([p], betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: cr.optim.Adam([p], betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    (lambda p: cr.optim.Adam([p], eps=-1e-8), "Invalid epsilon value"),
    (lambda p: cr.optim.AdamW([p], weight_decay=-0.5), "Invalid weight_decay value"),
    (lambda p: cr.optim.RMSprop([p], alpha=-0.5), "Invalid alpha value"),
    (lambda p: cr.optim.SGD([{"params": p}, {"params": [p]}]), "more than one parameter group"),
    (lambda p: cr.optim.SGD([p, p]), "duplicate parameters"),
    (lambda p: cr.optim.SGD([p * 2]), "can't optimize a non-leaf Tensor"),
    (lambda p: cr.optim.SGD([cr.tensor([1, 2])]), "floating point dtype"),
    (lambda p: cr.optim.SGD(p), "should be an iterable of Tensors"),
    (lambda p: cr.optim.SGD([1.0]), "optimizer can only optimize Tensors"),
])
def test_errors(make, message):
    p = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises((ValueError, TypeError), match=message):
        make(p)


def test_params_may_be_a_generator_and_repr_lists_groups():
    ws = [cr.tensor([1.0], requires_grad=True) for _ in range(3)]
    opt = cr.optim.RMSprop((w for w in ws), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 3
    assert "Parameter Group 0" in repr(opt) and "lr: 0.1" in repr(opt)
