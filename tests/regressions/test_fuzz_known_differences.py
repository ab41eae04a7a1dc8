"""The intended differences from PyTorch that the differential fuzzer excuses
(tests/fuzz/fuzz_known.py): chainrule's own answer pinned, and the excuse shown to be
narrow (any other answer on either side is still a failure)."""
from math import inf, nan  # noqa: F401  (recipes hold them)

import pytest

pytest.importorskip("torch")

from fuzz_check import check_recipe  # noqa: E402


def test_var_and_std_of_equal_huge_float32_values_are_exactly_zero():
    # intended difference, excused in tests/fuzz/fuzz_known.py: PyTorch's float32 kernel
    # gives inf (var) and 9e22 (std) for three 1e30s, its mean being off by rounding
    import chainrule as cr
    for dim in (None, 0):
        x = cr.tensor([1e30, 1e30, 1e30], requires_grad=True)
        assert float(x.var(dim)) == 0.0
        s = x.std(dim)
        assert float(s) == 0.0
        s.backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0]  # std's gradient at 0 is 0, as PyTorch


def test_fuzz_comparison_excuses_one_float32_var_result_only_as_torchs_float32_mean_explains():
    import numpy as np
    import torch
    import fuzz_check
    from fuzz_known import excused
    recipe = [("leaf", (2, 3), "int16", 4453, "edge"), ("scalar", "rsub", 0, 1e30),
              ("reduce", "std", 1, None, False)]
    before = fuzz_check.COUNTER["excused"]
    check_recipe(recipe)
    assert fuzz_check.COUNTER["excused"] == before + 1
    check_recipe([("leaf", (4,), "float32", 35033, "edge"), ("unary", "relu", 0),
                  ("unary", "clamp_both", 1), ("reduce", "std", 2, -1, True)])
    assert fuzz_check.COUNTER["excused"] == before + 2
    tvals = [None, torch.full((2, 3), 1e30)]
    want = tvals[1].std().numpy()  # 9e22: the float32 mean is off by rounding
    assert excused(recipe, 2, tvals, np.float32(0.0), want) is not None
    # any other chainrule or torch answer, or another input, is still compared
    assert excused(recipe, 2, tvals, np.float32(1.0), want) is None
    assert excused(recipe, 2, tvals, np.float32(0.0), want * 2) is None
    tvals[1][0, 0] = 0.0
    assert excused(recipe, 2, tvals, np.float32(0.0), want) is None


def test_log1p_of_the_smallest_subnormal_is_that_subnormal():
    # intended difference, excused in tests/fuzz/fuzz_known.py: log1p(x) = x - x²/2 + ...
    # rounds to x; PyTorch's CPU kernel returns 0 for the smallest subnormal
    import numpy as np
    import chainrule as cr
    for dt in ("float32", "float64"):
        tiny = np.finfo(dt).smallest_subnormal
        x = cr.tensor(np.array([tiny, -3 * tiny], dtype=dt), requires_grad=True)
        y = cr.log1p(x)
        assert y.tolist() == [float(tiny), float(-3 * tiny)]
        cr.nn.functional.relu(y).sum().backward()  # the positive one passes relu's gradient
        assert x.grad.tolist() == [1.0, 0.0]


def test_fuzz_comparison_excuses_log1p_of_a_subnormal_and_stops_there():
    import numpy as np
    import fuzz_check
    from fuzz_known import excused
    recipe = [("leaf", (3, 2), "float32", 62202, "edge"), ("unary", "log1p", 0),
              ("unary", "relu", 1)]
    before = fuzz_check.COUNTER["excused"]
    check_recipe(recipe)
    assert fuzz_check.COUNTER["excused"] == before + 1
    tiny = np.finfo(np.float32).smallest_subnormal
    got = np.array([tiny, 0.5], dtype=np.float32)
    assert excused(recipe, 1, None, got, np.array([0.0, 0.5], np.float32)).tolist() == \
        [True, False]
    # any other difference in log1p is still a failure
    assert excused(recipe, 1, None, got, got * 2) is None


def test_gelu_of_inf_is_inf():
    # intended difference, excused in tests/fuzz/fuzz_known.py: PyTorch's float32 kernel
    # gives NaN for gelu(inf), its float64 and float16 kernels inf
    import chainrule as cr
    for dt in (cr.float16, cr.float32, cr.float64):
        y = cr.nn.functional.gelu(cr.tensor([inf, -1e30, 0.0], dtype=dt))
        assert y.tolist()[0] == inf and y.tolist()[2] == 0.0


