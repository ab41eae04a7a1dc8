"""A float32 product runs in float64 and is rounded once (ops/accumulate.py's table):
partial products of a long product cannot overflow on the way to a finite answer. Found by
`tools/fuzz_campaign.py --seed 57` (long profile): 100,000 values (-0.75) ** x between
0.56 and 1.78 multiply to 8.8e21, where a product kept in float32 reached inf."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _walk(n, seed):
    # a random walk of the logarithm: partial products range far wider than the result
    rng = np.random.default_rng(seed)
    steps = rng.choice((-0.6, 0.6), size=n)
    steps[-1] -= steps.sum()  # the whole product is exp(0) = 1, up to rounding
    return np.exp(steps).astype(np.float32)


def test_float32_prod_whose_partial_products_pass_float32s_range_is_finite():
    x = _walk(100_000, 3)
    partial = np.cumsum(np.log(x.astype(np.float64)))
    assert partial.max() > np.log(np.finfo(np.float32).max)  # the walk leaves float32's range
    exact = np.prod(x.astype(np.float64))
    got = cr.tensor(x).prod()
    assert got.dtype == cr.float32
    assert float(got) == pytest.approx(exact, rel=1e-6)
    assert float(got) == pytest.approx(float(torch.tensor(x).double().prod()), rel=1e-6)


def test_float32_prod_of_values_meeting_in_range_is_the_rounded_exact_product():
    # PyTorch's in-order loop gives inf here (1e20 * 1e20 overflows float32 first);
    # chainrule's answer is the exact product, 1, rounded once
    x = cr.tensor([1e20, 1e20, 1e-20, 1e-20])
    assert float(x.prod()) == pytest.approx(1.0, rel=1e-6)


def test_float32_prod_past_the_range_is_inf_without_a_warning():
    with np.errstate(all="raise"):
        assert float(cr.tensor([3e38, 2.0]).prod()) == float("inf")
        assert float(cr.tensor([-3e38, 2.0]).prod()) == float("-inf")


def test_float32_prod_over_a_dim_and_its_gradient_match_torch():
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 2.0, (3, 50)).astype(np.float32)
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = x.prod(1, keepdim=True), t.prod(1, keepdim=True)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-4)
    assert out.dtype == cr.float32 and x.grad.dtype == cr.float32


@pytest.mark.parametrize("step", [("reduce", "prod", 0, None, False),
                                  ("reduce_dtype", "prod", 0, None, False, "float32")],
                         ids=["prod", "prod-with-dtype"])
def test_fuzz_comparison_excuses_only_the_exact_product_where_torchs_loop_overflows(step):
    from fuzz_known import _KNOWN
    rule = _KNOWN[step[:2]]
    tvals = [torch.tensor([1e20, 1e20, 1e-20, 1e-20])]
    want = torch.prod(tvals[0]).numpy()
    assert np.isinf(want)  # PyTorch's in-order loop
    assert rule(step, tvals, np.float32(1.0), want, None)  # chainrule's: exact, rounded once
    assert not rule(step, tvals, np.float32(2.0), want, None)  # any other answer fails


def test_float32_prod_through_an_overflow_to_a_zero_is_zero_and_excused_slice_by_slice():
    # PyTorch: 1e30 * 1e30 is inf in float32, inf * 0 is NaN; chainrule: the exact 0. The
    # comparison excuses that slice even when another slice holds a NaN (found by
    # `tools/fuzz_campaign.py --seed 58`), never the NaN slice itself
    from fuzz_known import _KNOWN
    a = np.array([[1e30, 1.0], [1e30, np.nan], [0.0, 2.0]], dtype=np.float32)
    got = cr.tensor(a).prod(0).numpy()
    assert got[0] == 0.0 and np.isnan(got[1])
    tvals = [torch.tensor(a)]
    want = torch.prod(tvals[0], 0).numpy()
    assert np.isnan(want[0])
    mask = _KNOWN[("reduce", "prod")](("reduce", "prod", 0, 0, False), tvals, got, want, None)
    assert mask.tolist() == [True, False]
