"""Adam's kept fused step (optim/fused_step.py): stepping the same arrays again goes
through one written-out test and the loop. Each test compares with an optimizer whose
gradients are new arrays every step (the regular fused path) or with the NumPy path,
bit for bit, after the change the kept step must notice; and the flat group's test
(FlatGroup.intact) refuses a gradient of another shape instead of reading past it."""
import copy
import pickle

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.optim import fused_step
from helpers import cross_entropy_train_step

pytest.importorskip("numba")
SHAPES = [(4, 3), (3,), (2, 4), (2,)]


def _params(seed=0, shapes=SHAPES, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [cr.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
            for s in shapes]


def _grads(rng, shapes=SHAPES, dtype=np.float32):
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


class Twins:
    """Two Adams on equal parameters and gradients: `kept` writes each gradient into the
    same arrays (so its step is kept), `plain` gets new arrays every step (the regular
    path; fused=False: the NumPy path)."""

    def __init__(self, fused=True, shapes=SHAPES, dtype=np.float32, opt="Adam", **kwargs):
        self.rng = np.random.default_rng(1)
        self.shapes, self.dtype = shapes, dtype
        self.kept_params, self.plain_params = _params(0, shapes, dtype), _params(0, shapes, dtype)
        make = getattr(cr.optim, opt)
        self.kept = make(self.kept_params, lr=0.01, fused=True, **kwargs)
        self.plain = make(self.plain_params, lr=0.01, fused=fused, **kwargs)
        for p in self.kept_params:
            p.grad = cr.zeros_like(p)

    def step(self, n=1, edit=None):
        """`edit(grads)`: changes the step's gradients (both twins) before they are set."""
        for _ in range(n):
            grads = _grads(self.rng, self.shapes, self.dtype)
            if edit is not None:
                edit(grads)
            for p, q, g in zip(self.kept_params, self.plain_params, grads):
                np.copyto(p.grad._data, g)  # the same array, as a replay leaves it
                q.grad = cr.tensor(g.copy())
            self.kept.step()
            self.plain.step()

    def assert_same(self):
        for p, q in zip(self.kept_params, self.plain_params):
            assert p._data.tobytes() == q._data.tobytes()
        a, b = self.kept.state_dict()["state"], self.plain.state_dict()["state"]
        assert a.keys() == b.keys()
        for i in a:
            for key in ("exp_avg", "exp_avg_sq", "step"):
                assert a[i][key].numpy().tobytes() == b[i][key].numpy().tobytes()


def _count_kept_steps(monkeypatch):
    used = []
    original = fused_step.FusedStep.__call__

    def counted(self, opt):
        done = original(self, opt)
        used.append(done)
        return done
    monkeypatch.setattr(fused_step.FusedStep, "__call__", counted)
    return used


def test_a_kept_step_gives_the_regular_paths_bits_and_is_used(monkeypatch):
    used = _count_kept_steps(monkeypatch)
    twins = Twins()
    twins.step(12)
    twins.assert_same()
    assert sum(used) >= 9  # kept from the second step on; the first steps regular


def test_a_kept_step_gives_the_numpy_paths_bits():
    twins = Twins(fused=False)
    twins.step(12)
    twins.assert_same()


def test_a_kept_step_reads_the_groups_hyperparameters_each_step():
    twins = Twins()
    twins.step(4)
    for opt in (twins.kept, twins.plain):
        opt.param_groups[0]["lr"] = 0.003
        opt.param_groups[0]["betas"] = (0.8, 0.99)
    twins.step(4)
    twins.assert_same()


KEPT_AGAIN = ("state entry replaced", "state loaded", "parameter data", "maximize",
              "weight decay", "groups list")
LAID_OUT_AGAIN = ("parameter appended", "group added")  # per-parameter steps from then on


@pytest.mark.parametrize("change", KEPT_AGAIN + LAID_OUT_AGAIN)
def test_a_kept_step_notices_each_change_and_steps_as_the_regular_path(change, monkeypatch):
    used = _count_kept_steps(monkeypatch)
    twins = Twins()
    twins.step(4)
    assert any(used)
    extra = [cr.tensor(np.ones(3, np.float32), requires_grad=True) for _ in range(2)]
    for opt, params, new in ((twins.kept, twins.kept_params, extra[0]),
                             (twins.plain, twins.plain_params, extra[1])):
        group = opt.param_groups[0]
        if change == "state entry replaced":
            st = opt.state[params[0]]
            st["exp_avg"] = cr.tensor(st["exp_avg"].numpy() * 2)
        elif change == "state loaded":
            sd = opt.state_dict()
            sd["state"][1]["exp_avg_sq"] = sd["state"][1]["exp_avg_sq"] * 3
            opt.load_state_dict(sd)
        elif change == "parameter data":
            params[2].data = cr.tensor(params[2]._data + 1)
        elif change == "maximize":
            group["maximize"] = True
        elif change == "weight decay":
            group["weight_decay"] = 0.1
        elif change == "parameter appended":
            group["params"].append(new)
            new.grad = cr.ones_like(new)
        elif change == "group added":
            opt.add_param_group({"params": [new]})
            new.grad = cr.ones_like(new)
        else:
            opt.param_groups = [dict(group, params=list(group["params"]))]
    used.clear()
    twins.step(3)
    twins.assert_same()
    for p, q in zip(extra, extra[1:]):
        assert p._data.tobytes() == q._data.tobytes()
    assert any(used) == (change in KEPT_AGAIN)


def test_a_kept_step_in_a_compiled_step_gives_eagers_weights():
    """Two recordings (a full batch and a shorter last one) keep a step each."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((70, 5)).astype(np.float32)
    y = rng.integers(0, 3, 70)

    def model():
        cr.manual_seed(0)
        net = cr.nn.Sequential(cr.nn.Linear(5, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
        return net, cr.optim.Adam(net.parameters(), lr=0.01)

    (a, oa), (b, ob) = model(), model()
    compiled = cr.compile(cross_entropy_train_step(a, oa), mode="max-autotune")
    eager = cross_entropy_train_step(b, ob)
    ob._fused_loops = True  # the same loop, reached by the regular path every step
    tX, ty = cr.from_numpy(X), cr.from_numpy(y)
    for _ in range(6):
        for i in range(0, 70, 32):
            compiled(tX[i:i + 32], ty[i:i + 32])
            eager(tX[i:i + 32], ty[i:i + 32])
    assert len(oa._fused_steps) == 2
    for p, q in zip(a.parameters(), b.parameters()):
        assert p._data.tobytes() == q._data.tobytes()


def test_a_kept_step_after_a_gradient_is_replaced_by_another_array():
    twins = Twins()
    twins.step(3)
    twins.kept_params[1].grad = cr.zeros(3)  # another array: the regular path again
    twins.step(3)
    twins.assert_same()


@pytest.mark.parametrize("fused", [True, False])
def test_a_gradient_of_another_shape_is_refused_naming_both_shapes(fused):
    params = _params()
    opt = cr.optim.Adam(params, lr=0.1, fused=fused)
    for _ in range(3):
        for p in params:
            p.grad = cr.ones_like(p)
        opt.step()
    before = [p._data.copy() for p in params]
    params[0].grad = cr.ones(2, 3)  # as many rows as... fewer than the parameter's 4
    with pytest.raises(RuntimeError, match=r"gradient of shape \(2, 3\) does not match "
                                           r"its parameter of shape \(4, 3\)"):
        opt.step()
    assert all(np.array_equal(p._data, b) for p, b in zip(params, before))


@pytest.mark.parametrize("fused", [True, False])
def test_an_unpickled_adam_reports_the_moments_it_steps_with(fused):
    """The flat group's arrays are not saved with the optimizer: after loading, its
    state is laid out again from the per-parameter entries, so `state_dict()` reads the
    moments the steps use (they were copies, left behind, before)."""
    def train(net, opt, n):
        for _ in range(n):
            opt.zero_grad()
            net(x).pow(2).mean().backward()
            opt.step()
    cr.manual_seed(0)
    net = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.ReLU(), cr.nn.Linear(4, 2))
    opt = cr.optim.Adam(net.parameters(), lr=0.01, fused=fused)
    x = cr.randn(5, 3)
    train(net, opt, 3)
    for net2, opt2 in (pickle.loads(pickle.dumps((net, opt))), copy.deepcopy((net, opt))):
        train(net2, opt2, 2)
        reference = copy.deepcopy((net, opt))
        train(*reference, 2)
        for key in ("exp_avg", "exp_avg_sq", "step"):
            assert (opt2.state_dict()["state"][0][key].numpy().tobytes()
                    == reference[1].state_dict()["state"][0][key].numpy().tobytes())
        for p, q in zip(net2.parameters(), reference[0].parameters()):
            assert p._data.tobytes() == q._data.tobytes()


def test_kept_steps_match_torch_adam():
    twins = Twins()
    tparams = [torch.tensor(p._data, requires_grad=True) for p in _params()]
    topt = torch.optim.Adam(tparams, lr=0.01)
    rng = np.random.default_rng(1)
    for _ in range(10):
        grads = _grads(rng)
        for p, g in zip(twins.kept_params, grads):
            np.copyto(p.grad._data, g)
        for p, g in zip(tparams, grads):
            p.grad = torch.tensor(g)
        twins.kept.step()
        topt.step()
    for p, q in zip(twins.kept_params, tparams):
        np.testing.assert_allclose(p._data, q.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_a_kept_step_past_float32s_exact_counts_counts_as_float32_does():
    """The step counter is float32, as PyTorch's: past 2**24 adding 1 leaves it."""
    twins = Twins()
    twins.step(3)
    for opt in (twins.kept, twins.plain):
        sd = opt.state_dict()
        for st in sd["state"].values():
            st["step"] = cr.tensor(np.float32(2 ** 24 - 2))
        opt.load_state_dict(sd)
    twins.step(5)
    twins.assert_same()
    assert float(twins.kept.state_dict()["state"][0]["step"]) == 2.0 ** 24


def test_a_kept_step_with_a_gradient_set_to_none_steps_the_others_as_the_regular_path(
        monkeypatch):
    twins = Twins()
    twins.step(4)
    used = _count_kept_steps(monkeypatch)
    twins.kept_params[1].grad = twins.plain_params[1].grad = None
    grads = _grads(np.random.default_rng(5))
    for k, g in enumerate(grads):
        if k != 1:
            np.copyto(twins.kept_params[k].grad._data, g)  # the kept arrays, but one None
            twins.plain_params[k].grad = cr.tensor(g.copy())
    twins.kept.step()
    twins.plain.step()
    assert used == [False]
    twins.assert_same()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opt, kwargs", [("Adam", {}), ("AdamW", {"weight_decay": 0.1}),
                                         ("Adam", {"weight_decay": 0.05, "maximize": True})])
