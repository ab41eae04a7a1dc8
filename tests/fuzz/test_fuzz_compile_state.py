"""chainrule.compile against eager while the Python state a step reads changes between
calls (fuzz_compile_state.py). Derandomized, so CI sees the same programs every run."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fuzz_compile_state import (COUNTER, EAGER, FEATURES, MUTATIONS, STOPS,
                                check_program)

pytestmark = pytest.mark.slow  # starts processes or runs long work: `-m "not slow"` skips it

STATE_FUZZ = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), print_blob=True)


@STATE_FUZZ
@given(features=st.sets(st.sampled_from(FEATURES), min_size=1, max_size=4),
       train=st.booleans(),
       calls=st.lists(st.tuples(st.sampled_from(MUTATIONS), st.integers(0, 5),
                                st.integers(0, 2)), min_size=4, max_size=9))
def test_compiled_step_equals_eager_while_python_state_changes(features, train, calls):
    check_program(tuple(sorted(features)), train, calls)


@settings(STATE_FUZZ, max_examples=80)
@given(features=st.sets(st.sampled_from(FEATURES), min_size=1, max_size=4),
       train=st.booleans(),
       calls=st.lists(st.tuples(st.sampled_from(MUTATIONS), st.integers(0, 5),
                                st.integers(0, 2)), min_size=4, max_size=9))
def test_fused_step_equals_eager_while_python_state_changes(features, train, calls):
    """The same under mode="max-autotune" (numba loops; the test extra installs numba)."""
    pytest.importorskip("numba")
    check_program(tuple(sorted(features)), train, calls, mode="max-autotune")


@settings(STATE_FUZZ, max_examples=60)
@given(calls=st.lists(st.tuples(st.sampled_from(("none", "none", "none", "param_data",
                                                 "opt_state", "load_state", "lr")),
                                st.integers(0, 5), st.integers(0, 2)),
                      min_size=8, max_size=16))
def test_adams_kept_step_equals_eager_while_its_state_is_replaced(calls):
    """Long runs of replays, so Adam's kept step (optim/fused_step.py) steps most of
    them, with a parameter's data, a moment or the whole state replaced in between."""
    pytest.importorskip("numba")
    check_program(("adam",), True, calls, mode="max-autotune")


def teardown_module():
    print(f"\ncompiled state fuzzing: {COUNTER['programs']} programs, {COUNTER['replayed']} "
          f"replaying at the end, {COUNTER['eager']} eager (with a warning), "
          f"{COUNTER['branch_changed']} stopped by BranchChanged; Adam's kept step "
          f"stepped {COUNTER['kept_steps']} times")
    for why, n in sorted(EAGER.items(), key=lambda item: -item[1]):
        print(f"  eager {n}x: {why}")
    for features, train, message in STOPS:
        print(f"  stopped: {features} train={train}: {message}")
