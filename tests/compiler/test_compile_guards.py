"""chainrule.compile guards every Python value a recording read: a replay gives eager's
answer, or the call records again, or it runs eagerly with one warning saying why."""
import random
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn
from helpers import replaying as _replaying


def _same(got, want):
    if isinstance(want, chainrule.Tensor):
        assert got.dtype == want.dtype and got._data.tobytes() == want._data.tobytes()
    else:
        assert type(got) is type(want) and got == want


def _agree(fn, calls, *, seed=None):
    """`calls` is a list of (before, args): `before()` changes Python state, then the
    compiled and the eager function run with the same state (and the same seed)."""
    compiled = chainrule.compile(fn)
    for before, args in calls:
        if before is not None:
            before()
        results = []
        for f in (compiled, fn):
            if seed is not None:
                chainrule.manual_seed(seed)
            results.append(f(*args))
        _same(*results)
    return compiled


def _x(k=1.0):
    return chainrule.tensor([1.5, -2.0, 3.25]) * k


def _quiet_agree(fn, calls, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return _agree(fn, calls, **kw)


def test_a_loss_scale_in_a_closure_list_changed_after_the_recordings_is_seen():
    scale = [1.0]
    clip = {"value": 2.0}

    def step(x):
        return (x * scale[0]).clamp(-clip["value"], clip["value"])

    def change():
        scale[0] = 0.5
        clip["value"] = 1.0
    compiled = _quiet_agree(step, [(None, (_x(),))] * 3 + [(change, (_x(),))] * 3)
    assert _replaying(compiled)


def test_a_global_float_and_a_rebound_closure_cell_are_seen():
    factor = 2.0

    def step(x):
        return x * factor + GLOBAL_SHIFT

    def change():
        nonlocal factor
        factor = -3.0
        globals()["GLOBAL_SHIFT"] = 0.25
    globals()["GLOBAL_SHIFT"] = 1.0
    _quiet_agree(step, [(None, (_x(),))] * 3 + [(change, (_x(),))] * 3)


GLOBAL_SHIFT = 1.0


def test_a_branch_on_python_state_that_went_the_same_way_twice_is_not_frozen():
    state = {"step": 0}

    def step(x):
        if state["step"] > 3:
            return x * 2
        return x - 1

    def tick():
        state["step"] += 1
    _quiet_agree(step, [(tick, (_x(),))] * 8)


def test_a_branch_on_pythons_random_runs_eagerly_with_a_warning_naming_it():
    def step(x):
        return x * 2 if random.random() < 0.5 else x - 1
    compiled = chainrule.compile(step)
    with pytest.warns(RuntimeWarning, match="random"):
        for k in range(6):
            random.seed(k)
            got = compiled(_x())
            random.seed(k)
            _same(got, step(_x()))
    assert compiled._eager is not None and "random" in compiled._eager
    with pytest.raises(RuntimeError, match="random"):
        chainrule.compile(step, check=True)(_x())


def test_dropout_p_changed_on_the_module_is_seen():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.5))

    def change():
        net[2].p = 0.1
    with chainrule.no_grad():
        _quiet_agree(lambda x: net(x), [(None, (_x().reshape(1, 3),))] * 3
                     + [(change, (_x().reshape(1, 3),))] * 3, seed=3)


class _Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)
        self.temperature = 1.0
        self.use_tanh = False

    def forward(self, x):
        h = self.lin(x) / self.temperature
        return h.tanh() if self.use_tanh else h


def test_a_temperature_and_a_flag_on_your_own_module_are_seen():
    net = _Scaled()

    def hotter():
        net.temperature = 2.5

    def flag():
        net.use_tanh = True
    with chainrule.no_grad():
        _quiet_agree(lambda x: net(x), [(None, (_x(),))] * 3 + [(hotter, (_x(),))] * 3
                     + [(flag, (_x(),))] * 3)