def test_fuzz_comparison_excuses_gelu_of_inf_only_for_float32_nan():
    import numpy as np
    import torch
    from fuzz_known import excused
    recipe = [("leaf", (1, 3), "int32", 15577, "edge"), ("scalar", "add", 0, 1e-40),
              ("scalar", "add", 1, inf), ("unary", "gelu", 2)]
    # PyTorch's float32 gelu(inf) is NaN on some CPUs and inf on others (AVX2 kernels):
    # the recipe passes either way; the excuse itself is checked on fixed values below
    check_recipe(recipe)
    tvals = [None, None, torch.tensor([inf, 1.0])]
    got = np.array([inf, 0.84], np.float32)
    assert excused(recipe, 3, tvals, got, np.array([nan, 0.84], np.float32)).tolist() == \
        [True, False]
    assert excused(recipe, 3, tvals, got, np.array([nan, nan], np.float32)).tolist() == \
        [True, False]  # the second NaN is not excused: the comparison still fails on it
    assert excused(recipe, 3, tvals, got.astype(np.float64),
                   np.array([nan, 0.84])) is None


def test_norm_of_one_element_is_its_magnitude():
    # intended difference, excused in tests/fuzz/fuzz_known.py: PyTorch squares a fresh 0-d
    # tensor normed over a dim (2e30 is inf in float32, 1e-45 is 0) but not the 0-d result
    # of a min over a dim; chainrule's is |x| either way
    import chainrule as cr
    for v in (2e30, 1e-45, -3.0):
        for x in (cr.tensor(v), cr.tensor([v]).min(dim=-1)[0], cr.tensor([v])):
            assert float(x.norm(dim=0)) == abs(float(cr.tensor(v)))
    check_recipe([("leaf", (), "int64", 12171), ("scalar", "rmul", 0, -1e30),
                  ("reduce", "norm", 1, -1, False)])
    check_recipe([("leaf", (1,), "float32", 56999, "edge"),
                  ("reduce", "min_values", 0, -1, False), ("reduce", "norm", 1, 0, True),
                  ("scalar", "rmul", 2, 2)])


def test_fuzz_comparison_excuses_a_sum_only_within_its_terms_scale():
    # float32 ±1.07e9 cancelling to about 100: the summation order decides the result
    check_recipe([("leaf", (4,), "int16", 2465), ("unary", "sign", 0),
                  ("leaf", (1,), "uint8", 50830), ("binary", "minimum", 2, 1),
                  ("leaf", (2, 4), "int32", 51843, "edge"), ("binary", "div", 4, 3),
                  ("leaf", (2, 4), "bool", 56652, "edge"), ("masked_fill", 5, 6, -1.5),
                  ("reduce", "sum", 7, None, True)])
    # and the comparison stops there: a later step inherits the difference
    check_recipe([("leaf", (1, 3, 4), "int32", 63591, "edge"), ("scalar", "rsub", 0, 0.5),
                  ("leaf", (2, 2, 3, 4), "int16", 23127), ("binary", "add", 1, 2),
                  ("scalar", "sub", 3, -1), ("reduce", "sum", 4, None, False),
                  ("scalar", "add", 5, 3)])
    import numpy as np
    import torch
    from fuzz_known import excused
    recipe = [("leaf", (3,), "float32", 0), ("reduce", "sum", 0, None, False)]
    tol = (2e-3, 2e-4)
    big = [torch.tensor([1.07e9, -1.07e9, 128.0])]
    assert excused(recipe, 1, big, np.float32(48.5), np.float32(128.0), tol)
    # well-conditioned terms, or an error past the terms' scale, are still compared
    small = [torch.tensor([64.0, 64.0, 0.0])]
    assert excused(recipe, 1, small, np.float32(48.5), np.float32(128.0), tol) is None
    assert excused(recipe, 1, big, np.float32(1e6), np.float32(128.0), tol) is None


def test_float16_rsqrt_is_correctly_rounded():
    # intended difference, excused in tests/fuzz/fuzz_known.py: rounded once, as PyTorch's
    # vectorised loop; its scalar loop (small tensors, tails) rounds the root first
    import numpy as np
    import chainrule as cr
    import fuzz_check
    x = np.array([2.041015625, 0.25, 3.0], dtype=np.float16)
    want = (1 / np.sqrt(x.astype(np.float64))).astype(np.float16)
    assert cr.rsqrt(cr.tensor(x)).tolist() == want.tolist()
    before = fuzz_check.COUNTER["excused"]
    check_recipe([("leaf", (4, 1, 1), "float16", 25029), ("unary", "rsqrt", 0),
                  ("unary", "clamp_both", 1)])
    assert fuzz_check.COUNTER["excused"] == before + 1


