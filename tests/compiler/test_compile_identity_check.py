"""The written-out identity test of what a compiled call reads (compiler/identity_check.py)
answers as the generic readers do after every kind of change to what they read: closure
cells, the globals the code names, defaults, the code itself, optimizer groups and their
parameters; and a compiled step meeting each change gives eager's numbers."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.compiler import discover

SCALE = 1.0  # a global the step's code names


def _model(seed):
    cr.manual_seed(seed)
    net = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
    return net, cr.optim.SGD(net.parameters(), lr=0.1)


def _program(seed=0):
    net, opt = _model(seed)
    extra = [cr.nn.Parameter(cr.ones(3))]  # a parameter some changes add to the optimizer
    holder = {"net": net, "opt": opt, "extra": extra}

    def step(x, y, scale=2.0):
        loss = ((holder["net"](x) - y) ** 2).mean() * scale * SCALE
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return holder, step


def _generic(reached):
    return discover._ids(reached.rest) == reached.rest_ids


def _swap_closure_opt(holder, step):
    cells = dict(zip(step.__code__.co_freevars, step.__closure__))
    cells["opt"].cell_contents = _model(1)[1]


def _new_defaults(holder, step):
    step.__defaults__ = (3.0,)


def _new_code(holder, step):
    step.__code__ = step.__code__.replace()  # another code object, doing the same


def _new_global(holder, step):
    globals()["SCALE"] = 0.5


def _param_appended(holder, step):
    holder["opt"].param_groups[0]["params"].append(holder["extra"][0])


def _param_replaced(holder, step):
    holder["opt"].param_groups[0]["params"][0] = holder["extra"][0]


def _group_added(holder, step):
    holder["opt"].add_param_group({"params": holder["extra"]})


def _groups_list_replaced(holder, step):
    opt = holder["opt"]
    opt.param_groups = list(opt.param_groups)


def _group_dict_replaced(holder, step):
    opt = holder["opt"]
    opt.param_groups[0] = dict(opt.param_groups[0])


CHANGES = [_swap_closure_opt, _new_defaults, _new_code, _new_global, _param_appended,
           _param_replaced, _group_added, _groups_list_replaced, _group_dict_replaced]


@pytest.fixture(autouse=True)
def _restore_scale():
    yield
    globals()["SCALE"] = 1.0


def _batch(k):
    rng = np.random.default_rng(k)
    return (cr.tensor(rng.standard_normal((5, 4)).astype(np.float32)),
            cr.tensor(rng.standard_normal((5, 3)).astype(np.float32)))


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__.strip("_"))
def test_the_written_out_test_answers_as_the_readers_after_each_change(change):
    holder, step = _program()
    compiled = cr.compile(step)
    for k in range(4):
        compiled(*_batch(k))
    reached = compiled._reached
    assert reached.rest_held is not None  # reused, so written out
    assert reached.rest_held() and _generic(reached)
    change(holder, step)
    assert reached.rest_held() is False and _generic(reached) is False


def test_nothing_changed_holds_and_other_objects_changing_do_not_matter():
    holder, step = _program()
    compiled = cr.compile(step)
    for k in range(4):
        compiled(*_batch(k))
    reached = compiled._reached
    holder["unrelated"] = 1  # the dict is read by the generic form, which sees no change
    holder["opt"].param_groups[0]["lr"] = 0.05  # a value: the state guards' business
    assert reached.rest_held() == _generic(reached)


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__.strip("_"))
def test_a_compiled_step_meeting_each_change_gives_eagers_numbers(change):
    (eager_holder, eager_step), (holder, step) = _program(), _program()
    compiled = cr.compile(step)
    for k in range(8):
        if k == 4:
            change(eager_holder, eager_step)
            change(holder, step)
            globals()["SCALE"] = 0.5 if change is _new_global else 1.0
        want, got = eager_step(*_batch(k)), compiled(*_batch(k))
        assert got.item() == want.item(), k
    for (name, w), (_, v) in zip(holder["net"].state_dict().items(),
                                 eager_holder["net"].state_dict().items()):
        assert w.numpy().tobytes() == v.numpy().tobytes(), name


def test_an_emptied_closure_cell_is_a_change():
    net, opt = _model(2)
    scale = 2.0

    def step(x, y):
        loss = ((net(x) - y) ** 2).mean() * scale
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    compiled = cr.compile(step)
    for k in range(4):
        compiled(*_batch(k))
    reached = compiled._reached
    assert reached.rest_held()
    cells = dict(zip(step.__code__.co_freevars, step.__closure__))
    del cells["scale"].cell_contents
    assert reached.rest_held() is False and _generic(reached) is False
