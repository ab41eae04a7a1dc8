"""Closed-form linear regression: append a column of ones to X for the bias, then
w = (XᵀX)⁻¹Xᵀy. Checks the normal-equation answer against linalg.solve and linalg.lstsq
and prints the estimation errors of w and b.

    python examples/closed_form_regression.py [--n N] [--seed S]
"""
import argparse

import chainrule as torch
from chainrule import d2l


def with_bias_column(X, torch=torch):
    return torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype)], dim=1)


def normal_equation(X, y, torch=torch):
    """w' = (XᵀX)⁻¹Xᵀy for X with a bias column; works with chainrule or torch."""
    Xb = with_bias_column(X, torch)
    return torch.linalg.inv(Xb.T @ Xb) @ Xb.T @ y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of examples")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    true_w = torch.tensor([2, -3.4])
    true_b = 4.2
    features, labels = d2l.synthetic_data(true_w, torch.tensor([true_b]), args.n)
    X, y = features.double(), labels.double()  # float64: XᵀX squares the condition number

    w_all = normal_equation(X, y)
    w, b = w_all[:-1, 0], w_all[-1, 0]
    Xb = with_bias_column(X)
    by_solve = torch.linalg.solve(Xb.T @ Xb, Xb.T @ y)
    by_lstsq = torch.linalg.lstsq(Xb, y).solution
    print("w:", w)
    print(f"b: {float(b):.4f}")
    print(f"normal equation vs solve: {float((w_all - by_solve).abs().max()):.2e}")
    print(f"normal equation vs lstsq: {float((w_all - by_lstsq).abs().max()):.2e}")
    residual = y - Xb @ w_all
    print(f"training loss (1/2n)||y - Xw||²: {float((residual ** 2).sum() / (2 * args.n)):.6f}")
    print("error in estimating w:", true_w.double() - w)
    print(f"error in estimating b: {true_b - float(b):.4f}")
    worst = max(float((true_w.double() - w).abs().max()), abs(true_b - float(b)))
    print(f"largest absolute error: {worst:.4f}")


if __name__ == "__main__":
    main()
