"""Dropout (d2l 4.6): the notes' dropout_layer from scratch, checked on a small tensor,
then the concise MLP with nn.Dropout after each hidden layer, trained with train_ch3.

    python examples/dropout.py [--dataset digits] [--epochs N] [--out DIR]
"""
import chainrule as torch
from chainrule import nn

from example_common import load_data, make_parser, train_and_report


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    # every element is dropped
    if dropout == 1:
        return torch.zeros_like(X)
    # every element is kept
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


def show_dropout_layer():
    X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
    print(X)
    print(dropout_layer(X, 0.))
    print(dropout_layer(X, 0.5))
    print(dropout_layer(X, 1.))
    # unbiased: the mean over many draws stays close to X
    big = torch.ones((1000, 100))
    kept = dropout_layer(big, 0.5)
    print(f"dropout_layer(ones, 0.5): kept fraction {float((kept > 0).float().mean()):.3f}, "
          f"mean {float(kept.mean()):.3f} (expected 0.5 and 1.0)")
    # the notes' variant draws the mask with randn, which keeps P(N(0,1) > p) of the
    # units instead of 1 - p: for p = 0.5 that is about 0.31, so the rescaling is off
    mask = (torch.randn(big.shape) > 0.5).float()
    print(f"mask from randn > 0.5 keeps {float(mask.mean()):.3f} of the units (not 0.5)")


def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)


def main():
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument("--dropout1", type=float, default=0.2)
    parser.add_argument("--dropout2", type=float, default=0.5)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    show_dropout_layer()
    train_iter, test_iter, labels_fn, name, num_epochs = load_data(args)

    dropout1, dropout2 = args.dropout1, args.dropout2
    net = nn.Sequential(nn.Flatten(),
                        nn.Linear(784, 256),
                        nn.ReLU(),
                        # a dropout layer after the first fully connected layer
                        nn.Dropout(dropout1),
                        nn.Linear(256, 256),
                        nn.ReLU(),
                        # a dropout layer after the second fully connected layer
                        nn.Dropout(dropout2),
                        nn.Linear(256, 10))
    net.apply(init_weights)

    lr = 0.5 if name == "fashion-mnist" else 0.2  # d2l's 0.5 is too big for 32-image batches
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    train_and_report(args, net, train_iter, test_iter, loss, num_epochs, trainer, labels_fn,
                     "dropout")


if __name__ == "__main__":
    main()
