"""sum(x, dims, dtype=float16) casts x to float16 first, as PyTorch documents and as its
CPU kernel does when the reduced dims merge into one run; where they do not (dims 0 and 2
of a 3-d tensor) PyTorch's kernel converts x straight to float32. An intended difference,
excused narrowly in tests/fuzz/fuzz_known_dtype.py."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

BIG = [[[70000, 1], [5, 1]], [[-70000, 2], [5, 3]]]  # overflows float16, not float32


@pytest.mark.parametrize("dtype", ["int64", "int32", "float32"])
@pytest.mark.parametrize("dims", [(0, 2), (0, 1), (1, 2), 0, None])
def test_sum_to_float16_casts_the_input_first(dtype, dims):
    x = np.array(BIG, dtype=dtype)
    kw = {} if dims is None else {"dim": dims}
    got = cr.sum(cr.tensor(x), dtype=cr.float16, **kw).numpy()
    # the documented rule, in PyTorch: cast, then sum (accumulated in float32)
    want = torch.sum(torch.tensor(x).to(torch.float16), **kw).numpy()
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, want)  # NaN where +inf and -inf meet


def test_pytorchs_sum_over_dims_apart_converts_to_float32_instead():
    x = torch.tensor(BIG)
    assert torch.isnan(torch.sum(x, (0, 1), dtype=torch.float16)).any()  # one run: cast first
    apart = torch.sum(x, (0, 2), dtype=torch.float16)
    assert apart.tolist() == [3.0, 14.0]  # 70,000 + 1 - 70,000 + 2 in float32
    got = cr.sum(cr.tensor(x.numpy()), (0, 2), dtype=cr.float16).numpy()
    assert np.isnan(got[0]) and not np.isnan(apart[0])


def test_fuzz_comparison_excuses_only_the_cast_first_answer():
    import fuzz_check
    from fuzz_known import SEEN, excused
    recipe = [("leaf", (4, 2, 4, 4), "int64", 14148, "edge"),
              ("reduce_dtype", "sum", 0, (0, 2), True, "float16")]
    before = fuzz_check.COUNTER["excused"]
    fuzz_check.check_recipe(recipe)
    assert fuzz_check.COUNTER["excused"] == before + 1 and SEEN["sum"]
    tvals = [torch.tensor(BIG)]
    step = ("reduce_dtype", "sum", 0, (0, 2), False, "float16")
    want = torch.sum(tvals[0], (0, 2), dtype=torch.float16).numpy()
    ours = cr.sum(cr.tensor(BIG), (0, 2), dtype=cr.float16).numpy()
    assert excused([None, step], 1, tvals, ours, want).tolist() == [True, False]
    # any other answer where PyTorch's differs is not excused: 0 is neither sum
    assert excused([None, step], 1, tvals, np.zeros(2, np.float16), want) is None