def test_pow_with_a_bool_operand_or_an_integer_minimum_exponent_has_the_exact_gradient():
    # intended differences, excused in tests/fuzz/fuzz_known.py: PyTorch's backward fails
    # for `True ** x` (an internal assert) and `x ** bool_tensor` (bool subtraction), and
    # for x ** int64(-2 ** 63) it differentiates x ** (2 ** 63 - 1) (`exponent - 1` wraps)
    import chainrule as cr
    x = cr.tensor([0.5, 2.0], requires_grad=True)
    (True ** x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]  # 1 ** x is flat
    x.grad = None
    (x ** cr.tensor([True, False])).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0]
    x.grad = None
    (x ** cr.tensor([-2 ** 63, 1])).sum().backward()
    assert x.grad.tolist() == [float("-inf"), 1.0]  # -2 ** 63 * 0.5 ** (-2 ** 63 - 1)


def test_fuzz_comparison_excuses_pow_backward_only_for_those_defects():
    import fuzz_check
    before = fuzz_check.COUNTER["excused"]
    check_recipe([("int_leaf", (3,), "float32", 32459, "edge"),
                  ("int_binary", "pow", 0, None, True, True)])
    check_recipe([("leaf", (2, 2), "float64", 1453), ("reduce", "mean", 0, 0, True),
                  ("int_leaf", (), "bool", 3904, "uniform"),
                  ("int_binary", "pow", 2, 1, None, True)])
    check_recipe([("leaf", (3, 3), "float32", 52928), ("int_leaf", (3,), "int64", 50901, "edge"),
                  ("int_binary", "pow", 0, 1, None, False)])
    assert fuzz_check.COUNTER["excused"] == before + 3
    # a pow of a float by an integer without its minimum is compared in full
    check_recipe([("leaf", (3, 3), "float32", 52928), ("int_leaf", (3,), "int64", 1, "uniform"),
                  ("int_binary", "pow", 0, 1, None, False)])
    assert fuzz_check.COUNTER["excused"] == before + 3


def test_pow_by_false_has_the_gradient_of_pow_by_zero():
    # intended difference, spelled out in tests/fuzz/fuzz_known.py: PyTorch's x ** 0 has a
    # zero gradient everywhere; its x ** False a NaN one at x = 0 and under a NaN gradient
    import numpy as np
    import torch
    import chainrule as cr
    for upstream in ([1.0, 1.0, 1.0], [float("nan"), 2.0, 1.0]):
        grads = []
        for M, exponent in ((cr, False), (torch, 0)):
            x = M.tensor([2.0, 0.0, -1.5], dtype=M.float64, requires_grad=True)
            ((x ** exponent) * M.tensor(upstream, dtype=M.float64)).sum().backward()
            grads.append(x.grad.numpy())
        np.testing.assert_array_equal(grads[0], [0.0, 0.0, 0.0])
        np.testing.assert_array_equal(grads[0], grads[1])


def test_fuzz_comparison_compares_pow_by_false_with_pytorchs_pow_by_zero():
    from fuzz_known import SEEN, torch_equivalent
    recipe = [("leaf", (1,), "float64", 765), ("int_binary", "pow", 0, None, False, False),
              ("reduce", "norm1", 1, -1, False), ("reduce", "std", 2, None, False)]
    before = SEEN["pow by False"]
    check_recipe(recipe)  # PyTorch's x ** False: a NaN gradient; chainrule's and x ** 0: 0
    assert SEEN["pow by False"] == before + 1
    import torch
    x = [torch.tensor([1.5])]
    assert torch_equivalent(recipe[:2], x) == [recipe[0], ("int_binary", "pow", 0, None, 0, False)]
    # True, a swapped (False ** x) or an integer base are compared as they are
    assert torch_equivalent([recipe[0], ("int_binary", "pow", 0, None, True, False)], x) is None
    assert torch_equivalent([recipe[0], ("int_binary", "pow", 0, None, False, True)], x) is None
    assert torch_equivalent(recipe[:2], [torch.tensor([3])]) is None


def test_fuzz_comparison_excuses_integer_terms_cancelling_in_a_float_mean():
    # int32 ±2 ** 31 beside a 100, their mean taken in float32: the order of the additions
    # decides whether the 100 survives (PyTorch 8.33, chainrule 0); past the terms' scale,
    # or with terms that do not cancel, still compared
    import numpy as np
    import torch
    from fuzz_known import excused
    check_recipe([("leaf", (1, 4, 3), "int32", 63471, "edge"),
                  ("reduce_dtype", "mean", 0, None, False, "float32")])
    step = ("reduce_dtype", "mean", 0, None, False, "float32")
    tol = (2e-3, 2e-4)
    big = [torch.tensor([2 ** 31 - 1, -2 ** 31, 100], dtype=torch.int32)]
    assert excused([step], 0, big, np.float32(0.0), np.float32(33.3), tol)
    assert excused([step], 0, big, np.float32(1e7), np.float32(33.3), tol) is None
    small = [torch.tensor([100, 0, 0], dtype=torch.int32)]
    assert excused([step], 0, small, np.float32(0.0), np.float32(33.3), tol) is None
