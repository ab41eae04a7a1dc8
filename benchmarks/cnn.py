"""Convolutional networks, chainrule against PyTorch 2.13 in one process, interleaved:
d2l's LeNet (6.6: sigmoid, average pooling, SGD lr 0.9, cross-entropy) for an epoch of
28×28 inputs in batches of 256, and a small stack of d2l's Residual blocks (7.6) at
32×32. Both libraries start from the same weights and see the same random data; each
round times one epoch of each, and the table gives medians over rounds and the median of
the per-round ratios chainrule / PyTorch; one thread each (torch.set_num_threads(1),
chainrule.set_num_threads(1)) and each library's default settings; with --busy also
beside one bounded busy-loop process. GFLOPS count the convolutions' and linear layers'
products (forward, weight and input gradients) against one thread's sgemm, measured
here. The peak RSS of a LeNet epoch is each library's in a subprocess of its own.

    python benchmarks/cnn.py               # idle machine
    python benchmarks/cnn.py --busy        # idle, then beside a busy loop
    python benchmarks/cnn.py --rounds 7 --batches 60
    python benchmarks/cnn.py --profile     # where chainrule's LeNet step goes (cProfile)
"""
import argparse
import contextlib
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from conv import sgemm_gflops  # noqa: E402  (one thread's sgemm through chainrule)
from main_job import busy_machine  # noqa: E402  (a bounded busy-loop subprocess)
from run import interleaved  # noqa: E402  (one timing loop for every benchmark)


def lenet(m):
    nn = m.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))


def residual(m, in_channels, channels, use_1x1conv=False, strides=1):
    """d2l's Residual block: two 3×3 convolutions with batch norm, the input added back
    (through a 1×1 convolution where the shape changes)."""
    nn = m.nn

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(in_channels, channels, 3, padding=1, stride=strides)
            self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
            self.conv3 = (nn.Conv2d(in_channels, channels, 1, stride=strides)
                          if use_1x1conv else None)
            self.bn1, self.bn2 = nn.BatchNorm2d(channels), nn.BatchNorm2d(channels)

        def forward(self, x):
            y = m.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return m.relu(y + (self.conv3(x) if self.conv3 is not None else x))
    return Residual()


def resnet_stack(m):
    """A 3×3 stem and four Residual blocks (64 channels at 32×32, 128 at 16×16)."""
    nn = m.nn
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        residual(m, 64, 64), residual(m, 64, 64),
        residual(m, 64, 128, use_1x1conv=True, strides=2), residual(m, 128, 128),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))


# name, network, input (C, H, W), batch, batches an epoch, SGD learning rate
WORKLOADS = {
    "lenet": ("d2l LeNet epoch (28×28, batch 256)", lenet, (1, 28, 28), 256, 60, 0.9),
    "resnet": ("Residual stack steps (32×32, batch 16)", resnet_stack, (3, 32, 32), 16, 2, 0.05),
}


def make_data(shape, batch, batches, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch * batches, *shape), dtype=np.float32)
    return X, rng.integers(0, 10, size=batch * batches).astype(np.int64)


def build(name):
    """The workload's network in both libraries, with chainrule's initial weights."""
    import torch
    import chainrule
    _, net_fn, *_ = WORKLOADS[name]
    chainrule.manual_seed(0)
    ours, theirs = net_fn(chainrule), net_fn(torch)
    state = {k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)
    return ours, theirs


