"""Second-order cases of the rounded divisions and of a number on one side: trunc division
(zero gradients, as floor), remainder and fmod by a number, and a number minus, over or
to the power of a tensor."""
CASES = {
    "div_trunc": (lambda M, F, L, x, y: M.div(x * 4, y, rounding_mode="trunc") * x * y,
                  [("pos", (4,)), ("pos", (4,))]),
    "remainder_by_number": (lambda M, F, L, x: M.remainder(x * 3, 1.5) * x, [("pos", (4,))]),
    "fmod_by_number": (lambda M, F, L, x: M.fmod(x * 3, 1.5) * x, [("pos", (4,))]),
    "number_minus_over_power_of_tensor": (
        lambda M, F, L, x: (2 - x) * (2 / x) * (2 ** x), [("pos", (4,))]),
}
