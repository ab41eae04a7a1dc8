"""chainrule.compile records and replays convolution steps: a replayed training step of a
small convolutional network (padding modes, groups, strides, a transposed convolution,
unfold/fold) leaves the weights and gradients eager execution leaves, bit for bit."""
import numpy as np

import chainrule
from chainrule import nn
from chainrule.nn import functional as F
from helpers import assert_compiled_training_replays_eager


class _Blocks(nn.Module):
    """unfold then fold: each pixel summed over the blocks that hold it."""

    def forward(self, x):
        return F.fold(F.unfold(x, 2, padding=1), x.shape[-2:], 2, padding=1) / 4


def _network():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(),
        nn.Conv2d(4, 4, 3, stride=2, padding=1, padding_mode="reflect", groups=2), nn.Tanh(),
        nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1), _Blocks(),
        nn.ReplicationPad2d((1, 0, 0, 1)), nn.Conv2d(3, 2, 2, dilation=(1, 2), bias=False),
        nn.Flatten(), nn.LazyLinear(3))


def test_compiled_convolution_training_step_replays_like_eager_bit_for_bit():
    chainrule.manual_seed(0)
    a = _network()
    a(chainrule.zeros(1, 1, 8, 8))  # the lazy layer takes its size before the copy
    assert_compiled_training_replays_eager(
        a, lambda params: chainrule.optim.SGD(params, lr=0.1, momentum=0.9), (5, 1, 8, 8), 3)


def test_compiled_conv_model_replays_inference_like_eager():
    chainrule.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding="same"), nn.ReLU(),
                          nn.Conv2d(3, 2, 1)).eval()
    compiled = chainrule.compile(model)
    x = chainrule.randn(4, 2, 6, 6)
    with chainrule.no_grad():
        outs = [compiled(x) for _ in range(3)]
        expected = model(x)
    for out in outs:
        assert np.array_equal(out.numpy(), expected.numpy())
