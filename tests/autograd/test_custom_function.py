"""chainrule.autograd.Function against torch.autograd.Function: the same class body is
built for both frameworks (the factories take the module, `m`), run on the same data,
and the values, gradients and error messages are compared."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import Function, gradcheck, gradgradcheck
from chainrule.autograd.function import once_differentiable as cr_once
from helpers import TOL, assert_close, requires_torch, torch

pytestmark = requires_torch

F64 = TOL[np.float64]


def both(fn):
    """fn(m) for chainrule and torch."""
    return fn(cr), fn(torch)


def tensors(m, *arrays, grad=True):
    return [m.tensor(a, requires_grad=grad) for a in arrays]


def cube(m):
    class Cube(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g
    return Cube


def scaled(m):
    """Non-tensor arguments, an attribute on ctx, None for the non-tensor's gradient."""
    class Scaled(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, offset):
            ctx.k = k
            ctx.needs = ctx.needs_input_grad
            return x * k + offset

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None, None
    return Scaled


def sincos(m, materialize=True):
    class SinCos(m.autograd.Function):
        seen = []

        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, gs, gc):
            SinCos.seen.append((gs, gc))
            x, = ctx.saved_tensors
            out = 0
            if gs is not None:
                out = out + gs * x.cos()
            if gc is not None:
                out = out - gc * x.sin()
            return out
    return SinCos


X = np.array([0.3, -1.2, 2.0])


def grads_of(m, fn_factory, build, arrays=(X,)):
    xs = tensors(m, *arrays)
    out = build(fn_factory(m), *xs)
    out.sum().backward()
    return out, [x.grad for x in xs]


@pytest.mark.parametrize("shape", [(3,), (), (0,), (2, 3)])
def test_save_for_backward_gradient_matches_torch(shape):
    a = np.random.default_rng(1).uniform(-2, 2, shape)
    (co, (cg,)), (to, (tg,)) = both(lambda m: grads_of(m, cube, lambda f, x: f.apply(x), (a,)))
    assert_close(co.detach().numpy(), to.detach().numpy(), **F64)
    assert_close(cg.numpy(), tg.numpy(), **F64)


def test_non_tensor_arguments_and_ctx_attributes():
    res = []
    for m in (cr, torch):
        x, b = tensors(m, X, X * 0 + 1)
        f = scaled(m)
        y = f.apply(x, 2.5, 7.0)
        y.sum().backward()
        res.append((y.detach().numpy(), x.grad.numpy()))
    assert_close(res[0][0], res[1][0], **F64)
    assert_close(res[0][1], res[1][1], **F64)


def test_needs_input_grad_matches_torch():
    def needs(m):
        f = scaled(m)
        x, = tensors(m, X)
        c, = tensors(m, X, grad=False)
        seen = []

        class Two(m.autograd.Function):
            @staticmethod
            def forward(ctx, a, b, k):
                seen.append(ctx.needs_input_grad)
                return a * b * k

            @staticmethod
            def backward(ctx, g):
                return g, None, None
        Two.apply(x, c, 2.0)
        Two.apply(c, x, 2.0)
        f.apply(c, 2.0, 1.0)
        return seen
    assert needs(cr) == needs(torch) == [(True, False, False), (False, True, False)]


def test_multiple_outputs_gradients_and_materialized_zeros():
    res = []
    for m in (cr, torch):
        x, = tensors(m, X)
        f = sincos(m)
        s, c = f.apply(x)
        (s * c).sum().backward(retain_graph=True)
        both_grad = x.grad.clone()
        x.grad = None
        s.sum().backward()  # c unused: backward gets zeros for it
        gs, gc = f.seen[-1]
        res.append((both_grad.numpy(), x.grad.numpy(), gc.numpy()))
        assert s.grad_fn.name() == c.grad_fn.name() == "SinCosBackward"
    for a, b in zip(*res):
        assert_close(a, b, **F64)
    assert not res[0][2].any()


def test_set_materialize_grads_false_passes_none():
    for m in (cr, torch):
        x, = tensors(m, X)
        f = sincos(m, materialize=False)
        s, c = f.apply(x)
        c.sum().backward()
        assert f.seen[-1][0] is None
        assert_close(x.grad.numpy(), -np.sin(X), **F64)


