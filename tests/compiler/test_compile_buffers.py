"""What a replay keeps between calls: the tensors it found (walked again only when a
container it read changes) and its buffers (a gradient eager takes without a copy stays in
the buffer its kernel fills). Each must leave eager's values, bit for bit."""
import warnings

import numpy as np

import chainrule
from chainrule import nn
from helpers import replaying


def _agree(compiled, eager, calls):
    """`calls` is a list of (before, x): `before()` changes Python state, then both run."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for before, x in calls:
            if before is not None:
                before()
            got, want = compiled(x), eager(x)
            assert got.dtype == want.dtype and got._data.tobytes() == want._data.tobytes()


def _x(k=1.0):
    return chainrule.tensor([[1.5, -2.0, 3.25], [0.5, 1.0, -0.75]]) * k


def test_a_module_appended_to_a_list_the_step_reads_is_traced_by_later_replays():
    chainrule.manual_seed(0)
    layers = [nn.Linear(3, 2)]
    added = nn.Linear(3, 2)

    def step(x):
        out = layers[0](x)
        for layer in layers[1:]:
            out = out + layer(x)
        return out.sum()

    def add():
        layers.append(added)

    def nudge():  # in place: the same arrays, so only a traced weight sees it
        with chainrule.no_grad():
            added.weight.mul_(2.0)
    compiled = chainrule.compile(step)
    _agree(compiled, step, [(None, _x())] * 3 + [(add, _x(2.0))] * 3 + [(nudge, _x(3.0))] * 2)
    assert replaying(compiled)


def _mlp_step(seed):
    chainrule.manual_seed(seed)
    net = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = chainrule.optim.Adam(net.parameters(), lr=0.01)

    def step(x):
        opt.zero_grad()
        loss = (net(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return net, step


def test_replayed_weight_gradients_equal_eagers_each_in_memory_of_its_own():
    (net, step), (twin, eager) = _mlp_step(0), _mlp_step(0)
    compiled = chainrule.compile(step)
    _agree(compiled, eager, [(None, _x(k + 1.0)) for k in range(6)])
    assert replaying(compiled)
    grads = [p.grad._data for p in net.parameters()]
    for p, q in zip(net.parameters(), twin.parameters()):
        assert p._data.tobytes() == q._data.tobytes()
        assert p.grad._data.tobytes() == q.grad._data.tobytes()
    for i, a in enumerate(grads):
        assert not any(np.shares_memory(a, b) for b in grads[i + 1:])


def test_a_gradient_shared_by_two_leaves_is_copied_as_eager_copies_it():
    """add's rule passes one gradient to both inputs: eager gives each leaf a copy, so
    scaling one `.grad` in place leaves the other as it was."""
    def make():
        a = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = chainrule.tensor([0.5, -1.0, 2.0], requires_grad=True)

        def step(x):
            a.grad = b.grad = None
            ((a + b) * x).sum().backward()
            with chainrule.no_grad():
                a.grad.mul_(3.0)
            return b.grad.clone()
        return step
    compiled = chainrule.compile(make())
    _agree(compiled, make(), [(None, chainrule.tensor([1.0, -2.0, 0.5]) * k) for k in range(1, 6)])
    assert replaying(compiled)