def epoch_fn(m, net, name, X, y):
    _, _, _, batch, _, lr = WORKLOADS[name]
    opt = m.optim.SGD(net.parameters(), lr=lr)
    loss_fn = m.nn.CrossEntropyLoss()
    tX, ty = m.from_numpy(X), m.from_numpy(y)
    losses = []

    def epoch():
        for i in range(0, len(X), batch):
            loss = loss_fn(net(tX[i:i + batch]), ty[i:i + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        losses.append(float(loss.item()))
    return epoch, losses


def training_flops(torch_net, shape, batch):
    """Multiply-adds ×2 of every convolution and linear layer: forward, weight gradient
    and input gradient (none for the first layer, whose input is data)."""
    import torch
    counts = []

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            k = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            counts.append(2 * output.numel() * k)
        elif isinstance(module, torch.nn.Linear):
            counts.append(2 * output.numel() * module.in_features)
    handles = [mod.register_forward_hook(hook) for mod in torch_net.modules()]
    training = torch_net.training
    torch_net.eval()  # shapes only: batch norm's running statistics stay as they were
    with torch.no_grad():
        torch_net(torch.zeros(batch, *shape))
    torch_net.train(training)
    for h in handles:
        h.remove()
    return 3 * sum(counts) - counts[0]


def compare(name, rounds):
    import torch
    import chainrule
    _, _, shape, batch, batches, _ = WORKLOADS[name]
    X, y = make_data(shape, batch, batches)
    ours, theirs = build(name)
    (a, la), (b, lb) = (epoch_fn(chainrule, ours, name, X, y),
                        epoch_fn(torch, theirs, name, X, y))
    (ta, tb), ratio = interleaved([a, b], rounds)
    flops = training_flops(theirs, shape, batch) * batches
    return ta, tb, ratio, flops / ta / 1e9, la[0], lb[0]


_RSS = """
import sys
sys.path.insert(0, {here!r})
import cnn
m = __import__({module!r})
m.set_num_threads(1)
_, net_fn, shape, batch, batches, _ = cnn.WORKLOADS["lenet"]
X, y = cnn.make_data(shape, batch, batches)
epoch, _ = cnn.epoch_fn(m, net_fn(m), "lenet", X, y)
status = lambda key: next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(key))
before = status("VmRSS")
epoch()
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec
print(status("VmHWM") / 1024, (status("VmHWM") - before) / 1024)
"""


def peak_rss():
    """(peak RSS MiB, growth over the RSS before the epoch MiB) per library."""
    out = {}
    for module in ("chainrule", "torch"):
        code = _RSS.format(here=str(Path(__file__).parent), module=module)
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        out[module] = tuple(float(v) for v in res.stdout.split()[-2:])
    return out


def profile(batches):
    import cProfile
    import pstats
    import chainrule
    chainrule.set_num_threads(1)
    X, y = make_data((1, 28, 28), 256, batches)
    ours, _ = build("lenet")
    epoch, _ = epoch_fn(chainrule, ours, "lenet", X, y)
    epoch()  # warm-up
    prof = cProfile.Profile()
    prof.enable()
    epoch()
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--busy", action="store_true", help="also time beside a busy loop")
    p.add_argument("--profile", action="store_true", help="cProfile chainrule's LeNet epoch")
    p.add_argument("--only", choices=sorted(WORKLOADS), help="one workload")
    args = p.parse_args()
    if args.profile:
        return profile(20)
    import torch
    import chainrule
    torch_default = torch.get_num_threads()
    peak = sgemm_gflops()
    print(f"one-thread sgemm through chainrule.threads.matmul: {peak:.0f} GFLOPS\n")
    print("| workload | machine | threads | chainrule | PyTorch | ratio | chainrule GFLOPS "
          "(% of sgemm) | loss after epoch 1, chainrule / PyTorch |")
    print("|---|---|---|---|---|---|---|---|")
    names = [args.only] if args.only else list(WORKLOADS)
    for busy in ((False, True) if args.busy else (False,)):
        with busy_machine() if busy else contextlib.nullcontext():
            for threads in ("1", "default"):
                torch.set_num_threads(1 if threads == "1" else torch_default)
                chainrule.set_num_threads(1 if threads == "1" else "auto")
                for name in names:
                    a, b, ratio, gflops, la, lb = compare(name, args.rounds)
                    print(f"| {WORKLOADS[name][0]} | {'busy' if busy else 'idle'} | {threads} | "
                          f"{a:.3f} s | {b:.3f} s | {ratio:.2f} | {gflops:.1f} "
                          f"({100 * gflops / peak:.0f}%) | {la:.4f} / {lb:.4f} |", flush=True)
    rss = peak_rss()
    print("\n| LeNet epoch, one thread | peak RSS | growth during the epoch |\n|---|---|---|")
    for module, (hwm, growth) in rss.items():
        print(f"| {module} | {hwm:.0f} MiB | {growth:.0f} MiB |")


if __name__ == "__main__":
    main()
