"""Multilayer perceptron, concise (d2l 4.3), exactly as the notes write it: Flatten,
784-256 ReLU, 256-10, weights from N(0, 0.01) via net.apply(init_weights), then
d2l.train_ch3.

    python examples/mlp.py [--dataset digits] [--epochs N] [--out DIR]
"""
import chainrule as torch
from chainrule import nn

from example_common import load_data, make_parser, train_and_report


def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)


def main():
    args = make_parser(__doc__.splitlines()[0]).parse_args()
    torch.manual_seed(args.seed)
    train_iter, test_iter, labels_fn, _, num_epochs = load_data(args)

    net = nn.Sequential(nn.Flatten(),
                        nn.Linear(784, 256),
                        nn.ReLU(),
                        nn.Linear(256, 10))
    net.apply(init_weights)

    lr = 0.1
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    train_and_report(args, net, train_iter, test_iter, loss, num_epochs, trainer, labels_fn,
                     "mlp")


if __name__ == "__main__":
    main()
