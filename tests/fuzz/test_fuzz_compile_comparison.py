"""The compile fuzzer's comparison allows one difference, and counts it: a NaN's sign."""
import numpy as np

from fuzz_compile import _only_nan_signs_differ


def test_the_compile_comparison_excuses_only_the_sign_of_a_nan():
    nan = np.float64(np.nan)
    a = np.array([1.0, nan, -0.0])
    assert _only_nan_signs_differ(a, np.array([1.0, -nan, -0.0]))
    assert not _only_nan_signs_differ(a, np.array([1.0, nan, 0.0]))        # a zero's sign
    assert not _only_nan_signs_differ(a, np.array([1.0 + 2e-16, nan, -0.0]))  # one ulp
    assert not _only_nan_signs_differ(a, np.array([nan, nan, -0.0]))       # where NaNs are
    assert not _only_nan_signs_differ(np.array([1, 2]), np.array([1, 3]))  # integers
