"""A compiled call trusts what it found in the module tables while no table anywhere
changed (they count their changes); every way of changing one is seen, the private
dicts included, and a module whose tables do not count is read on every call."""
import warnings

import pytest

import chainrule
from chainrule import nn
from chainrule.compiler import discover


def _net():
    chainrule.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def _replace_child(net):
    net._modules["1"] = nn.Tanh()


def _replace_parameter(net):
    net[0]._parameters["bias"] = nn.Parameter(chainrule.ones(4))


def _update_table(net):
    net[2]._parameters.update(weight=nn.Parameter(chainrule.ones(2, 4)))


def _setdefault_then_pop(net):
    net._modules.pop("1")
    net._modules.setdefault("1", nn.Sigmoid())
    net._modules.move_to_end("1", last=False)  # order matters: Sequential runs it first


def _replace_a_table(net):
    net[0]._parameters = type(net[0]._parameters)(
        weight=net[0].weight, bias=nn.Parameter(chainrule.full((4,), 2.0)))


def _assign_attribute(net):
    net[1] = nn.Sigmoid()


def _delete_and_add(net):
    del net[1]
    net.add_module("9", nn.Tanh())


CHANGES = [_replace_child, _replace_parameter, _update_table, _setdefault_then_pop,
           _replace_a_table, _assign_attribute, _delete_and_add]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__.strip("_") for c in CHANGES])
def test_a_changed_module_table_is_seen_by_the_next_call(change):
    nets = [_net(), _net()]
    compiled = chainrule.compile(lambda x: nets[0](x))
    x = chainrule.tensor([[1.5, -2.0, 3.25], [0.5, 0.25, -1.0]])
    with chainrule.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (a Sequential reordered may warn)
        for _ in range(3):
            assert compiled(x)._data.tobytes() == nets[1](x)._data.tobytes()
        # what a replayed call reads again excludes the counting tables
        assert all(r is not discover._module_tables for r, _ in compiled._reached.rest)
        for net in nets:
            change(net)
        for _ in range(3):
            assert compiled(x)._data.tobytes() == nets[1](x)._data.tobytes()
        for net in nets:  # new arrays in every parameter the call now reads
            for k, p in enumerate(net.parameters()):
                p.data = chainrule.full(tuple(p.shape), 0.5 + k)
        assert compiled(x)._data.tobytes() == nets[1](x)._data.tobytes()


def test_a_module_whose_tables_do_not_count_is_read_on_every_call():
    net = _net()
    net.__dict__["_modules"] = dict(net.__dict__["_modules"])  # a plain dict: no count
    eager = _net()
    eager.__dict__["_modules"] = dict(eager.__dict__["_modules"])
    compiled = chainrule.compile(lambda x: net(x))
    x = chainrule.tensor([[1.5, -2.0, 3.25]])
    with chainrule.no_grad():
        for _ in range(3):
            compiled(x)
        assert [h for r, h in compiled._reached.rest if r is discover._module_tables] == [net]
        for m in (net, eager):
            chainrule.manual_seed(1)
            dict.__setitem__(m.__dict__["_modules"], "2", nn.Linear(4, 2))
        for _ in range(3):
            assert compiled(x)._data.tobytes() == eager(x)._data.tobytes()
        for m in (net, eager):
            m[2].weight.data = chainrule.full((2, 4), 0.5)
        assert compiled(x)._data.tobytes() == eager(x)._data.tobytes()


def test_every_change_to_a_module_table_is_counted_and_reads_are_not():
    from chainrule.nn.tables import STRUCTURE
    net = _net()
    table = net._modules
    changes = [lambda: table.__setitem__("1", nn.Tanh()), lambda: table.pop("1"),
               lambda: table.setdefault("1", nn.ReLU()), lambda: table.move_to_end("0"),
               lambda: table.update({"3": nn.ReLU()}), lambda: table.__delitem__("3"),
               lambda: table.__ior__({"4": nn.ReLU()}), lambda: table.popitem(),
               lambda: setattr(net[0], "_buffers", type(table)()), lambda: table.clear()]
    for change in changes:
        before = STRUCTURE[0]
        change()
        assert STRUCTURE[0] > before
    before = STRUCTURE[0]
    net = _net()  # a new module fills new tables: counted, but nothing old changed
    after_build = STRUCTURE[0]
    list(net._modules.items()), net[0].weight, net.state_dict(), net(chainrule.ones(1, 3))
    assert STRUCTURE[0] == after_build >= before


def test_module_guards_are_read_again_only_after_some_module_changed(monkeypatch):
    from chainrule.compiler import state_guards
    net, scale = _net(), [1.0]
    compiled = chainrule.compile(lambda x: net(x) * scale[0])
    x = chainrule.tensor([[1.5, -2.0, 3.25]])
    with chainrule.no_grad():
        for _ in range(3):
            compiled(x)
    read = []
    real = state_guards._first_change
    monkeypatch.setattr(state_guards, "_first_change",
                        lambda checks: read.append(len(checks)) or real(checks))
    (entry,) = [e for es in compiled._cache.values() for e in es if e.verified]
    counted, rest = len(entry.state.counted), len(entry.state.rest)
    assert counted > 20 and rest >= 2  # the modules' checks; the closure cells
    with chainrule.no_grad():
        compiled(x)
        assert read == [rest]                    # nothing changed: module checks skipped
        read.clear()
        scale[0] = 2.0                           # not module state: seen by the rest
        assert compiled(x)._data.tobytes() == (net(x) * 2.0)._data.tobytes()
        read.clear()
        net[0].out_features = 4                  # any module attribute: all read again
        compiled(x)
        assert read[0] == counted


@pytest.mark.parametrize("change", ["eval", "dropout_p", "hook"])
def test_module_state_changed_between_replays_is_seen(change):
    def build():
        chainrule.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    net, twin = build(), build()
    compiled = chainrule.compile(lambda x: net(x))
    x = chainrule.tensor([[1.5, -2.0, 3.25], [0.5, 0.25, -1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a hook makes it run eagerly
        for _ in range(3):
            chainrule.manual_seed(1)
            got = compiled(x)
            chainrule.manual_seed(1)
            assert got._data.tobytes() == twin(x)._data.tobytes()
        for m in (net, twin):
            if change == "eval":
                m.eval()
            elif change == "dropout_p":
                m[1].p = 0.1
            else:
                m[2].register_forward_hook(lambda mod, inp, out: out * 3)
        for _ in range(3):
            chainrule.manual_seed(1)
            got = compiled(x)
            chainrule.manual_seed(1)
            assert got._data.tobytes() == twin(x)._data.tobytes()
