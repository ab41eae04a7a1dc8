"""Why initialisation matters, measured with hooks: a deep tanh MLP is initialised two
ways, N(0, 0.01) and Xavier (Var(w) = 2 / (n_in + n_out)), and forward hooks record
every layer's activation mean and std while full backward hooks record the std of the
gradient reaching each layer. With N(0, 0.01) each layer multiplies the variance by
n * 0.01**2 and the signal dies out; Xavier keeps it at one scale in both directions.

    python examples/activation_statistics.py [--depth 8] [--width 256] [--batch 512]
"""
import argparse

import chainrule as torch
from chainrule import nn


def make_mlp(depth, width, init):
    layers = []
    for _ in range(depth):
        linear = nn.Linear(width, width)
        if init == "normal(0, 0.01)":
            nn.init.normal_(linear.weight, mean=0.0, std=0.01)
        else:
            nn.init.xavier_normal_(linear.weight)
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.Tanh()]
    return nn.Sequential(*layers)


def record_statistics(net, x):
    """Per Tanh layer: (activation mean, activation std, std of d loss / d activation)."""
    forward, backward, handles = {}, {}, []
    for name, module in net.named_children():
        if not isinstance(module, nn.Tanh):
            continue

        def on_forward(mod, inputs, output, name=name):
            forward[name] = (output.mean().item(), output.std().item())

        def on_backward(mod, grad_input, grad_output, name=name):
            backward[name] = grad_output[0].std().item()

        handles.append(module.register_forward_hook(on_forward))
        handles.append(module.register_full_backward_hook(on_backward))
    x = x.clone().requires_grad_(True)
    net(x).pow(2).sum().backward()
    for handle in handles:
        handle.remove()  # the network runs hook-free afterwards
    return [(name, *forward[name], backward[name]) for name in forward]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    x = torch.randn(args.batch, args.width)
    for init in ("normal(0, 0.01)", "xavier"):
        net = make_mlp(args.depth, args.width, init)
        print(f"\ninit {init}: {args.depth} tanh layers of width {args.width}")
        print(f"{'layer':>5} {'act mean':>10} {'act std':>10} {'grad std':>10}")
        for layer, mean, std, grad_std in record_statistics(net, x):
            print(f"{layer:>5} {mean:>10.2e} {std:>10.2e} {grad_std:>10.2e}")


if __name__ == "__main__":
    main()