def test_label_smoothing_changed_on_the_loss_is_seen():
    loss_fn = nn.CrossEntropyLoss()
    y = chainrule.tensor([0, 2])

    def change():
        loss_fn.label_smoothing = 0.2
    logits = chainrule.tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 2.0]])
    _quiet_agree(lambda z: loss_fn(z, y), [(None, (logits,))] * 3 + [(change, (logits,))] * 3)


def test_a_submodule_without_parameters_swapped_is_seen():
    net = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))

    def swap():
        net[1] = nn.Tanh()
    with chainrule.no_grad():
        _quiet_agree(lambda x: net(x), [(None, (_x(),))] * 3 + [(swap, (_x(),))] * 3)


def test_a_training_step_sees_a_changed_loss_scale_and_module_attribute():
    chainrule.manual_seed(0)
    nets = [nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 2))
            for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    opts = [chainrule.optim.SGD(n.parameters(), lr=0.1) for n in nets]
    hyper = {"scale": 1.0}

    def make(net, opt):
        def step(x, y):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(x), y) * hyper["scale"]
            loss.backward()
            opt.step()
            return loss
        return step
    compiled, eager = chainrule.compile(make(*zip(nets, opts).__next__())), make(nets[1], opts[1])
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for k in range(10):
            if k == 4:
                hyper["scale"] = 0.25
            if k == 7:
                for n in nets:
                    n[2].p = 0.0
            x = chainrule.tensor(rng.standard_normal((5, 4)).astype(np.float32))
            y = chainrule.tensor(rng.integers(0, 2, 5))
            results = []
            for f in (compiled, eager):
                chainrule.manual_seed(k)
                results.append(f(x, y))
            _same(*results)
    for p, q in zip(*(n.parameters() for n in nets)):
        assert p._data.tobytes() == q._data.tobytes()
    assert _replaying(compiled)


def test_an_optimizer_hyperparameter_read_inside_the_step_is_seen():
    w = chainrule.ones(3, requires_grad=True)
    opt = chainrule.optim.SGD([w], lr=0.1)

    def step(x):
        return x * opt.param_groups[0]["lr"]

    def change():
        opt.param_groups[0]["lr"] = 0.01
    _quiet_agree(step, [(None, (_x(),))] * 3 + [(change, (_x(),))] * 3)


def test_manual_seed_inside_the_compiled_function_reseeds_every_replay():
    def step(x):
        noise = chainrule.rand(3)
        chainrule.manual_seed(5)
        return x + noise + chainrule.randn(3)
    compiled = chainrule.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for k in range(5):
            chainrule.manual_seed(100 + k)
            got = compiled(_x())
            after_compiled = chainrule.rand(1)
            chainrule.manual_seed(100 + k)
            want = step(_x())
            _same(got, want)
            _same(after_compiled, chainrule.rand(1))
    assert _replaying(compiled)


def test_predictions_leaving_through_tolist_are_fresh():
    net = nn.Linear(3, 4)
    inputs = [chainrule.tensor(np.random.default_rng(k).standard_normal((6, 3)).astype(np.float32))
              for k in range(6)]
    with chainrule.no_grad():
        compiled = _quiet_agree(lambda x: net(x).argmax(1).tolist(), [(None, (x,)) for x in inputs])
    assert _replaying(compiled)


