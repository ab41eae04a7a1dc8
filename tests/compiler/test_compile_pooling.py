"""chainrule.compile records and replays pooling and resampling: a replayed training step
of a small network with max/avg/adaptive pools, upsampling, pixel shuffle and the new
activations leaves the weights eager execution leaves, bit for bit."""

import chainrule
from chainrule import nn
from helpers import assert_compiled_training_replays_eager


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
    assert_compiled_training_replays_eager(
        _network(), lambda params: chainrule.optim.SGD(params, lr=0.1), (5, 1, 8, 8), 3)
