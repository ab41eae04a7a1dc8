"""Probability with chainrule.distributions (d2l ch. 2.6 in spirit): roll a fair die many
times and watch the relative frequencies settle at 1/6, toss a biased coin, then fit a
normal distribution to data by maximising log_prob with gradients that flow through the
distribution's parameters, and check a reparameterised sample's gradient.
Every step is checked; the script ends with "all checks passed".

    python examples/probability.py [--out dice.png]
"""
import argparse
import math

import chainrule as torch
from chainrule.distributions import Bernoulli, Multinomial, Normal


def dice(out):
    torch.manual_seed(0)
    fair = torch.ones(6) / 6
    one_roll = Multinomial(1, fair).sample()
    print("one roll:", one_roll)
    assert one_roll.sum().item() == 1
    groups = Multinomial(10, fair).sample((500,))  # 500 groups of 10 rolls
    running = groups.cumsum(dim=0)
    estimates = running / running.sum(dim=1, keepdims=True)
    print("after 5000 rolls:", estimates[-1])
    # each estimate has standard error sqrt(p(1-p)/5000) ~ 0.0053: allow 6 of them
    assert (estimates[-1] - 1 / 6).abs().max().item() < 6 * math.sqrt(5 / 36 / 5000)
    if out:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        for face in range(6):
            plt.plot(estimates[:, face].numpy(), label=f"P(die={face + 1})")
        plt.axhline(y=1 / 6, color="black", linestyle="dashed")
        plt.xlabel("groups of experiments")
        plt.ylabel("estimated probability")
        plt.legend()
        plt.savefig(out)
        print("saved", out)


def coin():
    torch.manual_seed(1)
    coin = Bernoulli(probs=0.3)
    tosses = coin.sample((10000,))
    share = tosses.mean().item()
    print(f"heads in 10000 tosses: {share:.4f} (p = 0.3), entropy {coin.entropy().item():.4f}")
    assert abs(share - 0.3) < 6 * math.sqrt(0.3 * 0.7 / 10000)


def fit_normal():
    torch.manual_seed(2)
    data = Normal(3.0, 0.5).sample((2000,))
    loc = torch.zeros(1, requires_grad=True)
    log_scale = torch.zeros(1, requires_grad=True)  # scale = exp(log_scale) stays positive
    optimizer = torch.optim.Adam([loc, log_scale], lr=0.05)
    for _ in range(400):
        optimizer.zero_grad()
        loss = -Normal(loc, log_scale.exp()).log_prob(data).mean()
        loss.backward()
        optimizer.step()
    fitted_loc, fitted_scale = loc.item(), log_scale.exp().item()
    print(f"fitted loc {fitted_loc:.3f}, scale {fitted_scale:.3f} "
          f"(sample mean {data.mean().item():.3f}, std {data.std(correction=0).item():.3f})")
    # maximum likelihood is the sample mean and the (biased) sample standard deviation
    assert abs(fitted_loc - data.mean().item()) < 1e-2
    assert abs(fitted_scale - data.std(correction=0).item()) < 1e-2


def reparameterised():
    torch.manual_seed(3)
    loc = torch.tensor(1.0, requires_grad=True)
    scale = torch.tensor(2.0, requires_grad=True)
    z = Normal(loc, scale).rsample((1000,))
    (z ** 2).mean().backward()  # E[z^2] = loc^2 + scale^2: gradients 2 loc, 2 scale
    print(f"d E[z^2]/d loc = {loc.grad.item():.3f} (2), d/d scale = {scale.grad.item():.3f} (4)")
    # 6 standard errors of the 1000-sample means (sd of 2z is 4; of 2 z eps it is 6)
    assert abs(loc.grad.item() - 2) < 6 * 4 / math.sqrt(1000)
    assert abs(scale.grad.item() - 4) < 6 * 6 / math.sqrt(1000)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="save the dice estimates plot to this PNG file")
    args = parser.parse_args()
    dice(args.out)
    coin()
    fit_normal()
    reparameterised()
    print("all checks passed")


if __name__ == "__main__":
    main()
