"""Differential fuzzing against PyTorch: random op graphs (broadcasting, 0-d and size-1
dims, float32/float64/int inputs, reductions, matmul, shape ops, indexing, in-place
updates under no_grad, fan-out), forward values and gradients. Derandomized, so CI sees
the same graphs every run; `tools/fuzz_campaign.py` explores further."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fuzz_check import check_recipe
from fuzz_gen import HypothesisChooser, generate

pytestmark = pytest.mark.slow  # starts processes or runs long work: `-m "not slow"` skips it

pytest.importorskip("torch")

FUZZ = settings(max_examples=750, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck), print_blob=True)


def _run(data, profile, max_steps=8):
    recipe = generate(HypothesisChooser(data), profile, max_steps)
    note = "\n".join(f"    {s!r}," for s in recipe)
    data.draw(st.just(None), label=f"recipe:\n{note}")
    check_recipe(recipe)


@FUZZ
@given(st.data())
def test_elementwise_graphs(data):
    _run(data, "elementwise")


@FUZZ
@given(st.data())
def test_reduction_graphs(data):
    _run(data, "reduce")


@FUZZ
@given(st.data())
def test_shape_and_indexing_graphs(data):
    _run(data, "shape_index")


@FUZZ
@given(st.data())
def test_mixed_graphs(data):
    _run(data, "mixed", max_steps=10)


@FUZZ
@given(st.data())
def test_inplace_on_views_in_graphs(data):
    _run(data, "view_inplace", max_steps=10)


@settings(FUZZ, max_examples=400)
@given(st.data())
def test_edge_value_and_small_dtype_graphs(data):
    _run(data, "edge")


@settings(FUZZ, max_examples=300)
@given(st.data())
def test_second_order_graphs(data):
    _run(data, "second_order")


@settings(FUZZ, max_examples=60)
@given(st.data())
def test_reductions_with_dtype_and_int_inputs_and_losses_with_soft_targets(data):
    _run(data, "reduce_dtype")


@settings(FUZZ, max_examples=60)
@given(st.data())
def test_reductions_with_dtype_and_losses_at_the_edges(data):
    _run(data, "reduce_dtype_edge")


@settings(FUZZ, max_examples=150)
@given(st.data())
def test_integer_and_bool_graphs_with_python_numbers(data):
    _run(data, "int_dtypes")


@settings(FUZZ, max_examples=80)
@given(st.data())
def test_chains_of_products_with_transposed_operands(data):
    _run(data, "products")


@settings(FUZZ, max_examples=12)
@given(st.data())
def test_long_reduction_graphs(data):
    _run(data, "long", max_steps=3)


def _run_compiled(data, profile, max_steps=8, mode=None, repeat_first=False):
    from fuzz_compile import check_compiled
    recipe = generate(HypothesisChooser(data), profile, max_steps)
    note = "\n".join(f"    {s!r}," for s in recipe)
    data.draw(st.just(None), label=f"recipe:\n{note}")
    check_compiled(recipe, mode, repeat_first)


@pytest.mark.parametrize("profile", ["mixed", "view_inplace", "edge", "second_order"])
@settings(FUZZ, max_examples=120)
@given(data=st.data())
def test_compiled_replay_equals_eager_bit_for_bit(profile, data):
    _run_compiled(data, profile)


@pytest.mark.parametrize("profile", ["mixed", "int_dtypes", "edge", "shape_index"])
@settings(FUZZ, max_examples=100)
@given(data=st.data())
def test_replay_after_two_equal_recordings_equals_eager_bit_for_bit(profile, data):
    """The two recordings see the same values and the replays new ones: nothing eager
    computes from the inputs may be replayed as a recorded constant."""
    _run_compiled(data, profile, repeat_first=True)


@pytest.mark.parametrize("profile", ["mixed", "edge", "view_inplace", "products_edge"])
@settings(FUZZ, max_examples=120)
@given(data=st.data())
def test_fused_replay_equals_eager_bit_for_bit(profile, data):
    """mode="max-autotune": runs of elementwise steps as numba loops (needs the `fast`
    extra, which the test extra installs), also between chains of products with
    transposed operands at the edges."""
    pytest.importorskip("numba")
    _run_compiled(data, profile, mode="max-autotune")
