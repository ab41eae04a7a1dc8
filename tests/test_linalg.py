"""chainrule.linalg against torch.linalg: forward, backward (same loss through both), the
errors for bad input, and gradcheck/gradgradcheck where PyTorch's functions have them."""
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import linalg as LA
from chainrule.autograd import gradcheck, gradgradcheck
from helpers import assert_close, magnitude, requires_torch, torch

pytestmark = requires_torch
RTOL, ATOL = 1e-9, 1e-10


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def spd(n, batch=(), seed=0):
    a = rand(*batch, n, n, seed=seed)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def run_both(fn, *arrays, seed=1):
    """fn(lib, *tensors) -> tensor or tuple; returns chainrule and torch outputs and the
    gradients of the same random weighted sum of all float outputs."""
    results = []
    for lib in (cr, torch):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = fn(lib, *xs)
        outs = out if isinstance(out, tuple) else (out,)
        rng = np.random.default_rng(seed)
        loss = 0
        for o in outs:
            weights = rng.uniform(0.5, 1.5, tuple(o.shape))  # drawn for every output alike
            if o.dtype in (lib.float32, lib.float64) and o.requires_grad:
                loss = loss + (o * lib.tensor(weights)).sum()
        if not isinstance(loss, int):
            loss.backward()
        results.append(([o.detach().numpy() for o in outs],
                        [None if x.grad is None else x.grad.numpy() for x in xs]))
    return results


def check_against_torch(fn, *arrays, rtol=RTOL, atol=ATOL, grad=True):
    (co, cg), (to, tg) = run_both(fn, *arrays)
    for c, t in zip(co, to):
        assert c.shape == t.shape
        assert_close(c, t, rtol=rtol, atol=atol, scale=magnitude(*arrays))
    if grad:
        for c, t in zip(cg, tg):
            if c is None or t is None:  # no gradient and a zero gradient agree
                assert not np.any(c if c is not None else t)
            else:
                assert_close(c, t, rtol=rtol * 100, atol=atol * 100)


def f64(a, grad=True):
    return cr.tensor(a, dtype=cr.float64, requires_grad=grad)


# ---- inv ---------------------------------------------------------------------------------
def test_inv_batched_matches_torch_forward_and_backward():
    check_against_torch(lambda L, a: L.linalg.inv(a), rand(2, 3, 4, 4))


def test_inv_gradcheck_and_gradgradcheck():
    assert gradcheck(LA.inv, (f64(rand(3, 3)),))
    assert gradgradcheck(LA.inv, (f64(rand(2, 3, 3, seed=2)),))


def test_inverse_function_and_method_are_linalg_inv():
    a = rand(3, 3)
    expected = torch.inverse(torch.tensor(a)).numpy()
    np.testing.assert_allclose(cr.inverse(cr.tensor(a)).numpy(), expected, rtol=RTOL)
    np.testing.assert_allclose(cr.tensor(a).inverse().numpy(), expected, rtol=RTOL)


def test_inv_of_float32_matches_torch():
    a = rand(4, 4).astype(np.float32)
    np.testing.assert_allclose(LA.inv(cr.tensor(a)).numpy(),
                               torch.linalg.inv(torch.tensor(a)).numpy(), rtol=1e-4, atol=1e-5)


def test_inv_singular_matrix_error_names_the_zero_diagonal_element():
    s = [[1.0, 2.0], [2.0, 4.0]]
    for arg in (cr.tensor(s), cr.stack([cr.eye(2), cr.tensor(s)])):
        with pytest.raises(RuntimeError) as ours:
            LA.inv(arg)
        with pytest.raises(RuntimeError) as theirs:
            torch.linalg.inv(torch.tensor(arg.numpy()))
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(cr.linalg.LinAlgError):
        LA.inv(cr.zeros(3, 3))


@pytest.mark.parametrize("bad,fragment", [
    (np.ones((2, 3)), "A must be batches of square matrices, but they are 2 by 3 matrices"),
    (np.ones(3), "The input tensor A must have at least 2 dimensions"),
    (np.eye(2, dtype=np.int64), "Expected a floating point or complex tensor as input. Got Long")])
