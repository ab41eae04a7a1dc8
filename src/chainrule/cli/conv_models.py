"""The convolutional networks of the command line: d2l's LeNet (ch. 6.6) and a small
ResNet of d2l's Residual blocks (ch. 7.6).

The data stays what the other models get, one row of pixels per image, so evaluate,
predict and K-fold need nothing new: the first layer puts each row back into its
1 x H x W image. LeNet keeps d2l's 28 x 28 input: smaller images (the 8 x 8 digits) are
upsampled to it bilinearly, inside the network, so `predict` takes the same rows as
training did. The ResNet ends in a global average pool, so it takes images at their own
size (digits stay 8 x 8, which keeps it fast)."""
import functools

from ..runtime.i18n import _
from ._common import CLIError

CONV_MODELS = ("lenet", "resnet")
LENET_SIZE = 28
RESNET_WIDTHS = (16, 32, 64)


@functools.lru_cache(maxsize=None)  # one class, made when a conv model is first built
def _images_module():
    from chainrule import nn

    class ImageRows(nn.Module):
        """(N, H*W) rows of pixels -> (N, 1, H, W) images."""

        def __init__(self, height, width):
            super().__init__()
            self.height, self.width = height, width

        def forward(self, x):
            return x.reshape(x.shape[0], 1, self.height, self.width)

        def extra_repr(self):
            return f"height={self.height}, width={self.width}"
    return ImageRows


def check_images(model, image_shape, data_name):
    """The (height, width) a conv model reads, or a CLIError for data without images."""
    if not image_shape or len(image_shape) != 2:
        raise CLIError(_("--model {model} needs image data (digits, fashion-mnist or mnist); "
                         "{data} is a table of features, not images: use --model mlp, "
                         "linear or softmax for it").format(model=model, data=data_name))
    return int(image_shape[0]), int(image_shape[1])


def lenet(height, width, output_dim):
    """d2l's LeNet-5: sigmoid activations and average pooling, as in the book."""
    from chainrule import nn
    layers = [_images_module()(height, width)]
    if (height, width) != (LENET_SIZE, LENET_SIZE):
        layers.append(nn.Upsample(size=(LENET_SIZE, LENET_SIZE), mode="bilinear"))
    layers += [nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
               nn.AvgPool2d(kernel_size=2, stride=2),
               nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
               nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
               nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
               nn.Linear(84, output_dim)]
    return nn.Sequential(*layers)


def resnet(height, width, output_dim):
    """A 3x3 convolution with batch norm, then one Residual block per width (the later
    ones halving height and width with a 1x1 shortcut), a global average pool and a
    linear classifier: d2l 7.6's design, small enough for a CPU."""
    from chainrule import nn
    from chainrule.d2l import Residual
    first = RESNET_WIDTHS[0]
    layers = [_images_module()(height, width),
              nn.Conv2d(1, first, kernel_size=3, padding=1), nn.BatchNorm2d(first), nn.ReLU(),
              Residual(first, first)]
    for cin, cout in zip(RESNET_WIDTHS, RESNET_WIDTHS[1:]):
        layers.append(Residual(cin, cout, use_1x1conv=True, strides=2))
    layers += [nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
               nn.Linear(RESNET_WIDTHS[-1], output_dim)]
    return nn.Sequential(*layers)


def build(model, image_shape, output_dim, data_name):
    height, width = check_images(model, image_shape, data_name)
    return (lenet if model == "lenet" else resnet)(height, width, output_dim)


def describe(model, image_shape, output_dim):
    h, w = (int(s) for s in image_shape)
    if model == "lenet":
        scaled = (_(", {h}x{w} upsampled to {size}x{size}").format(h=h, w=w, size=LENET_SIZE)
                  if (h, w) != (LENET_SIZE, LENET_SIZE) else "")
        return _("lenet 1x{h}x{w}-{classes} (d2l 6.6: sigmoid, average pooling{scaled})").format(
            h=h, w=w, classes=output_dim, scaled=scaled)
    return _("resnet 1x{h}x{w}-{classes} ({blocks} residual blocks, {widths} channels, batch "
             "norm)").format(h=h, w=w, classes=output_dim, blocks=len(RESNET_WIDTHS),
                             widths="-".join(map(str, RESNET_WIDTHS)))