def test_mark_non_differentiable_output():
    def run(m):
        class MaxIdx(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                i = x.argmax()
                v = x.max()
                ctx.mark_non_differentiable(i)
                ctx.save_for_backward(x, i)
                return v, i

            @staticmethod
            def backward(ctx, gv, gi):
                x, i = ctx.saved_tensors
                out = m.zeros_like(x)
                out[i] = gv
                return out
        x, = tensors(m, X)
        v, i = MaxIdx.apply(x)
        v.backward()
        return v.requires_grad, i.requires_grad, i.grad_fn is None, x.grad.numpy()
    c, t = run(cr), run(torch)
    assert c[:3] == t[:3] == (True, False, True)
    assert_close(c[3], t[3], **F64)


def test_returning_none_for_an_input_that_requires_grad_leaves_grad_none():
    for m in (cr, torch):
        class FirstOnly(m.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                return a * b

            @staticmethod
            def backward(ctx, g):
                return g, None
        a, b = tensors(m, X, X)
        FirstOnly.apply(a, b).sum().backward()
        assert b.grad is None
        assert_close(a.grad.numpy(), np.ones(3), **F64)


def test_integer_outputs_are_not_differentiable():
    for m in (cr, torch):
        class Sign(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, (x > 0).long()

            @staticmethod
            def backward(ctx, g, gi):
                return g * 2
        x, = tensors(m, X)
        y, s = Sign.apply(x)
        assert y.requires_grad and not s.requires_grad


def test_input_returned_as_is_becomes_a_new_tensor_with_history():
    for m in (cr, torch):
        class Ident(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return 2 * g
        x, = tensors(m, X)
        y = Ident.apply(x)
        assert y is not x and y.grad_fn is not None and x.grad_fn is None
        y.sum().backward()
        assert_close(x.grad.numpy(), 2 * np.ones(3), **F64)


def dirty_double(m):
    class DoubleInPlace(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return 2 * g
    return DoubleInPlace


def test_mark_dirty_in_place_function_on_non_leaf():
    res = []
    for m in (cr, torch):
        x, = tensors(m, X)
        a = x * x
        b = dirty_double(m).apply(a)
        assert b is a and a.grad_fn.name() == "DoubleInPlaceBackward"
        (a * 3).sum().backward()
        res.append((a.detach().numpy(), x.grad.numpy()))
    for u, v in zip(*res):
        assert_close(u, v, **F64)


def test_mark_dirty_on_leaf_that_requires_grad_raises():
    for m in (cr, torch):
        x, = tensors(m, X)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            dirty_double(m).apply(x)


def test_saved_tensor_modified_in_place_raises_at_backward():
    for m in (cr, torch):
        x, = tensors(m, X)
        a = x * 1
        y = cube(m).apply(a)
        a.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_saved_slice_of_nonleaf_then_base_modified_in_place_raises():
    for m in (cr, torch):
        x, = tensors(m, X)
        a = x * 1
        y = cube(m).apply(a[1:])
        a[0] = 5.0  # shares the version counter with the saved slice
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_custom_function_on_slice_of_nonleaf_routes_gradient():
    res = []
    for m in (cr, torch):
        x, = tensors(m, X)
        a = x * 2
        y = cube(m).apply(a[1:])
        y.sum().backward()
        res.append(x.grad.numpy())
    assert_close(res[0], res[1], **F64)


def test_second_order_through_custom_backward_matches_torch():
    res = []
    for m in (cr, torch):
        x, = tensors(m, X)
        y = cube(m).apply(x)
        g, = m.autograd.grad(y.sum(), x, create_graph=True)
        gg, = m.autograd.grad((g * g).sum(), x)
        res.append((g.detach().numpy(), gg.numpy()))
    for u, v in zip(*res):
        assert_close(u, v, **F64)


def test_second_order_through_multiple_outputs():
    res = []
    for m in (cr, torch):
        x, = tensors(m, X)
        s, c = sincos(m).apply(x)
        g, = m.autograd.grad((s * c).sum(), x, create_graph=True)
        gg, = m.autograd.grad(g.sum(), x)
        res.append(gg.numpy())
    assert_close(res[0], res[1], **F64)


def once(m, decorator):
    class Square(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        @decorator
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g
    return Square


def test_once_differentiable_first_order_and_double_backward_error():
    from torch.autograd.function import once_differentiable as torch_once
    for m, deco in ((cr, cr_once), (torch, torch_once)):
        x, = tensors(m, X)
        y = once(m, deco).apply(x)
        g, = m.autograd.grad((y * y).sum(), x, create_graph=True)
        assert_close(g.detach().numpy(), 4 * X ** 3, **F64)
        with pytest.raises(RuntimeError, match="trying to differentiate twice a function that "
                                               "was marked with @once_differentiable"):
            g.sum().backward()


def test_setup_context_new_style():
    res = []
    for m in (cr, torch):
        class Mul(m.autograd.Function):
            @staticmethod
            def forward(x, k):
                return x * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.k = inputs[1]
                ctx.save_for_backward(output)

            @staticmethod
            def backward(ctx, g):
                out, = ctx.saved_tensors
                return g * ctx.k + 0 * out, None
        x, = tensors(m, X)
        Mul.apply(x, 3.0).sum().backward()
        res.append(x.grad.numpy())
    assert_close(res[0], res[1], **F64)


def test_gradcheck_and_gradgradcheck_pass_for_a_correct_backward():
    x = cr.tensor(X, requires_grad=True)
    assert gradcheck(cube(cr).apply, (x,))
    assert gradgradcheck(cube(cr).apply, (x,))
    assert gradcheck(lambda t: sincos(cr).apply(t), (x,))


def test_gradcheck_catches_a_wrong_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            return 2 * g
    x = cr.tensor(X, requires_grad=True)
    assert gradcheck(Wrong.apply, (x,), raise_exception=False) is False


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch warns that anomaly mode is slow
def test_anomaly_mode_names_the_custom_function():
    for m in (cr, torch):
        class NanGrad(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * float("nan")
        x, = tensors(m, X)
        with m.autograd.detect_anomaly():
            with pytest.raises(RuntimeError, match="Function 'NanGradBackward' returned "
                                                   "nan values in its 0th output"):
                NanGrad.apply(x).sum().backward()


def test_anomaly_mode_names_a_custom_forward_that_makes_nan():
    class Root(Function):
        @staticmethod
        def forward(ctx, x, label):
            return x.sqrt()

        @staticmethod
        def backward(ctx, g):
            return g, None
    x = cr.tensor([-1.0, 4.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="'RootBackward' produced nan values"):
            Root.apply(x, [[1], [2, 3]])  # a ragged non-tensor argument is fine


def test_grad_fn_is_named_after_the_class():
    cy = cube(cr).apply(cr.tensor(X, requires_grad=True))
    ty = cube(torch).apply(torch.tensor(X, requires_grad=True))
    assert cy.grad_fn.name() == type(ty.grad_fn).__name__ == "CubeBackward"
    assert type(cy.grad_fn).__name__ == "CubeBackward"
    assert "CubeBackward" in repr(cy) and "CubeBackward" in repr(cy.grad_fn)


def error_text(m, backward_result, args=(X,), extra=()):
    class Bad(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, *rest):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return backward_result(m, g)
    x, = tensors(m, *args)
    with pytest.raises(RuntimeError) as err:
        Bad.apply(x, *extra).sum().backward()
    return str(err.value)


@pytest.mark.parametrize("case, result, extra", [
    ("too few", lambda m, g: g, (3.0,)),
    ("too many", lambda m, g: (g, g, g), ()),
    ("non-None for a non-tensor", lambda m, g: (g, g), (3.0,)),
    ("wrong shape", lambda m, g: m.ones(5, dtype=g.dtype), ()),
    ("not a tensor", lambda m, g: "grad", ()),
])
def test_bad_backward_results_give_torchs_error(case, result, extra):
    assert error_text(cr, result, extra=extra) == error_text(torch, result, extra=extra)


def test_extra_trailing_none_gradients_are_allowed():
    res = []
    for m in (cr, torch):
        class Extra(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2, None, None
        x, = tensors(m, X)
        Extra.apply(x).sum().backward()
        res.append(x.grad.numpy())
    assert_close(res[0], res[1], **F64)


def test_retain_graph_runs_backward_again_and_freed_graph_raises():
    calls = []

    class Count(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            ctx.saved_tensors
            return g * 2
    x = cr.tensor(X, requires_grad=True)
    y = Count.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert len(calls) == 2
    assert_close(x.grad.numpy(), 4 * np.ones(3), **F64)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_no_grad_apply_records_nothing():
    x = cr.tensor(X, requires_grad=True)
    with cr.no_grad():
        y = cube(cr).apply(x)
    assert not y.requires_grad and y.grad_fn is None


def test_float16_input_with_python_scalar_keeps_dtype():
    res = []
    for m in (cr, torch):
        x = m.tensor([0.5, -1.5], dtype=m.float16, requires_grad=True)
        y = scaled(m).apply(x, 3, 0.5)
        y.sum().backward()
        assert y.dtype == m.float16 and x.grad.dtype == m.float16
        res.append(x.grad.float().numpy())
    assert_close(res[0], res[1], **F64)


def test_legacy_call_and_missing_methods_raise_torchs_errors():
    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2
    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward"):
        NoBackward()(cr.tensor(X))
    with pytest.raises(NotImplementedError, match="You must implement either the backward"):
        NoBackward.apply(cr.tensor(X, requires_grad=True)).sum().backward()
    with pytest.raises(NotImplementedError, match="You must implement the forward function"):
        Function.apply(cr.tensor(X))


def view_fn(m):
    class TailView(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x[1:]

        @staticmethod
        def backward(ctx, g):
            out = m.zeros(3, dtype=g.dtype)
            out[1:] = g
            return out
    return TailView


def test_custom_function_returning_a_view_of_its_input_routes_gradient():
    res = []
    for m in (cr, torch):
        x = m.tensor(X, requires_grad=True)
        y = view_fn(m).apply(x * 2)
        (y * y).sum().backward()
        res.append(x.grad.numpy())
    assert_close(res[0], res[1], **F64)


def test_inplace_on_view_output_of_custom_function_is_refused():
    for m in (cr, torch):
        x = m.tensor(X, requires_grad=True)
        y = view_fn(m).apply(x * 2)
        with pytest.raises(RuntimeError, match="view.*modified inplace"):
            y.mul_(2)


def test_gradient_returned_from_a_saved_tensor_is_copied_into_grad():
    class PassSaved(Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(w)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            w, = ctx.saved_tensors
            return w, None
    x = cr.zeros(3, requires_grad=True)
    w = cr.tensor([1.0, 2.0, 3.0])
    PassSaved.apply(x, w).sum().backward()
    PassSaved.apply(x, w).sum().backward()  # accumulates into x.grad in place
    assert w.tolist() == [1.0, 2.0, 3.0]
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


def test_same_tensor_returned_twice_carries_the_last_outputs_history():
    res = []
    for m in (cr, torch):
        class Twice(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x * 2
                return y, y

            @staticmethod
            def backward(ctx, g1, g2):
                return 2 * g1 + 20 * g2
        x = m.tensor(X, requires_grad=True)
        a, b = Twice.apply(x)
        assert a is b  # as in PyTorch: one tensor, the history of output 1
        (a + 3 * b).sum().backward()
        res.append(x.grad.numpy())
    assert_close(res[0], res[1], **F64)


def test_returning_an_outside_leaf_does_not_rewrite_its_history():
    w = cr.tensor(X, requires_grad=True)

    class ReturnW(Function):
        @staticmethod
        def forward(ctx, x):
            return w

        @staticmethod
        def backward(ctx, g):
            return g
    x = cr.ones(3, requires_grad=True)
    y = ReturnW.apply(x)
    assert y is not w and w.is_leaf and w.grad_fn is None
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0] and w.grad is None