def test_inv_rejects_non_square_vector_and_integer_inputs(bad, fragment):
    with pytest.raises(RuntimeError, match=fragment):
        LA.inv(cr.tensor(bad))
    with pytest.raises(RuntimeError, match=fragment):
        torch.linalg.inv(torch.tensor(bad))


# ---- solve -------------------------------------------------------------------------------
@pytest.mark.parametrize("a_shape,b_shape", [((3, 3), (3, 2)), ((3, 3), (3,)), ((2, 3, 3), (3, 4)),
                                             ((2, 3, 3), (2, 3)), ((3, 3), (2, 3, 1))])
def test_solve_matches_torch_with_vectors_and_broadcast_batches(a_shape, b_shape):
    check_against_torch(lambda L, a, b: L.linalg.solve(a, b), rand(*a_shape), rand(*b_shape, seed=3))


def test_solve_left_false_solves_xa_equals_b():
    check_against_torch(lambda L, a, b: L.linalg.solve(a, b, left=False), rand(3, 3), rand(2, 3, seed=4))


def test_solve_gradcheck_and_gradgradcheck():
    a, b = f64(rand(3, 3)), f64(rand(3, 2, seed=5))
    assert gradcheck(LA.solve, (a, b))
    assert gradgradcheck(LA.solve, (a, b))


def test_solve_errors_for_singular_matrix_shapes_and_dtypes():
    with pytest.raises(RuntimeError, match=r"torch.linalg.solve: \(Batch element 1\): The solver "
                       "failed because the input matrix is singular"):
        LA.solve(cr.stack([cr.eye(2), cr.ones(2, 2)]), cr.ones(2, 2, 1))
    with pytest.raises(RuntimeError, match=r"Incompatible shapes of A and B for the equation AX = B "
                       r"\(2x2 and 3x1\)"):
        LA.solve(cr.eye(2), cr.ones(3))
    with pytest.raises(RuntimeError, match="same dtype"):
        LA.solve(cr.eye(2), cr.ones(2, dtype=cr.float64))


# ---- det, slogdet ------------------------------------------------------------------------
def test_det_batched_matches_torch_forward_and_backward():
    check_against_torch(lambda L, a: L.linalg.det(a), rand(3, 4, 4))


def test_det_gradient_of_a_singular_matrix_is_the_adjugate():
    # PyTorch returns zeros at an exactly singular matrix; the derivative there is the
    # adjugate (transposed), the limit of PyTorch's own gradients at nearby matrices
    s = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    a = f64(s)
    LA.det(a).backward()
    near = torch.tensor(s + 1e-7 * np.eye(3), requires_grad=True)
    torch.linalg.det(near).backward()
    np.testing.assert_allclose(a.grad.numpy(), near.grad.numpy(), rtol=1e-5, atol=1e-5)
    assert np.abs(a.grad.numpy()).max() > 1  # not the zeros of the invertible-only formula
    assert gradcheck(LA.det, (f64(s),))


def test_det_gradcheck_and_gradgradcheck_and_function_and_method():
    a = f64(rand(3, 3, seed=6))
    assert gradcheck(LA.det, (a,))
    assert gradgradcheck(LA.det, (a,))
    np.testing.assert_allclose(cr.det(a).item(), np.linalg.det(a.detach().numpy()), rtol=RTOL)
    np.testing.assert_allclose(a.det().item(), torch.det(torch.tensor(a.detach().numpy())).item(),
                               rtol=RTOL)


def test_det_rejects_non_square():
    with pytest.raises(RuntimeError, match="linalg.det: A must be batches of square matrices"):
        LA.det(cr.ones(2, 3))


def test_slogdet_sign_and_logabsdet_match_torch_including_negative_determinants():
    a = rand(3, 3, 3, seed=7)
    a[0] = -np.eye(3)
    check_against_torch(lambda L, x: tuple(L.linalg.slogdet(x)), a)
    res = LA.slogdet(cr.eye(2))
    assert res.sign.item() == 1.0 and res.logabsdet.item() == 0.0
    assert gradcheck(lambda x: LA.slogdet(x).logabsdet, (f64(a),))


