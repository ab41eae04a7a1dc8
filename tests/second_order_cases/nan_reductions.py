"""nansum / nanmean: the sums that skip NaN (inputs here hold none; the NaN rule is pinned
by tests/regressions/test_nan_reductions_and_cumprod_gradients_follow_torch.py)."""
CASES = {
    "nansum_nanmean": (lambda M, F, L, x: M.nansum(x * x, 1) * M.nanmean(x.exp(), 1),
                       [("any", (2, 3))]),
}
