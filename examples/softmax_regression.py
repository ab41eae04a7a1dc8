"""Softmax regression, concise (d2l 3.7), and the logistic regression model of the
notes with their own evaluation loop (torch.max over the logits, counting correct).

    python examples/softmax_regression.py [--dataset digits] [--epochs N] [--out DIR]
"""
import chainrule as torch
from chainrule import nn

from example_common import load_data, make_parser, train_and_report


class LogisticRegressionModel(nn.Module):
    def __init__(self):
        super(LogisticRegressionModel, self).__init__()
        self.linear = nn.Linear(28 * 28, 10)

    def forward(self, x):
        x = x.view(-1, 28 * 28)
        out = self.linear(x)
        return out


def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)


def main():
    args = make_parser(__doc__.splitlines()[0]).parse_args()
    torch.manual_seed(args.seed)
    train_iter, test_iter, labels_fn, _, num_epochs = load_data(args)

    net = LogisticRegressionModel()
    net.apply(init_weights)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=0.1)
    result = train_and_report(args, net, train_iter, test_iter, loss, num_epochs, trainer,
                              labels_fn, "softmax_regression")

    # the notes' evaluation loop, which must agree with d2l.evaluate_accuracy
    net.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for images, labels in test_iter:
            outputs = net(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    print(f"Accuracy of the model on the test images: {100 * correct / total:.2f} %")
    assert abs(correct / total - result.test_acc) < 1e-9


if __name__ == "__main__":
    main()
