"""Multi-tensor steps (optim/flat.py): a whole parameter group stepped at once must give
exactly the per-parameter step, and every way of breaking the flat layout must fall back
without changing a number."""
import numpy as np
import pytest

import chainrule as cr
from helpers import assert_close, requires_torch, torch
from test_optim import CASES, TOL, _loss, _problem


def _params(data, lib=cr):
    return [lib.tensor(data[k], requires_grad=True) for k in "wb"]


def _train(opt, w, b, data, steps, lib=cr):
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib, w, b, data).backward()
        opt.step()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_group_step_is_bit_identical_to_per_parameter_step(name, kwargs, dtype):
    data = _problem(dtype)
    runs = []
    for elementwise in (True, False):
        w, b = _params(data)
        opt = getattr(cr.optim, name)([w, b], **kwargs)
        opt._elementwise = elementwise
        _train(opt, w, b, data, 6)
        assert bool(opt._flat_groups) == elementwise
        runs.append((w, b, opt))
    (w1, b1, o1), (w2, b2, o2) = runs
    assert np.array_equal(w1.detach().numpy(), w2.detach().numpy())
    assert np.array_equal(b1.detach().numpy(), b2.detach().numpy())
    s1, s2 = o1.state_dict()["state"], o2.state_dict()["state"]
    for i in s2:
        for key in s2[i]:
            assert s1[i][key].shape == s2[i][key].shape
            assert np.array_equal(s1[i][key].numpy(), s2[i][key].numpy()), (i, key)


def test_per_parameter_state_reads_as_views_with_each_parameters_shape():
    data = _problem(np.float32)
    w, b = _params(data)
    opt = cr.optim.Adam([w, b], lr=0.1)
    _train(opt, w, b, data, 2)
    assert opt.state[w]["exp_avg"].shape == w.shape
    assert opt.state[b]["exp_avg_sq"].shape == b.shape
    assert float(opt.state[w]["step"]) == float(opt.state[b]["step"]) == 2.0


@requires_torch
def test_parameter_without_gradient_in_one_step_keeps_its_own_step_count_like_torch():
    data = _problem(np.float64)
    (cw, cb), (tw, tb) = _params(data), _params(data, torch)
    copt, topt = cr.optim.Adam([cw, cb], lr=0.05), torch.optim.Adam([tw, tb], lr=0.05)
    for step in range(6):
        for lib, opt, w, b in ((cr, copt, cw, cb), (torch, topt, tw, tb)):
            opt.zero_grad()
            loss = _loss(lib, w, b, data) if step != 2 else (lib.tensor(data["x"]) @ w).sum()
            loss.backward()
            opt.step()
        for c, t in ((cw, tw), (cb, tb)):
            assert_close(c.detach().numpy(), t.detach().numpy(), **TOL[np.float64])
    assert float(copt.state[cb]["step"]) == float(topt.state[tb]["step"]) == 5.0
    assert float(copt.state[cw]["step"]) == 6.0


@requires_torch
def test_loading_state_then_stepping_continues_like_torch():
    data = _problem(np.float64)
    (cw, cb), (tw, tb) = _params(data), _params(data, torch)
    copt = cr.optim.RMSprop([cw, cb], lr=0.01, momentum=0.5, centered=True)
    topt = torch.optim.RMSprop([tw, tb], lr=0.01, momentum=0.5, centered=True)
    _train(copt, cw, cb, data, 3)
    _train(topt, tw, tb, data, 3, torch)
    fresh = cr.optim.RMSprop([cw, cb], lr=0.01, momentum=0.5, centered=True)
    fresh.load_state_dict(copt.state_dict())
    _train(fresh, cw, cb, data, 3)
    _train(topt, tw, tb, data, 3, torch)
    assert_close(cw.detach().numpy(), tw.detach().numpy(), **TOL[np.float64])
    assert_close(cb.detach().numpy(), tb.detach().numpy(), **TOL[np.float64])


@requires_torch
def test_replacing_parameter_data_between_steps_is_respected():
    data = _problem(np.float64)
    (cw, cb), (tw, tb) = _params(data), _params(data, torch)
    copt, topt = cr.optim.SGD([cw, cb], lr=0.1, momentum=0.9), torch.optim.SGD([tw, tb], lr=0.1, momentum=0.9)
    _train(copt, cw, cb, data, 2)
    _train(topt, tw, tb, data, 2, torch)
    cw.data = cr.zeros(4, 3, dtype=cr.float64)
    tw.data = torch.zeros(4, 3, dtype=torch.float64)
    with cr.no_grad():
        cb.clamp_(-0.1, 0.1)
    with torch.no_grad():
        tb.clamp_(-0.1, 0.1)
    _train(copt, cw, cb, data, 3)
    _train(topt, tw, tb, data, 3, torch)
    assert_close(cw.detach().numpy(), tw.detach().numpy(), **TOL[np.float64])
    assert_close(cb.detach().numpy(), tb.detach().numpy(), **TOL[np.float64])


def test_mixed_dtypes_in_one_group_take_the_per_parameter_path():
    w = cr.randn(3, 2, requires_grad=True)
    b = cr.randn(2, dtype=cr.float64, requires_grad=True)
    opt = cr.optim.Adam([w, b], lr=0.1)
    (w.sum() + b.sum()).backward()
    opt.step()
    assert not opt._flat_groups
    assert w.dtype == cr.float32 and b.dtype == cr.float64


def test_large_group_steps_per_parameter_where_copies_would_cost_more():
    from chainrule.optim import flat
    w = cr.zeros(flat.MAX_ELEMENTS, requires_grad=True)
    b = cr.zeros(3, requires_grad=True)
    opt = cr.optim.SGD([w, b], lr=0.1)
    (w.sum() + b.sum()).backward()
    opt.step()
    assert not opt._flat_groups
    assert float(w[0]) == float(b[0]) == float(np.float32(-0.1))


@requires_torch
@pytest.mark.parametrize("name,kwargs", [("Adam", dict(lr=0.1)), ("SGD", dict(lr=0.5, momentum=0.9))])
def test_group_with_an_empty_parameter_and_float16_steps_like_torch(name, kwargs):
    results = []
    for lib in (cr, torch):
        empty = lib.zeros(0, 3, dtype=lib.float16, requires_grad=True)
        h = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float16, requires_grad=True)
        opt = getattr(lib.optim, name)([empty, h], **kwargs)
        for _ in range(3):
            opt.zero_grad()
            (empty.sum() + (h * h).sum()).backward()
            opt.step()
        results.append((tuple(empty.shape), h.detach().numpy().astype(np.float64)))
    assert results[0][0] == results[1][0] == (0, 3)
    assert_close(results[0][1], results[1][1], rtol=2e-3, atol=2e-3)
