"""Tensor hooks and Module hooks against PyTorch: what the hooks see, what replacing a
value does, the order they run in, removal, and the errors for bad use."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import hooks as module_hooks
from chainrule.utils.hooks import RemovableHandle
from helpers import TOL, assert_close, requires_torch, torch

pytestmark = requires_torch

F64 = TOL[np.float64]
X = np.array([1.0, -2.0, 0.5])


def close(a, b):
    assert_close(np.asarray(a), np.asarray(b), **F64)


# ---- Tensor.register_hook -------------------------------------------------------------
def test_leaf_hook_replaces_gradient_before_accumulation():
    res = []
    for m in (cr, torch):
        x = m.tensor(X, requires_grad=True)
        x.register_hook(lambda g: g * 10)
        (x * 3).sum().backward()
        res.append(x.grad.numpy())
    close(*res)


def test_leaf_hook_runs_once_on_the_total_gradient():
    res = []
    for m in (cr, torch):
        seen = []
        x = m.tensor(X, requires_grad=True)
        x.register_hook(lambda g: seen.append(g.clone()))
        (x * x + x.sin()).sum().backward()
        assert len(seen) == 1
        res.append((seen[0].numpy(), x.grad.numpy()))
    close(res[0][0], res[1][0])
    close(res[0][1], res[1][1])


def test_nonleaf_hooks_chain_and_retain_grad_sees_the_hooked_value():
    res = []
    for m in (cr, torch):
        calls = []
        x = m.tensor(X, requires_grad=True)
        a = x * 2
        a.register_hook(lambda g: calls.append(("h1", g.clone())) or g + 1)
        a.retain_grad()  # registered between the hooks: still sees the final value
        a.register_hook(lambda g: calls.append(("h2", g.clone())) or g * 3)
        (a * a).sum().backward()
        assert [c[0] for c in calls] == ["h1", "h2"]
        res.append([calls[0][1].numpy(), calls[1][1].numpy(), a.grad.numpy(), x.grad.numpy()])
    for u, v in zip(*res):
        close(u, v)


def test_removed_hook_no_longer_runs_and_handle_works_as_context_manager():
    x = cr.tensor(X, requires_grad=True)
    h = x.register_hook(lambda g: g * 10)
    assert isinstance(h, RemovableHandle)
    h.remove()
    h.remove()  # removing twice is harmless
    with x.register_hook(lambda g: g * 0):
        pass
    (x * 3).sum().backward()
    close(x.grad.numpy(), 3 * np.ones(3))


def test_autograd_grad_captures_the_hooked_gradient():
    res = []
    for m in (cr, torch):
        x = m.tensor(X, requires_grad=True)
        x.register_hook(lambda g: g * 2)
        gx, = m.autograd.grad((x * 3).sum(), x)
        a = x * 2
        a.register_hook(lambda g: g * 5)
        ga, = m.autograd.grad((a * 3).sum(), a)
        res.append((gx.numpy(), ga.numpy()))
    close(res[0][0], res[1][0])
    close(res[0][1], res[1][1])


def test_hook_under_create_graph_takes_part_in_second_order():
    res = []
    for m in (cr, torch):
        x = m.tensor(X, requires_grad=True)
        y = x ** 3
        y.register_hook(lambda g: g * x)  # the replacement depends on x
        g, = m.autograd.grad(y.sum(), x, create_graph=True)
        gg, = m.autograd.grad(g.sum(), x)
        res.append((g.detach().numpy(), gg.numpy()))
    close(res[0][0], res[1][0])
    close(res[0][1], res[1][1])


def test_hook_registered_before_inplace_sees_gradient_of_old_value():
    res = []
    for m in (cr, torch):
        seen = []
        x = m.tensor(X, requires_grad=True)
        a = x * 2
        a.register_hook(lambda g: seen.append(g.clone()))
        a.mul_(3)
        (a * a).sum().backward()
        res.append((seen[0].numpy(), x.grad.numpy()))
    close(res[0][0], res[1][0])
    close(res[0][1], res[1][1])


def test_hook_on_custom_function_output():
    res = []
    for m in (cr, torch):
        class Double(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2
        x = m.tensor(X, requires_grad=True)
        y = Double.apply(x)
        y.register_hook(lambda g: g + 1)
        (y * y).sum().backward()
        res.append(x.grad.numpy())
    close(*res)


def test_post_accumulate_grad_hook_sees_the_updated_grad():
    res = []
    for m in (cr, torch):
        seen = []
        x = m.tensor(X, requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
        (x * 3).sum().backward()
        (x * 2).sum().backward(inputs=[x])
        res.append([s.numpy() for s in seen])
    close(res[0], res[1])


def hook_error(m, call):
    with pytest.raises(RuntimeError) as err:
        call(m)
    return str(err.value)


@pytest.mark.parametrize("call", [
    lambda m: m.ones(2).register_hook(lambda g: g),
    lambda m: (m.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print),
    lambda m: (lambda x: (x.register_hook(lambda g: m.ones(5)), (x * 2).sum().backward()))(
        m.ones(2, requires_grad=True)),
], ids=["no_grad_tensor", "post_hook_on_nonleaf", "hook_changes_shape"])
def test_tensor_hook_errors_match_torch(call):
    assert hook_error(cr, call) == hook_error(torch, call)


# ---- Module hooks ----------------------------------------------------------------------
def linear_pair(seed=0):
    rng = np.random.default_rng(seed)
    w, b = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, 2)
    out = []
    for m in (cr, torch):
        lin = m.nn.Linear(3, 2).double()
        with m.no_grad():
            lin.weight.copy_(m.tensor(w))
            lin.bias.copy_(m.tensor(b))
        out.append((m, lin))
    return out


def test_forward_hook_sees_input_and_output_and_can_replace_it():
    res = []
    for m, lin in linear_pair():
        seen = []
        lin.register_forward_hook(lambda mod, inp, out: seen.append((len(inp), out.clone())))
        y = lin(m.tensor(X[None]))
        h = lin.register_forward_hook(lambda mod, inp, out: out * 0 + 1)
        z = lin(m.tensor(X[None]))
        h.remove()
        w = lin(m.tensor(X[None]))
        res.append((seen[0][0], seen[0][1].detach().numpy(), z.detach().numpy(),
                    w.detach().numpy(), y.detach().numpy()))
    assert res[0][0] == res[1][0] == 1
    for u, v in zip(res[0][1:], res[1][1:]):
        close(u, v)


def test_forward_pre_hook_can_replace_the_input():
    res = []
    for m, lin in linear_pair():
        lin.register_forward_pre_hook(lambda mod, inp: (inp[0] * 2,))
        lin.register_forward_pre_hook(lambda mod, inp: inp[0] + 1)  # a bare tensor is wrapped
        res.append(lin(m.tensor(X[None])).detach().numpy())
    close(*res)


def test_hooks_with_kwargs_and_prepend_order():
    for m, lin in linear_pair():
        order = []
        lin.register_forward_hook(lambda mod, a, kw, out: order.append(("kw", kw)),
                                  with_kwargs=True)
        lin.register_forward_hook(lambda mod, a, out: order.append(("first", None)),
                                  prepend=True)
        lin.register_forward_pre_hook(lambda mod, a, kw: (a, kw), with_kwargs=True)
        lin(m.tensor(X[None]))
        assert order == [("first", None), ("kw", {})]


def test_forward_pre_hook_with_kwargs_bad_return_matches_torch():
    msgs = []
    for m, lin in linear_pair():
        lin.register_forward_pre_hook(lambda mod, a, kw: 3, with_kwargs=True)
        with pytest.raises(RuntimeError) as err:
            lin(m.tensor(X[None]))
        msgs.append(str(err.value))
    assert msgs[0] == msgs[1]


def test_full_backward_hook_grad_input_and_grad_output():
    res = []
    for m, lin in linear_pair():
        seen = []
        lin.register_full_backward_hook(
            lambda mod, gi, go: seen.append((gi[0].clone(), go[0].clone())))
        x = m.tensor(X[None], requires_grad=True)
        (lin(x) * m.tensor([[1.0, -3.0]], dtype=m.float64)).sum().backward()
        assert len(seen) == 1
        res.append((seen[0][0].numpy(), seen[0][1].numpy(), x.grad.numpy(),
                    lin.weight.grad.numpy()))
    for u, v in zip(*res):
        close(u, v)


def test_full_backward_hook_replaces_grad_input():
    res = []
    for m, lin in linear_pair():
        lin.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0 + 7,))
        x = m.tensor(X[None], requires_grad=True)
        (x * lin(x).sum()).sum().backward()
        res.append(x.grad.numpy())
    close(*res)


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_full_backward_hook_when_no_input_requires_grad():
    for m, lin in linear_pair():
        seen = []
        lin.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go[0].shape)))
        lin(m.tensor(X[None])).sum().backward()
        assert seen[0][0] == (None,) and tuple(seen[0][1]) == (1, 2)
        assert lin.weight.grad is not None


def test_full_backward_hook_with_mixed_arguments_matches_torch():
    res = []
    for m in (cr, torch):
        class Two(m.nn.Module):
            def forward(self, a, k, b):
                return a * k + b, a - b
        mod = Two()
        seen = []
        mod.register_full_backward_hook(lambda md, gi, go: seen.append((gi, go)))
        a = m.tensor([1.0, 2.0], requires_grad=True)
        o1, o2 = mod(a, 3.0, m.ones(2))
        o1.sum().backward()
        gi, go = seen[0]
        assert gi[1] is None and go[1] is None
        res.append((gi[0].numpy(), gi[2].numpy(), go[0].numpy(), a.grad.numpy()))
    for u, v in zip(*res):
        close(u, v)


def test_full_backward_pre_hook_replaces_grad_output():
    res = []
    for m, lin in linear_pair():
        lin.register_full_backward_pre_hook(lambda mod, go: (go[0] * 10,))
        x = m.tensor(X[None], requires_grad=True)
        lin(x).sum().backward()
        res.append((x.grad.numpy(), lin.weight.grad.numpy()))
    for u, v in zip(*res):
        close(u, v)


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
@pytest.mark.parametrize("case", ["wrong_count", "no_input_returns_grad"])
def test_backward_hook_errors_match_torch(case):
    msgs = []
    for m, lin in linear_pair():
        if case == "wrong_count":
            lin.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
            x = m.tensor(X[None], requires_grad=True)
        else:
            lin.register_full_backward_hook(lambda mod, gi, go: (m.zeros(1, 3),))
            x = m.tensor(X[None])
        with pytest.raises(RuntimeError) as err:
            lin(x).sum().backward()
        msgs.append(str(err.value))
    assert msgs[0] == msgs[1]


def test_forward_hooks_on_sequential_children_record_activations():
    res = []
    for m in (cr, torch):
        m.manual_seed(0)
        net = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.ReLU(), m.nn.Linear(4, 2))
        shapes = {}
        handles = [mod.register_forward_hook(
            lambda md, i, o, n=name: shapes.__setitem__(n, tuple(o.shape)))
            for name, mod in net.named_children()]
        net(m.ones(5, 3))
        for h in handles:
            h.remove()
        shapes_after = dict(shapes)
        net(m.ones(7, 3))
        assert shapes == shapes_after
        res.append(shapes)
    assert res[0] == res[1] == {"0": (5, 4), "1": (5, 4), "2": (5, 2)}


def test_module_without_hooks_never_enters_the_hook_path(monkeypatch):
    def fail(*a):
        raise AssertionError("hook path taken")
    monkeypatch.setattr(module_hooks, "call_with_hooks", fail)
    lin = cr.nn.Linear(3, 2)
    assert lin._has_hooks is False
    lin(cr.ones(1, 3))
    lin.register_forward_hook(lambda *a: None)
    with pytest.raises(AssertionError, match="hook path taken"):
        lin(cr.ones(1, 3))


def test_deprecated_register_backward_hook_is_named_as_unsupported():
    with pytest.raises(NotImplementedError, match="register_full_backward_hook"):
        cr.nn.Linear(2, 2).register_backward_hook(lambda *a: None)


def test_full_backward_hook_on_module_returning_its_input():
    res = []
    for m in (cr, torch):
        seen = []
        ident = m.nn.Identity()
        ident.register_full_backward_hook(lambda mod, gi, go: seen.append((gi[0], go[0])))
        x = m.tensor(X, requires_grad=True)
        (ident(x) * 3).sum().backward()
        res.append((seen[0][0].numpy(), seen[0][1].numpy(), x.grad.numpy()))
    for u, v in zip(*res):
        close(u, v)


def test_non_callable_hooks_are_refused_naming_the_method():
    lin = cr.nn.Linear(2, 2)
    for method in ("register_forward_pre_hook", "register_forward_hook",
                   "register_full_backward_hook", "register_full_backward_pre_hook"):
        with pytest.raises(TypeError, match=f"{method}: expected a callable, got int"):
            getattr(lin, method)(3)
    with pytest.raises(TypeError, match="register_hook: expected a callable"):
        cr.ones(2, requires_grad=True).register_hook("not a function")
    assert lin._has_hooks is False  # nothing was registered


def test_tensor_returned_by_a_leaf_hook_is_copied_into_grad():
    fixed = cr.tensor([1.0, 2.0, 3.0])
    x = cr.zeros(3, requires_grad=True)
    x.register_hook(lambda g: fixed)
    (x * 5).sum().backward()
    (x * 5).sum().backward()  # accumulates into x.grad in place
    assert fixed.tolist() == [1.0, 2.0, 3.0]
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


def test_global_module_hooks_run_before_each_modules_own(monkeypatch):
    from chainrule.nn.modules import module as global_hooks
    monkeypatch.setattr(cr.nn.Module, "_has_hooks", False)  # restored after the test
    res = []
    for m, reg in ((cr, global_hooks), (torch, torch.nn.modules.module)):
        order = []
        lin = m.nn.Sequential(m.nn.Linear(3, 2)).double()
        lin[0].register_forward_hook(lambda mod, i, o: order.append(("own", type(mod).__name__)))
        handles = [
            reg.register_module_forward_pre_hook(
                lambda mod, i: order.append(("pre", type(mod).__name__))),
            reg.register_module_forward_hook(
                lambda mod, i, o: order.append(("global", type(mod).__name__))),
            reg.register_module_full_backward_hook(
                lambda mod, gi, go: order.append(("backward", type(mod).__name__))),
        ]
        try:
            lin(m.tensor(X[None], requires_grad=True)).sum().backward()
        finally:
            for h in handles:
                h.remove()
        lin(m.tensor(X[None]))  # removed: nothing more is recorded
        res.append(order)
    assert res[0] == res[1]
