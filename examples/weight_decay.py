"""Weight decay (d2l 4.5) in two settings.

1. d2l's high-dimensional linear regression (20 examples, 200 inputs): the weight gets
   weight_decay through a parameter group, the bias none; the L2 norm of w shrinks.
2. The notes' classifier: SGD's weight_decay (L2) plus an L1 penalty added to the loss
   (l1_reg += torch.norm(param, p=1)), trained with d2l.train_ch3.

    python examples/weight_decay.py [--dataset digits] [--epochs N] [--out DIR]
"""
import os

import chainrule as torch
from chainrule import d2l, nn

from example_common import load_data, make_parser, train_and_report

n_train, n_test, num_inputs, batch_size = 20, 100, 200, 5


def train_concise(wd, train_iter, test_iter, num_epochs, out):
    net = nn.Sequential(nn.Linear(num_inputs, 1))
    for param in net.parameters():
        param.data.normal_()
    loss = nn.MSELoss(reduction='none')
    lr = 0.003
    # the bias is not decayed
    trainer = torch.optim.SGD([
        {"params": net[0].weight, 'weight_decay': wd},
        {"params": net[0].bias}], lr=lr)
    animator = d2l.Animator(xlabel='epochs', ylabel='loss', yscale='log',
                            xlim=[5, num_epochs], legend=['train', 'test'])
    for epoch in range(num_epochs):
        for X, y in train_iter:
            trainer.zero_grad()
            l = loss(net(X), y)
            l.mean().backward()
            trainer.step()
        if (epoch + 1) % 5 == 0:
            animator.add(epoch + 1,
                         (d2l.evaluate_loss(net, train_iter, loss),
                          d2l.evaluate_loss(net, test_iter, loss)))
    norm = net[0].weight.norm().item()
    train_l, test_l = animator.Y[0][-1], animator.Y[1][-1]
    print(f"weight_decay={wd}: L2 norm of w {norm:.4f}, train loss {train_l:.4f}, "
          f"test loss {test_l:.4f}")
    animator.save(os.path.join(out, f"weight_decay_wd{wd:g}.png"), dpi=120)
    animator.close()
    return norm


def linear_regression_part(args):
    true_w, true_b = torch.ones((num_inputs, 1)) * 0.01, 0.05
    train_data = d2l.synthetic_data(true_w, true_b, n_train)
    train_iter = d2l.load_array(train_data, batch_size)
    test_data = d2l.synthetic_data(true_w, true_b, n_test)
    test_iter = d2l.load_array(test_data, batch_size, is_train=False)
    num_epochs = 30 if args.quick else 100
    norm_plain = train_concise(0, train_iter, test_iter, num_epochs, args.out)
    norm_decay = train_concise(3, train_iter, test_iter, num_epochs, args.out)
    print(f"weight decay shrank ||w|| from {norm_plain:.3f} to {norm_decay:.3f}")


def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)


def classifier_part(args):
    train_iter, test_iter, labels_fn, _, num_epochs = load_data(args)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    net.apply(init_weights)
    cross_entropy = nn.CrossEntropyLoss(reduction='none')
    l1_lambda = 1e-5

    def loss(y_hat, y):
        # L1 penalty computed by hand (optim only has L2), added to every example's loss
        l1_reg = torch.tensor(0.)
        for param in net.parameters():
            l1_reg += torch.norm(param, p=1)
        return cross_entropy(y_hat, y) + l1_lambda * l1_reg

    trainer = torch.optim.SGD(net.parameters(), lr=0.1, weight_decay=1e-4)
    train_and_report(args, net, train_iter, test_iter, loss, num_epochs, trainer, labels_fn,
                     "weight_decay_mlp")


def main():
    args = make_parser(__doc__.splitlines()[0]).parse_args()
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    linear_regression_part(args)
    classifier_part(args)


if __name__ == "__main__":
    main()
