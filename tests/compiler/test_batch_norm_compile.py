"""chainrule.compile records and replays batch-norm training steps bit for bit like eager
execution, running statistics and num_batches_tracked included (momentum=None too), and
replays a batch-norm model in eval mode."""
import copy
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn
from chainrule.nn import _norm_kernels


@pytest.fixture
def forward_calls(monkeypatch):
    """How many times the batch-norm kernel ran eagerly (a replay runs the recorded NumPy
    calls, never the op's Python forward)."""
    calls = [0]
    original = _norm_kernels.BATCH_NORM.forward

    def counted(*args):
        calls[0] += 1
        return original(*args)
    monkeypatch.setattr(_norm_kernels.BATCH_NORM, "forward", counted)
    return calls


def _model(momentum, two_d):
    if two_d:
        return nn.Sequential(nn.BatchNorm2d(2, momentum=momentum), nn.Flatten(),
                             nn.Linear(8, 6), nn.BatchNorm1d(6, momentum=momentum), nn.ReLU(),
                             nn.Linear(6, 3))
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, momentum=momentum), nn.ReLU(),
                         nn.Linear(6, 3))


def _step(model, opt):
    def train_step(X, y):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        return loss
    return train_step


def _assert_same_state(a, b):
    for (k, v), w in zip(a.state_dict().items(), b.state_dict().values()):
        assert v.dtype == w.dtype and np.array_equal(v.numpy(), w.numpy()), k
    for (k, p), q in zip(a.named_parameters(), b.parameters()):
        assert np.array_equal(p.grad.numpy(), q.grad.numpy()), k


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("two_d", [False, True], ids=["bn1d", "bn2d"])
def test_compiled_batch_norm_training_step_matches_eager_bit_for_bit(momentum, two_d,
                                                                     forward_calls):
    chainrule.manual_seed(0)
    eager_model = _model(momentum, two_d)
    compiled_model = copy.deepcopy(eager_model)
    eager = _step(eager_model, chainrule.optim.SGD(eager_model.parameters(), lr=0.1,
                                                   momentum=0.9))
    compiled = chainrule.compile(_step(compiled_model, chainrule.optim.SGD(
        compiled_model.parameters(), lr=0.1, momentum=0.9)))
    rng = np.random.default_rng(1)
    shape = (8, 2, 2, 2) if two_d else (8, 4)
    steps = 6
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a fallback to eager fails here
        for _ in range(steps):
            X = chainrule.tensor(rng.standard_normal(shape).astype(np.float32) * 3 + 1)
            y = chainrule.tensor(rng.integers(0, 3, 8))
            before = forward_calls[0]
            assert compiled(X, y).item() == eager(X, y).item()
            compiled_ran = forward_calls[0] - before - (2 if two_d else 1)
        _assert_same_state(compiled_model, eager_model)
    assert compiled_ran == 0  # the last compiled call was a replay
    assert compiled_model[1 if not two_d else 0].num_batches_tracked.item() == steps


def test_compiled_model_in_eval_mode_replays_with_running_statistics(forward_calls):
    chainrule.manual_seed(0)
    model = _model(0.3, True)
    for i in range(3):
        model(chainrule.randn(8, 2, 2, 2) + i)
    model.eval()
    compiled = chainrule.compile(model)
    rng = np.random.default_rng(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for _ in range(4):
            X = chainrule.tensor(rng.standard_normal((5, 2, 2, 2)).astype(np.float32))
            with chainrule.no_grad():
                expected = model(X).numpy()
                before = forward_calls[0]
                got = compiled(X).numpy()
            assert np.array_equal(got, expected)
    assert forward_calls[0] == before  # replayed
