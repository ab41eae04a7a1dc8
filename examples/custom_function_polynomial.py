"""A custom autograd Function: a polynomial p(x) = c0 + c1 x + ... + cK x^K with its
gradients written by hand (dp/dc_k = x^k, dp/dx = sum_k k c_k x^(k-1)), checked with
gradcheck and then fitted by gradient descent to noisy samples of a cubic. The fit is
compared with the least-squares solution of the same problem.

    python examples/custom_function_polynomial.py [--degree 3] [--steps 800]
"""
import argparse

import numpy as np

import chainrule as torch
from chainrule.autograd import Function, gradcheck


class Polynomial(Function):
    @staticmethod
    def forward(ctx, x, coeffs):
        powers = torch.stack([x ** k for k in range(coeffs.shape[0])], dim=-1)
        ctx.save_for_backward(coeffs, powers)
        return powers @ coeffs

    @staticmethod
    def backward(ctx, grad_out):
        coeffs, powers = ctx.saved_tensors
        grad_x = grad_coeffs = None
        if ctx.needs_input_grad[0]:
            k = torch.arange(1, coeffs.shape[0], dtype=coeffs.dtype)
            grad_x = grad_out * (powers[:, :-1] @ (coeffs[1:] * k))
        if ctx.needs_input_grad[1]:
            grad_coeffs = powers.T @ grad_out
        return grad_x, grad_coeffs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--degree", type=int, default=3)
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)

    x64 = torch.linspace(-1, 1, 7, dtype=torch.float64).requires_grad_(True)
    c64 = torch.randn(args.degree + 1, dtype=torch.float64, requires_grad=True)
    print("gradcheck of the hand-written backward:", gradcheck(Polynomial.apply, (x64, c64)))

    true = torch.tensor([0.5, -1.2, 0.0, 0.8] + [0.0] * max(0, args.degree - 3))
    true = true[:args.degree + 1]
    x = torch.rand(200) * 2 - 1
    y = Polynomial.apply(x, true) + 0.05 * torch.randn(200)

    coeffs = torch.zeros(args.degree + 1, requires_grad=True)
    optimizer = torch.optim.Adam([coeffs], lr=args.lr)
    for step in range(args.steps):
        optimizer.zero_grad()
        loss = ((Polynomial.apply(x, coeffs) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        if step % (args.steps // 4) == 0 or step == args.steps - 1:
            print(f"step {step:4d}  loss {loss.item():.5f}")

    design = np.stack([x.numpy() ** k for k in range(args.degree + 1)], axis=1)
    best = np.linalg.lstsq(design.astype(np.float64), y.numpy().astype(np.float64),
                           rcond=None)[0]
    fmt = lambda v: "[" + ", ".join(f"{c:+.3f}" for c in v) + "]"
    print("true coefficients:   ", fmt(true.tolist()))
    print("fitted coefficients: ", fmt(coeffs.detach().tolist()))
    print("least squares:       ", fmt(best))
    print(f"largest gap to least squares: {np.abs(coeffs.detach().numpy() - best).max():.4f}")


if __name__ == "__main__":
    main()
