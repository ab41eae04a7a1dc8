"""Concise linear regression (d2l 3.3) as the notes write it: synthetic data from
w = [2, -3.4], b = 4.2, TensorDataset + DataLoader, nn.Linear(2, 1), MSELoss, SGD.
Prints the estimation errors of w and b.

    python examples/linear_regression_concise.py [--epochs N] [--seed S]
"""
import argparse

import chainrule as torch
from chainrule import d2l, nn
from chainrule.utils import data


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    true_w = torch.tensor([2, -3.4])
    true_b = torch.tensor([4.2])

    # d2l's helper: linear regression data with Gaussian noise
    features, labels = d2l.synthetic_data(true_w, true_b, 1000)
    dataset = data.TensorDataset(*(features, labels))

    batch_size = 10
    data_loader = data.DataLoader(dataset, batch_size, shuffle=True)

    net = nn.Sequential(nn.Linear(2, 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)

    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=0.03)

    num_epochs = args.epochs
    for epoch in range(num_epochs):
        for X, y in data_loader:
            l = loss(y, net(X))
            trainer.zero_grad()
            l.backward()
            trainer.step()
        l = loss(net(features), labels)
        print(f"epoch {epoch + 1}, loss {l:f}")

    w = net[0].weight.data
    b = net[0].bias.data
    print(w)
    print(b)
    print("error in estimating w:", true_w - w.reshape(true_w.shape))
    print("error in estimating b:", true_b - b)
    worst = max(float((true_w - w.reshape(true_w.shape)).abs().max()),
                float((true_b - b).abs().max()))
    print(f"largest absolute error: {worst:.4f}")


if __name__ == "__main__":
    main()