# ---- pinv, lstsq, matrix_power -----------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_pinv_matches_torch_forward_and_backward(shape):
    check_against_torch(lambda L, a: L.linalg.pinv(a), rand(*shape), rtol=1e-8)


def test_pinv_of_rank_deficient_matrix_cuts_small_singular_values_like_torch():
    a = np.outer([1.0, 2.0, 3.0], [1.0, -1.0])
    check_against_torch(lambda L, x: L.linalg.pinv(x), a, grad=False)
    assert gradcheck(LA.pinv, (f64(rand(4, 3, seed=8)),))


def test_lstsq_solution_and_fields_match_torch_for_each_driver():
    a, b = rand(6, 3), rand(6, 2, seed=9)
    for driver in (None, "gelsy", "gelsd", "gelss"):
        ours = LA.lstsq(cr.tensor(a), cr.tensor(b), driver=driver)
        theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
        for field in ("solution", "residuals", "rank", "singular_values"):
            o, t = getattr(ours, field).numpy(), getattr(theirs, field).numpy()
            assert o.shape == t.shape, (driver, field)
            np.testing.assert_allclose(o, t, rtol=1e-8, atol=1e-10, err_msg=f"{driver} {field}")


def test_lstsq_batched_and_vector_right_hand_side_with_gradients_match_torch():
    check_against_torch(lambda L, a, b: L.linalg.lstsq(a, b).solution, rand(2, 5, 3), rand(2, 5, 2, seed=1),
                        rtol=1e-8)
    check_against_torch(lambda L, a, b: L.linalg.lstsq(a, b).solution, rand(5, 3), rand(5, seed=2),
                        rtol=1e-8)


def test_lstsq_rejects_mismatched_rows():
    with pytest.raises(RuntimeError, match=r"input.size\(-2\) should match other.size\(-2\)"):
        LA.lstsq(cr.ones(3, 2), cr.ones(4, 1))


@pytest.mark.parametrize("n", [0, 1, 3, 6, -1, -3])
def test_matrix_power_matches_torch(n):
    check_against_torch(lambda L, a: L.linalg.matrix_power(a, n), rand(2, 3, 3, seed=10) / 2,
                        rtol=1e-8)


def test_matrix_power_errors_for_non_square_and_singular_negative_powers():
    with pytest.raises(RuntimeError, match="linalg.matrix_power: A must be batches of square"):
        LA.matrix_power(cr.ones(2, 3), 2)
    with pytest.raises(RuntimeError, match="The diagonal element 2 is zero"):
        LA.matrix_power(cr.tensor([[1.0, 2.0], [2.0, 4.0]]), -1)


# ---- norms ---------------------------------------------------------------------------------
@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, math.inf, -math.inf, 0, -1])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, True), ((0, 2), False)])
def test_vector_norm_matches_torch(ord, dim, keepdim):
    check_against_torch(lambda L, x: L.linalg.vector_norm(x, ord, dim, keepdim), rand(2, 3, 4),
                        rtol=1e-8)


def test_vector_norm_of_zero_vector_has_zero_gradient_like_torch():
    check_against_torch(lambda L, x: L.linalg.vector_norm(x, dim=1), np.zeros((2, 3)))


def test_vector_norm_rejects_integer_input_as_torch_words_it():
    with pytest.raises(RuntimeError, match="linalg.vector_norm: Expected a floating point or "
                       "complex tensor as input. Got Long"):
        LA.vector_norm(cr.tensor([1, 2]))


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf])
@pytest.mark.parametrize("dim,keepdim", [((-2, -1), False), ((0, 2), True), ((2, 0), False)])
def test_matrix_norm_matches_torch(ord, dim, keepdim):
    check_against_torch(lambda L, x: L.linalg.matrix_norm(x, ord, dim, keepdim), rand(3, 4, 5),
                        rtol=1e-8)


