"""chainrule.compile records and replays pooling and resampling: a replayed training step
of a small network with max/avg/adaptive pools, upsampling, pixel shuffle and the new
activations leaves the weights eager execution leaves, bit for bit."""
import copy
import warnings

import numpy as np

import chainrule
from chainrule import nn
from chainrule.nn import functional as F
from helpers import replaying as _replaying, cross_entropy_train_step as _train_step


def _network():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ELU(), nn.MaxPool2d(3, stride=2, padding=1),
        nn.Upsample(scale_factor=2, mode="bilinear"), nn.Hardswish(),
        nn.Conv2d(4, 8, 3, padding=1), nn.SiLU(), nn.PixelShuffle(2), nn.Mish(),
        nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False), nn.Hardtanh(),
        nn.AdaptiveMaxPool2d((3, 2)), nn.Upsample(size=(5, 4)), nn.SELU(),
        nn.AdaptiveAvgPool2d((2, 3)), nn.Flatten(), nn.Linear(12, 3))


def test_compiled_pooling_training_step_replays_like_eager_bit_for_bit():
    chainrule.manual_seed(0)
    a = _network()
    b = copy.deepcopy(a)
    rng = np.random.default_rng(0)
    data = [(chainrule.tensor(rng.standard_normal((5, 1, 8, 8)).astype(np.float32)),
             chainrule.tensor(rng.integers(0, 3, 5))) for _ in range(3)]
    compiled = chainrule.compile(_train_step(a, chainrule.optim.SGD(a.parameters(), lr=0.1)))
    eager = _train_step(b, chainrule.optim.SGD(b.parameters(), lr=0.1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a fallback to eager fails the test
        for _ in range(3):
            ours = [compiled(X, y).item() for X, y in data]
            assert ours == [eager(X, y).item() for X, y in data]
    assert _replaying(compiled)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
