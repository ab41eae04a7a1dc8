"""d2l's residual block (chapter 7.6), with the constructor and the parameter names of
the book's PyTorch edition, so its state_dict loads into PyTorch's Residual and back."""
import numpy as np

from .. import nn
from ..nn import functional as F

__all__ = ["Residual"]


class Residual(nn.Module):
    """Two 3x3 convolutions, each followed by batch normalisation, the first by a ReLU,
    then the input added and a final ReLU. `strides` > 1 halves (or more) the height and
    width in the first convolution; `use_1x1conv` puts a 1x1 convolution with the same
    stride on the shortcut, needed whenever the shape changes (channels or stride).

    Attributes as in d2l: conv1, conv2, conv3 (None without the 1x1 shortcut), bn1, bn2."""

    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1,
                               stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.conv3 = (nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)
                      if use_1x1conv else None)
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(X)))))
        shortcut = X if self.conv3 is None else self.conv3(X)
        if not _adds_into(shortcut.shape, Y.shape):
            raise RuntimeError(
                f"Residual: the block's output {tuple(Y.shape)} and its shortcut "
                f"{tuple(shortcut.shape)} differ in shape; a block that changes the "
                "channels or the stride needs use_1x1conv=True")
        return F.relu(Y + shortcut)


def _adds_into(shortcut, out):
    # d2l adds in place (Y += X): a shortcut that broadcasts to the output is fine there
    try:
        return np.broadcast_shapes(tuple(shortcut), tuple(out)) == tuple(out)
    except ValueError:
        return False