def test_matrix_norm_errors_for_bad_order_and_vectors():
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: Order 3 not supported"):
        LA.matrix_norm(cr.ones(2, 2), ord=3)
    with pytest.raises(RuntimeError, match="must have at least 2 dimensions"):
        LA.matrix_norm(cr.ones(2))


@pytest.mark.parametrize("shape,ord,dim", [((3, 4), None, None), ((2, 3, 4), None, None),
                                           ((3, 4), 2, None), ((4,), 3, None), ((3, 4), "nuc", None),
                                           ((2, 3, 4), None, 1), ((2, 3, 4), -math.inf, (0, 1))])
def test_norm_chooses_vector_or_matrix_norm_like_torch(shape, ord, dim):
    check_against_torch(lambda L, x: L.linalg.norm(x, ord, dim), rand(*shape), rtol=1e-8)


def test_norm_with_ord_but_no_dim_needs_one_or_two_dimensions():
    with pytest.raises(RuntimeError, match="If dim is not specified but ord is, the input must be "
                       "1D or 2D. Got 3D."):
        LA.norm(cr.ones(2, 2, 2), ord=2)


# ---- decompositions ---------------------------------------------------------------------------
def _sign_free_eigh(L, a):
    vals, vecs = L.linalg.eigh(a)
    return vals, vecs * vecs  # eigenvectors are defined up to sign


def test_eigh_matches_torch_forward_and_backward_batched():
    check_against_torch(_sign_free_eigh, spd(4, (2,)), rtol=1e-8)


def test_eigh_reads_only_the_chosen_triangle():
    a = rand(3, 3, seed=11)
    for uplo in ("L", "U"):
        check_against_torch(lambda L, x: L.linalg.eigh(x, UPLO=uplo).eigenvalues, a, rtol=1e-8)
    assert np.allclose(LA.eigvalsh(cr.tensor(a)).numpy(),
                       torch.linalg.eigvalsh(torch.tensor(a)).numpy())


def test_eigh_gradcheck_on_symmetric_inputs():
    assert gradcheck(lambda a: _sign_free_eigh(cr, (a + a.mT) / 2), (f64(spd(3, seed=12)),))


def test_eigh_errors():
    with pytest.raises(RuntimeError, match="linalg.eigh: A must be batches of square matrices"):
        LA.eigh(cr.ones(2, 3))
    with pytest.raises(RuntimeError, match="Expected UPLO argument to be 'L' or 'U', but got X"):
        LA.eigh(cr.eye(2), UPLO="X")


def _sign_free_svd(full):
    # singular vectors are defined up to sign, and full_matrices' extra ones only span a space
    def fn(L, a):
        u, s, vh = L.linalg.svd(a, full_matrices=full)
        k = s.shape[-1]
        m, n = a.shape[-2:]
        assert tuple(u.shape[-2:]) == (m, m if full else k)
        assert tuple(vh.shape[-2:]) == (n if full else k, n)
        u, vh = u[..., :, :k], vh[..., :k, :]
        return u * u, s, vh * vh, (u * s[..., None, :]) @ vh
    return fn


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 4, 3)])
@pytest.mark.parametrize("full", [False, True])
def test_svd_matches_torch_forward_and_backward(shape, full):
    check_against_torch(_sign_free_svd(full), rand(*shape, seed=13), rtol=1e-8)


def test_svd_gradcheck_and_svdvals():
    a = f64(rand(4, 3, seed=14))
    assert gradcheck(lambda x: _sign_free_svd(False)(cr, x), (a,))
    check_against_torch(lambda L, x: L.linalg.svdvals(x), rand(3, 5), rtol=1e-8)


def test_svd_rejects_vectors():
    with pytest.raises(RuntimeError, match="linalg.svd: The input tensor A must have at least 2"):
        LA.svd(cr.ones(3))


@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (3, 5), (2, 4, 3)])
def test_qr_matches_torch_forward_and_backward(shape):
    check_against_torch(lambda L, a: tuple(L.linalg.qr(a)), rand(*shape, seed=15), rtol=1e-8)