def test_a_kept_step_of_each_option_and_dtype_gives_the_numpy_paths_bits(
        dtype, opt, kwargs, monkeypatch):
    used = _count_kept_steps(monkeypatch)
    twins = Twins(fused=False, dtype=dtype, opt=opt, **kwargs)
    twins.step(8)
    twins.assert_same()
    assert sum(used) >= 5


def test_a_kept_step_with_0d_and_empty_parameters_gives_the_numpy_paths_bits(monkeypatch):
    used = _count_kept_steps(monkeypatch)
    twins = Twins(fused=False, shapes=[(), (0,), (3, 2), (0, 4), (1,)])
    twins.step(8)
    twins.assert_same()
    assert sum(used) >= 5


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e30, -3e38])
def test_a_kept_step_meeting_a_nan_or_extreme_gradient_steps_as_numpy_does(value, monkeypatch):
    """The loop declines where a value would be NaN (which of two NaNs a result carries is
    NumPy's to decide); the kept step then hands over to the regular path, which runs
    NumPy's calls. Steps before and after are kept steps."""
    used = _count_kept_steps(monkeypatch)
    twins = Twins(fused=False)
    twins.step(4)

    def poison(grads):
        grads[0][1, 2] = value
        grads[2][0, 0] = -value
    twins.step(1, edit=poison)
    twins.step(4)
    twins.assert_same()
    assert any(used)
