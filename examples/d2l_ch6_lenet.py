"""LeNet (d2l 6.6) and LeNet with batch normalization (d2l 7.5), each trained by
d2l.train_ch6 on 28x28 images, side by side.

On Fashion-MNIST both learn. On the digits stand-in (1,438 images, 8x8 upsampled to
28x28) the sigmoid LeNet sits at chance for dozens of epochs, in PyTorch as here: its
gradients vanish through four sigmoids before they reach the first convolution. Batch
normalization, the only change in 7.5, lets it learn in an epoch.

    python examples/d2l_ch6_lenet.py [--dataset digits] [--epochs N] [--out DIR]
"""
import os

import chainrule as torch
from chainrule import d2l, nn

from example_common import load_data, make_parser


class EpochPrinter(d2l.Animator):
    """d2l's Animator that also prints a line per epoch (train_ch6 adds the training
    curves five times an epoch and the test accuracy once, at the epoch's end)."""

    def add(self, x, y):
        super().add(x, y)
        if y[2] is not None:
            loss, acc = self.Y[0][-1], self.Y[1][-1]
            print(f"epoch {x}: train loss {loss:.3f}, train acc {acc:.3f}, test acc "
                  f"{y[2]:.3f}", flush=True)


def lenet():
    """d2l 6.6: two 5x5 convolutions with sigmoid and 2x2 average pooling, three linear
    layers."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))


def lenet_batch_norm():
    """d2l 7.5: the same, with batch normalization after each convolution and linear
    layer (and no padding in the first convolution, as the section writes it)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5), nn.BatchNorm2d(6), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
        nn.Linear(256, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(),
        nn.Linear(84, 10))


def train(name, net, lr, args, train_iter, test_iter, num_epochs):
    print(f"--- {name}, lr {lr}")
    animator = EpochPrinter(xlabel="epoch", xlim=[0, num_epochs],
                            legend=["train loss", "train acc", "test acc"])
    d2l.train_ch6(net, train_iter, test_iter, num_epochs, lr, d2l.try_gpu(), animator=animator)
    stem = name.split(" ")[0].lower().replace("+", "")
    path = animator.save(os.path.join(args.out, f"{stem}_curves.png"), dpi=120)
    animator.close()
    return d2l.last_history().test_acc, path


def main():
    args = make_parser(__doc__.splitlines()[0]).parse_args()
    torch.manual_seed(args.seed)
    train_iter, test_iter, _, _, num_epochs = load_data(args)
    X = torch.rand(size=(1, 1, 28, 28), dtype=torch.float32)
    for layer in lenet():
        X = layer(X)
        print(f"{layer.__class__.__name__:>9} output shape: {tuple(X.shape)}")
    results = [train("LeNet (6.6)", lenet(), 0.9, args, train_iter, test_iter, num_epochs),
               train("LeNet+BN (7.5)", lenet_batch_norm(), 1.0, args, train_iter, test_iter,
                     num_epochs)]
    for label, (acc, path) in zip(("LeNet", "LeNet with batch norm"), results):
        print(f"final: {label}: test acc {acc:.3f} (curves: {path})")


if __name__ == "__main__":
    main()
