"""Second-order cases of scatter_reduce: each reduction, with and without self's values,
three src values reduced into one position (amax/amin on distinct values: no ties)."""


def _reduced(reduce, include_self):
    def case(M, F, L, x, src):
        index = M.tensor([[1, 0, 2], [1, 3, 2], [1, 0, 0]])
        out = M.scatter_reduce(x, 0, index, src, reduce, include_self=include_self)
        return out * out * x  # the gradient itself depends on x and src
    return case


CASES = {f"scatter_reduce_{reduce}{'' if include_self else '_without_self'}":
         (_reduced(reduce, include_self), [("pos", (4, 3)), ("pos", (3, 3))])
         for reduce in ("sum", "prod", "mean", "amax", "amin") for include_self in (True, False)}
