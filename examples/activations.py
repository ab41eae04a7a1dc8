"""ReLU, sigmoid and tanh with their gradients (d2l 4.1), plotted with d2l.plot as in
the notes; each figure goes to a PNG in --out.

    python examples/activations.py [--out DIR]
"""
import argparse
import os

import chainrule as torch
from chainrule import d2l


def save(out, name):
    path = os.path.join(out, name + ".png")
    d2l.plt.tight_layout()
    d2l.plt.savefig(path, dpi=120)
    d2l.plt.close()  # d2l.plot draws on the current axes: start each figure afresh
    print("wrote", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="figures", help="folder for the PNG figures")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    x = torch.arange(-8.0, 8.0, 0.1, requires_grad=True)
    y = torch.relu(x)
    d2l.plot(x.detach(), y.detach(), 'x', 'relu(x)', figsize=(5, 2.5))
    save(args.out, "relu")

    y.backward(torch.ones_like(x), retain_graph=True)
    d2l.plot(x.detach(), x.grad, 'x', 'grad of relu', figsize=(5, 2.5))
    save(args.out, "relu_grad")
    assert ((x.grad == 1) == (x.detach() > 0)).all()

    y = torch.sigmoid(x)
    d2l.plot(x.detach(), y.detach(), 'x', 'sigmoid(x)', figsize=(5, 2.5))
    save(args.out, "sigmoid")

    # clear the gradient left by relu, or backward would add to it
    x.grad.data.zero_()
    y.backward(torch.ones_like(x), retain_graph=True)
    d2l.plot(x.detach(), x.grad, 'x', 'grad of sigmoid', figsize=(5, 2.5))
    save(args.out, "sigmoid_grad")
    print(f"largest sigmoid gradient {float(x.grad.max()):.4f} (0.25 at x = 0)")

    y = torch.tanh(x)
    d2l.plot(x.detach(), y.detach(), 'x', 'tanh(x)', figsize=(5, 2.5))
    save(args.out, "tanh")

    x.grad.data.zero_()
    y.backward(torch.ones_like(x), retain_graph=True)
    d2l.plot(x.detach(), x.grad, 'x', 'grad of tanh', figsize=(5, 2.5))
    save(args.out, "tanh_grad")
    print(f"largest tanh gradient {float(x.grad.max()):.4f} (1 at x = 0)")

    # all three on one figure: several curves with a legend
    with torch.no_grad():
        curves = [torch.relu(x), torch.sigmoid(x), torch.tanh(x)]
    d2l.plot(x.detach(), curves, 'x', 'activation', legend=['relu', 'sigmoid', 'tanh'],
             ylim=(-1.5, 3), figsize=(5, 3))
    save(args.out, "activations")


if __name__ == "__main__":
    main()
