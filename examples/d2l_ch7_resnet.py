"""ResNet-18 (d2l 7.6) of d2l.Residual blocks, trained by d2l.train_ch6.

The network is the section's: a 7x7 convolution and max pooling, four stages of two
residual blocks (64, 128, 256, 512 channels), global average pooling and a linear layer.
Sizes for a CPU: 28x28 images (the book resizes Fashion-MNIST to 96x96) and `--width`
to scale every stage's channels down (64 is the book's; 16 trains an epoch of the digits
in seconds).

    python examples/d2l_ch7_resnet.py [--dataset digits] [--epochs N] [--width 64]
"""
import os

import chainrule as torch
from chainrule import d2l, nn

from example_common import load_data, make_parser

BOOK_LR = 0.05


def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
    """A stage: its first block halves height and width (unless it follows the max
    pooling) and changes the channels through a 1x1 shortcut."""
    blocks = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blocks.append(d2l.Residual(input_channels, num_channels, use_1x1conv=True,
                                       strides=2))
        else:
            blocks.append(d2l.Residual(num_channels, num_channels))
    return blocks


def resnet18(width=64, num_classes=10):
    c = [width, 2 * width, 4 * width, 8 * width]
    b1 = nn.Sequential(nn.Conv2d(1, c[0], kernel_size=7, stride=2, padding=3),
                       nn.BatchNorm2d(c[0]), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b2 = nn.Sequential(*resnet_block(c[0], c[0], 2, first_block=True))
    b3 = nn.Sequential(*resnet_block(c[0], c[1], 2))
    b4 = nn.Sequential(*resnet_block(c[1], c[2], 2))
    b5 = nn.Sequential(*resnet_block(c[2], c[3], 2))
    return nn.Sequential(b1, b2, b3, b4, b5, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
                         nn.Linear(c[3], num_classes))


class EpochPrinter(d2l.Animator):
    def add(self, x, y):
        super().add(x, y)
        if y[2] is not None:  # train_ch6 adds the test accuracy once, at an epoch's end
            print(f"epoch {x}: train loss {self.Y[0][-1]:.3f}, train acc "
                  f"{self.Y[1][-1]:.3f}, test acc {y[2]:.3f}", flush=True)


def main():
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=64,
                        help="channels of the first stage (the book: 64)")
    parser.add_argument("--lr", type=float, default=BOOK_LR)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    train_iter, test_iter, _, _, num_epochs = load_data(args)
    net = resnet18(args.width)
    X = torch.rand(size=(1, 1, 28, 28))
    net.eval()  # one 28x28 image is 1x1 in the last stage: too few values for batch stats
    with torch.no_grad():
        for layer in net:
            X = layer(X)
            print(f"{layer.__class__.__name__:>17} output shape: {tuple(X.shape)}")
    print(f"parameters: {sum(p.numel() for p in net.parameters()):,}")
    animator = EpochPrinter(xlabel="epoch", xlim=[0, num_epochs],
                            legend=["train loss", "train acc", "test acc"])
    d2l.train_ch6(net, train_iter, test_iter, num_epochs, args.lr, d2l.try_gpu(),
                  animator=animator)
    path = animator.save(os.path.join(args.out, "resnet_curves.png"), dpi=120)
    print(f"final: test acc {d2l.last_history().test_acc:.3f} (curves: {path})")


if __name__ == "__main__":
    main()