def test_qr_complete_mode_of_square_and_r_mode_match_torch():
    check_against_torch(lambda L, a: tuple(L.linalg.qr(a, mode="complete")), rand(3, 3), rtol=1e-8)
    q, r = LA.qr(cr.tensor(rand(4, 2)), mode="complete")
    tq, tr = torch.linalg.qr(torch.tensor(rand(4, 2)), mode="complete")
    np.testing.assert_allclose(q.numpy(), tq.numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(r.numpy(), tr.numpy(), rtol=1e-8, atol=1e-12)
    q, r = LA.qr(cr.tensor(rand(4, 2)), mode="r")
    assert tuple(q.shape) == (0,) and tuple(r.shape) == (2, 2)
    assert gradcheck(lambda a: tuple(LA.qr(a)), (f64(rand(3, 4, seed=16)),))


def test_qr_errors_where_torch_cannot_differentiate():
    a = f64(rand(4, 2))
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        LA.qr(a, mode="complete").Q.sum().backward()
    with pytest.raises(RuntimeError, match="depends on Q, which is not computed when mode='r'"):
        LA.qr(a, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="unrecognized mode 'full'"):
        LA.qr(a, mode="full")


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_matches_torch_forward_and_backward(upper):
    check_against_torch(lambda L, a: L.linalg.cholesky(a, upper=upper), spd(4, (2,), seed=17),
                        rtol=1e-8)


def test_cholesky_gradcheck_on_symmetric_inputs():
    assert gradcheck(lambda a: LA.cholesky((a + a.mT) / 2), (f64(spd(3, seed=18)),))


def test_cholesky_not_positive_definite_error_names_the_leading_minor_as_torch():
    bad = [[1.0, 2.0], [2.0, 1.0]]
    for arg in (cr.tensor(bad), cr.stack([cr.eye(2), cr.tensor(bad)])):
        with pytest.raises(RuntimeError) as ours:
            LA.cholesky(arg)
        with pytest.raises(RuntimeError) as theirs:
            torch.linalg.cholesky(torch.tensor(arg.numpy()))
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(RuntimeError, match="A must be batches of square matrices"):
        LA.cholesky(cr.ones(2, 3))


def test_cross_matches_torch_and_rejects_wrong_sizes():
    check_against_torch(lambda L, a, b: L.linalg.cross(a, b), rand(4, 3), rand(4, 3, seed=19))
    check_against_torch(lambda L, a, b: L.linalg.cross(a, b, dim=0), rand(3, 2), rand(3, 2, seed=2))
    with pytest.raises(RuntimeError, match="linalg.cross: inputs dimension -1 must have length 3"):
        LA.cross(cr.ones(2), cr.ones(2))


# ---- the closed-form linear regression of the study notes -------------------------------------
def _load_example():
    path = Path(__file__).resolve().parent.parent / "examples" / "closed_form_regression.py"
    spec = importlib.util.spec_from_file_location("closed_form_regression", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_closed_form_regression_agrees_with_torch_and_recovers_the_weights():
    example = _load_example()
    rng = np.random.default_rng(20)
    X = rng.normal(size=(500, 2))
    y = (X @ np.array([2.0, -3.4]) + 4.2 + rng.normal(scale=0.01, size=500)).reshape(-1, 1)
    ours = example.normal_equation(cr.tensor(X), cr.tensor(y), cr).numpy()
    theirs = example.normal_equation(torch.tensor(X), torch.tensor(y), torch).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.ravel(), [2.0, -3.4, 4.2], atol=5e-3)


def test_closed_form_regression_example_runs(tmp_path):
    import subprocess
    import sys
    path = Path(__file__).resolve().parent.parent / "examples" / "closed_form_regression.py"
    proc = subprocess.run([sys.executable, str(path), "--n", "300"], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    worst = float(proc.stdout.split("largest absolute error:")[1])
    assert worst < 0.01
    assert "normal equation vs solve" in proc.stdout


# ---- second order, edge cases -------------------------------------------------------------------
def _weighted(*shapes):
    rng = np.random.default_rng(21)
    return [cr.tensor(rng.standard_normal(s)) for s in shapes]


def test_decompositions_have_second_derivatives():
    s, tall = f64(spd(3, seed=22)), f64(rand(4, 3, seed=23))
    w3, w33 = _weighted((3,), (3, 3))
    assert gradgradcheck(lambda a: LA.cholesky((a + a.mT) / 2), (s,))
    assert gradgradcheck(lambda a: (lambda r: (r[0] * w3).sum() + (r[1] ** 2 * w33).sum())(
        LA.eigh((a + a.mT) / 2)), (s,))
    assert gradgradcheck(lambda a: (lambda r: (r.U ** 2).sum() + (r.S * w3).sum() + (r.Vh ** 2 * w33).sum())(
        LA.svd(a, full_matrices=False)), (tall,))
    assert gradgradcheck(lambda a: (lambda r: (r.Q ** 2).sum() + (r.R * w33).sum())(LA.qr(a)), (tall,))
    assert gradgradcheck(LA.pinv, (tall,))
    assert gradgradcheck(lambda a: LA.slogdet(a).logabsdet, (f64(rand(3, 3, seed=24)),))


def test_hessian_of_logdet_through_create_graph_matches_torch():
    a = spd(3, seed=25)
    rows = []
    for lib in (cr, torch):
        x = lib.tensor(a, requires_grad=True)
        (g,) = lib.autograd.grad(lib.linalg.slogdet(x).logabsdet, x, create_graph=True)
        (h,) = lib.autograd.grad((g * lib.tensor(np.arange(9.0).reshape(3, 3))).sum(), x)
        rows.append(h.numpy())
    np.testing.assert_allclose(rows[0], rows[1], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("fn", [lambda L, a: L.linalg.inv(a), lambda L, a: L.linalg.det(a),
                                lambda L, a: L.linalg.eigh(a).eigenvalues,
                                lambda L, a: L.linalg.cholesky(a)])
def test_empty_matrices_behave_as_torch(fn):
    for shape in ((0, 0), (2, 0, 0)):
        ours, theirs = fn(cr, cr.zeros(*shape)), fn(torch, torch.zeros(*shape))
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_float32_decompositions_match_torch():
    a = spd(4, seed=26).astype(np.float32)
    for fn in (lambda L, x: L.linalg.cholesky(x), lambda L, x: L.linalg.eigh(x).eigenvalues,
               lambda L, x: L.linalg.svd(x).S, lambda L, x: L.linalg.det(x)):
        ours, theirs = fn(cr, cr.tensor(a)), fn(torch, torch.tensor(a))
        assert ours.dtype == cr.float32
        scale = np.abs(theirs.numpy()).max()
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-4, atol=1e-5 * scale)


def test_half_precision_and_mismatched_dtypes_are_refused_as_torch():
    with pytest.raises(RuntimeError, match="linalg.inv: Low precision dtypes not supported. Got Half"):
        LA.inv(cr.eye(2, dtype=cr.float16))
    with pytest.raises(RuntimeError, match="torch.linalg.lstsq: Expected input and other to have the "
                       "same dtype"):
        LA.lstsq(cr.eye(2), cr.ones(2, 1, dtype=cr.float64))


def test_cholesky_of_nan_input_raises_like_torch_instead_of_returning_nan():
    for bad in ([[np.nan, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, np.nan]]):
        with pytest.raises(RuntimeError) as ours:
            LA.cholesky(cr.tensor(bad))
        with pytest.raises(RuntimeError) as theirs:
            torch.linalg.cholesky(torch.tensor(bad))
        assert str(ours.value) == str(theirs.value)


def test_linalg_functions_take_out_with_the_exact_dtype():
    a = spd(3, seed=27)
    for lib in (cr, torch):
        out = lib.empty(0, dtype=lib.float64)
        assert lib.linalg.inv(lib.tensor(a), out=out) is out
        np.testing.assert_allclose(out.numpy(), np.linalg.inv(a), rtol=1e-10)
        vals, vecs = lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.float64)
        res = lib.linalg.eigh(lib.tensor(a), out=(vals, vecs))
        assert res.eigenvalues is vals and res.eigenvectors is vecs
        np.testing.assert_allclose(vals.numpy(), np.linalg.eigvalsh(a), rtol=1e-10)
        with pytest.raises(RuntimeError, match="(?i)expected out tensor to have dtype"):
            lib.linalg.det(lib.tensor(a), out=lib.empty(0, dtype=lib.float32))


# ---- the smaller torch.linalg functions ------------------------------------------------------------
@pytest.mark.parametrize("upper,left,unit", [(False, True, False), (True, True, False),
                                             (True, False, False), (False, True, True),
                                             (False, False, True)])
def test_solve_triangular_matches_torch_forward_and_backward(upper, left, unit):
    a = rand(2, 3, 3, seed=28) + 3 * np.eye(3)
    b = rand(2, 3, 2, seed=29) if left else rand(2, 2, 3, seed=29)
    check_against_torch(lambda L, x, y: L.linalg.solve_triangular(
        x, y, upper=upper, left=left, unitriangular=unit), a, b)


def test_solve_triangular_second_order_and_singular_triangle_gives_inf_like_torch():
    a, b = f64(np.tril(rand(3, 3, seed=30)) + 3 * np.eye(3)), f64(rand(3, 2, seed=31))
    assert gradgradcheck(lambda x, y: LA.solve_triangular(x, y, upper=False), (a, b))
    sing = [[0.0, 0.0], [1.0, 1.0]]
    ours = LA.solve_triangular(cr.tensor(sing), cr.ones(2, 1), upper=False).numpy()
    theirs = torch.linalg.solve_triangular(torch.tensor(sing), torch.ones(2, 1), upper=False).numpy()
    np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(RuntimeError, match="B must have at least 2 dimensions"):
        LA.solve_triangular(cr.eye(2), cr.ones(2), upper=False)


def test_matrix_rank_cond_vecdot_multi_dot_diagonal_match_torch():
    low_rank = np.outer(rand(4, seed=32), rand(3, seed=33)) + np.outer(rand(4, seed=34), rand(3, seed=35))
    for lib in (cr, torch):
        assert lib.linalg.matrix_rank(lib.tensor(low_rank)).item() == 2
    assert LA.matrix_rank(cr.tensor(np.stack([np.eye(3), low_rank[:3]]))).tolist() == [3, 2]
    a = rand(3, 3, seed=36)
    for p in (None, 2, -2):
        check_against_torch(lambda L, x: L.linalg.cond(x, p), a, rtol=1e-8)
    for p in (1, -1, "fro", "nuc", math.inf):  # PyTorch's own backward fails for these
        np.testing.assert_allclose(LA.cond(cr.tensor(a), p).item(),
                                   torch.linalg.cond(torch.tensor(a), p).item(), rtol=1e-10)
        assert gradcheck(lambda x: LA.cond(x, p), (f64(a),))
    check_against_torch(lambda L, a, b: L.linalg.vecdot(a, b), rand(2, 3), rand(3, seed=37))
    check_against_torch(lambda L, a, b, c: L.linalg.multi_dot([a, b, c]), rand(3), rand(3, 2, seed=38),
                        rand(2, seed=39))
    check_against_torch(lambda L, a: L.linalg.diagonal(a, offset=1), rand(2, 3, 4))
    with pytest.raises(RuntimeError, match="multi_dot\\(\\): expected at least 2 tensors but got 1"):
        LA.multi_dot([cr.ones(3)])


def test_missing_torch_linalg_functions_fail_by_name():
    with pytest.raises(AttributeError, match="chainrule does not support torch.linalg.eig"):
        LA.eig(cr.eye(2))
    assert not hasattr(LA, "eig") and not hasattr(LA, "no_such_function")
