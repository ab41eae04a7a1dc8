"""The differential fuzzer's comparison allows, element by element, as much as PyTorch's
own answer moves when every step's result is off by one epsilon of its dtype
(tests/fuzz/fuzz_condition.py): ill-conditioned answers pass, wrong ones still fail."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fuzz_check import Mismatch, _torch_answers, check_recipe, close, replay  # noqa: E402
from fuzz_condition import Conditioning, rounding_noise  # noqa: E402

POW_30 = [  # float16 cross-entropy to the 30th power: one unit in the loss is 3% there
    ("leaf", (3, 4), "float16", 11475),
    ("loss", "cross_entropy", 0, None,
     ("probs", [[0.0, 0.2572469531074129, 0.36956065960336876, 0.2291782797268385],
                [0.16566720754468447, 0.48346197490518006, 0.0, 0.0],
                [0.0, 0.0, 0.031676143776512414, 0.1001065017091382]]),
     None, "none", 0.1, [[True, True, True, False], [False, False, False, False],
                         [False, True, False, True]]),
    ("scalar", "pow", 1, 30),
]
VAR_FAR_FROM_ZERO = [  # x + 1e30 rounds to 1e30: var 0, or a rounded mean's 2e28
    ("leaf", (3, 3), "float64", 60185), ("scalar", "add", 0, 1e30),
    ("reduce_dtype", "var", 1, None, False, None),
]


@pytest.mark.parametrize("recipe", [POW_30, VAR_FAR_FROM_ZERO], ids=["pow30", "var"])
def test_ill_conditioned_answers_pass(recipe):
    check_recipe(recipe)


def test_the_allowance_is_what_a_rounding_moves_pytorchs_answer():
    want = _torch_answers(POW_30)[("value", 2)]
    slack = Conditioning(POW_30, _torch_answers).slack(("value", 2), want)
    finite = np.isfinite(want)
    # 30 units of float16 rounding in the loss, times 2: between 1% and 30% of the value
    assert np.all(slack[finite] > 0.01 * want[finite])
    assert np.all(slack[finite] < 0.3 * want[finite])
    assert np.all(slack[~finite] == 0)


def test_a_well_conditioned_wrong_answer_still_fails():
    recipe = [("leaf", (4,), "float32", 7), ("unary", "exp", 0), ("reduce", "sum", 1, None, False)]
    want = _torch_answers(recipe)[("value", 2)]
    cond = Conditioning(recipe, _torch_answers)
    slack = cond.slack(("value", 2), want)
    assert slack <= 8 * np.finfo(np.float32).eps * abs(want)
    with pytest.raises(Mismatch):
        close(want * np.float32(1.01), want, 2e-3, 2e-4, "sum", lambda: slack)
    close(want * np.float32(1 + 1e-6), want, 2e-3, 2e-4, "sum", lambda: slack)


def test_rounding_noise_keeps_views_and_in_place_results_as_they_are():
    recipe = [("leaf", (2, 3), "float32", 3), ("unary", "exp", 0), ("transpose", 1, 0, 1),
              ("inplace", "mul_", 2, (2.0,))]
    clean, _ = replay(torch, recipe)
    moved, _ = replay(torch, recipe, rounding_noise(np.random.default_rng(0)))
    assert moved[2]._base is moved[1]  # the view still views the (moved) exp
    assert moved[3] is moved[2]  # the in-place result is the view itself
    eps = np.finfo(np.float32).eps
    # the leaf moved by one epsilon; exp by its own and its input's times |x| <= 2
    for k, bound in ((0, 1.01 * eps), (1, 8 * eps)):
        ratio = (moved[k] / clean[k]).detach().numpy()
        assert np.all(np.abs(ratio - 1) <= bound)
    assert torch.allclose(moved[1], 2 * torch.exp(moved[0]), rtol=4 * eps)  # mul_ reached it
    assert moved[0].is_leaf and moved[0].requires_grad


def test_integers_made_from_rounded_floats_are_off_by_what_a_rounding_moves():
    # float32 (|x| + 0.1) ** 30 differs by a unit between the frameworks; cast to int64 that
    # is 2 ** 25 apart, and a rounding of the float moves PyTorch's as far
    check_recipe([("leaf", (1, 1, 4), "int32", 14469), ("scalar", "pow", 0, 30),
                  ("reduce_dtype", "prod", 1, 1, False, "int64")])
    want = np.array([17, 550618028572672], dtype=np.int64)
    with pytest.raises(Mismatch):  # no allowance: integers compared exactly
        close(want + 1, want, 2e-3, 2e-4, "ints")
    close(want + [0, 2 ** 25], want, 2e-3, 2e-4, "ints", lambda: np.array([0.0, 2.0 ** 26]))
    with pytest.raises(Mismatch):
        close(want + [1, 0], want, 2e-3, 2e-4, "ints", lambda: np.array([0.0, 2.0 ** 26]))


def test_a_softmax_gradient_that_cancels_is_allowed_a_unit_of_the_gradient_it_receives():
    # log-probabilities [-30, -32, -1.06e-13]: the target's gradient is -g + p g with p a
    # unit below 1, so one unit of rounding in p (an exp one ulp apart) is 1e-3 of it
    recipe = [("leaf", (1, 3), "float64", 16286, "edge"),
              ("loss", "nll_loss", 0, None, ("indices", [2], -100), None, "mean", 0.0,
               [[False, False, False]]),
              ("scalar", "rdiv", 1, -1e30)]
    check_recipe(recipe)
    answers = _torch_answers(recipe)
    want = answers[("grad", 0)]
    slack = Conditioning(recipe, _torch_answers).slack(("grad", 0), want)
    g = 4e30  # -1e30 / (loss + 0.5) differentiated at a loss of 1e-13, times weights <= 1.5
    assert np.all(slack <= 8 * np.finfo(np.float64).eps * 1.5 * g)
    assert slack[0, 2] > 1e-4 * abs(want[0, 2])


def test_an_inf_on_one_side_only_is_allowed_where_a_rounding_carries_pytorch_across_it():
    want = np.array([-np.inf, 1.0, np.inf], dtype=np.float16)
    got = np.array([-65504.0, 1.0, np.inf], dtype=np.float16)
    with pytest.raises(Mismatch):
        close(got, want, 2e-2, 2e-3, "sum")
    close(got, want, 2e-2, 2e-3, "sum", edge=lambda: np.array([True, False, True]))
    with pytest.raises(Mismatch):  # PyTorch's own answer never reaches it: still a failure
        close(got, want, 2e-2, 2e-3, "sum", edge=lambda: np.array([False, True, True]))
    with pytest.raises(Mismatch):  # the finite elements are still compared
        close(np.array([-65504.0, 2.0, np.inf], np.float16), want, 2e-2, 2e-3, "sum",
              edge=lambda: np.array([True, True, True]))


def test_a_float16_reversed_running_sum_overflows_within_a_rounding_of_65504():
    # the gradient of var(cumsum(x)) over 35,000 float16 values: reversed running sums pass
    # 65,504 a position earlier or later as the last bits of the gradient fall
    check_recipe([("leaf", (2, 35000), "float16", 3794), ("reduce", "cumsum", 0, -1, False),
                  ("reduce", "var", 1, None, True), ("unary", "square", 2)])


def test_a_sum_whose_terms_move_in_opposite_directions_is_still_given_its_allowance():
    # float32 4.398e12 and 4.358e12 cast to int64 and summed: a unit up and a unit down
    # cancel exactly; the draw with every rounding upward does not
    check_recipe([("leaf", (3,), "float64", 2670, "edge"), ("leaf", (3, 4, 2), "int16", 45921, "edge"),
                  ("reduce_dtype", "mean", 1, -1, True, "float32"), ("scalar", "pow", 2, 3),
                  ("scalar", "div", 2, 2), ("unary", "gelu", 3),
                  ("reduce_dtype", "sum", 5, -3, False, "int64")])



TRUNCATED_TEN = [  # 3.1.. ** 2 etc.; one value is 10.0, which a power kernel one unit low
    ("leaf", (1, 3, 4, 2), "float32", 25540),  # gives as 9.999999 (the float32 leaf only
    ("leaf", (3, 1, 3), "int8", 14840),        # changes the random draws' signs)
    ("leaf", (3, 1, 3), "int32", 25991),
    ("binary", "pow", 2, 1), ("reduce_dtype", "nansum", 3, -1, False, "uint8"),
]


def test_an_integer_truncated_from_a_float_may_sit_a_unit_below_pytorchs():
    """A float exactly on an integer, cast to uint8, drops a whole unit when rounded down;
    the random draws need not push it down, the all-downward draw does."""
    answers = _torch_answers(TRUNCATED_TEN)
    assert answers[("value", 3)][1, 0, 0] == 10.0  # on the integer, not near it
    want = answers[("value", 4)]
    down = _torch_answers(TRUNCATED_TEN, rounding_noise("down"))[("value", 4)]
    assert down[1, 0] == want[1, 0] - 1
    slack = Conditioning(TRUNCATED_TEN, _torch_answers).slack(("value", 4), want)
    assert slack[1, 0] >= 1
    assert slack[0, 0] == 0  # 9.61 + 3.1 + 9.61 truncates to the same integers either way