def test_values_from_tolist_used_in_python_are_not_frozen():
    def count_positive(x):
        signs = (x > 0).tolist()
        return x * float(sum(signs))
    inputs = [_x(), _x(), _x(-1.0), chainrule.tensor([1.0, 1.0, 1.0]), _x()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _agree(count_positive, [(None, (x,)) for x in inputs])


def test_a_float_from_item_fed_back_is_not_frozen_when_the_first_calls_agree():
    def scaled(x):
        return x * x.max().item()
    inputs = [_x(), _x(), _x(), _x(2.0), _x(-1.0), _x()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _agree(scaled, [(None, (x,)) for x in inputs])


def test_an_int_from_item_is_not_frozen_when_the_first_calls_agree():
    def first_rows(x, n):
        return x[: n.item()] * 2
    x = chainrule.arange(12.0).reshape(4, 3)
    counts = [2, 2, 2, 3, 1, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _agree(first_rows, [(None, (x, chainrule.tensor(n))) for n in counts])


def test_a_branch_on_a_bool_item_is_not_frozen_when_the_first_calls_agree():
    def branchy(x):
        if (x.sum() > 0).item():
            return x * 2
        return x - 1
    inputs = [_x(), _x(), _x(), _x(-1.0), _x(), _x(-1.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _agree(branchy, [(None, (x,)) for x in inputs])


def test_a_returned_loss_item_is_fresh_and_keeps_replaying():
    w = chainrule.tensor([0.5, -1.0, 2.0], requires_grad=True)

    def step(x):
        w.grad = None
        loss = ((w * x) ** 2).sum()
        loss.backward()
        return loss.item(), w.grad.tolist()
    inputs = [_x(k + 1.0) for k in range(6)]
    compiled = _quiet_agree(step, [(None, (x,)) for x in inputs])
    assert _replaying(compiled)


def test_python_state_the_function_changes_itself_runs_eagerly_with_a_warning():
    seen = {"calls": 0}

    def step(x):
        seen["calls"] += 1
        return x * seen["calls"]
    compiled = chainrule.compile(step)
    with pytest.warns(RuntimeWarning, match="changes Python state"):
        outs = [compiled(_x()).tolist() for _ in range(4)]
    assert outs == [(_x() * k).tolist() for k in (1, 2, 3, 4)] and seen["calls"] == 4


def test_a_function_that_keeps_recording_again_warns_once_and_runs_eagerly():
    state = {"scale": 1.0}

    def step(x):
        return x * state["scale"]
    compiled = chainrule.compile(step)
    with pytest.warns(RuntimeWarning, match="records again") as record:
        for k in range(40):
            state["scale"] = float(k)
            assert compiled(_x()).tolist() == (_x() * float(k)).tolist()
    assert len(record) == 1


@pytest.mark.parametrize("options", [dict(label_smoothing=0.1),
                                     dict(weight=chainrule.tensor([1.0, 2.0, 0.5]))])
def test_cross_entropy_replays_each_calls_targets(options):
    loss_fn = nn.CrossEntropyLoss(**options)
    logits = chainrule.tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 2.0]], requires_grad=True)

    def step(z, t):
        logits.grad = None
        loss = loss_fn(logits * z, t)
        loss.backward()
        return loss, logits.grad.clone()
    targets = [[0, 2], [0, 2], [1, 0], [2, 2], [0, 1]]
    compiled = chainrule.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for t in targets:
            args = (chainrule.ones(1, 3), chainrule.tensor(t))
            (got, got_g), (want, want_g) = compiled(*args), step(*args)
            _same(got, want)
            _same(got_g, want_g)
    assert _replaying(compiled)


def test_a_partial_binding_the_model_and_optimizer_replays_eagers_training():
    """torch.compile(functools.partial(train_step, model, opt)): the bound model and
    optimizer are found and guarded like closure values, and the step replays."""
    import functools

    def build():
        chainrule.manual_seed(0)
        net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        return net, chainrule.optim.Adam(net.parameters(), lr=0.1)

    def train_step(net, opt, x, y, scale=1.0):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y) * scale
        loss.backward()
        opt.step()
        return loss
    (net, opt), (twin, twin_opt) = build(), build()
    compiled = chainrule.compile(functools.partial(train_step, net, opt, scale=2.0))
    assert compiled.__name__ == "train_step"
    x, y = chainrule.tensor([[1.5, -2.0, 3.25], [0.5, 0.25, -1.0]]), chainrule.tensor([1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no eager fallback
        for _ in range(5):
            _same(compiled(x, y), train_step(twin, twin_opt, x, y, scale=2.0))
    assert _replaying(compiled)
    for a, b in zip(net.parameters(), twin.parameters()):
        assert a._data.tobytes() == b._data.tobytes()
    net[0].bias.data = chainrule.zeros(4)  # a parameter's array replaced: seen
    twin[0].bias.data = chainrule.zeros(4)
    _same(compiled(x, y), train_step(twin, twin_opt, x, y, scale=2.0))
