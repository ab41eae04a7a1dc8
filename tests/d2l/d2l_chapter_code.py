"""Running code written after *Dive into Deep Learning*'s chapters with `torch` bound to
chainrule or to PyTorch: the chapter's source, exec'd in a namespace holding the imports
a notebook would have (`torch`, `nn`, `F`, `d2l`), so the same text runs on both."""
import contextlib
import io

import numpy as np

import chainrule
from chainrule import d2l
from helpers import assert_close, torch


def namespace(lib, d2l, **extra):
    ns = {"torch": lib, "nn": lib.nn, "F": lib.nn.functional, "d2l": d2l}
    ns.update(extra)
    return ns


def run(source, ns, name="chapter"):
    """Execute `source` in `ns`; returns what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, name, "exec"), ns)
    return out.getvalue()


def copy_parameters(src, dst):
    """PyTorch module's parameters and buffers -> the chainrule module of the same
    structure (names must match)."""
    theirs = dict(src.state_dict())
    ours = dst.state_dict()
    assert list(ours) == list(theirs), (list(ours), list(theirs))
    with chainrule.no_grad():
        for key, value in ours.items():
            value.copy_(chainrule.tensor(theirs[key].detach().numpy()))


def fixed_xavier(monkeypatch, *libs):
    """Make each lib's nn.init.xavier_uniform_ fill the k-th call's tensor with the same
    numbers (Xavier's bound, draws from a NumPy generator seeded by k), so d2l's
    train_ch6 starts the two libraries from one set of weights."""
    for lib in libs:
        calls = [0]

        def fill(tensor, gain=1.0, lib=lib, calls=calls):
            shape = tuple(tensor.shape)
            fan_in = shape[1] * int(np.prod(shape[2:]))
            fan_out = shape[0] * int(np.prod(shape[2:]))
            bound = gain * np.sqrt(6.0 / (fan_in + fan_out))
            values = np.random.default_rng(calls[0]).uniform(-bound, bound, shape)
            calls[0] += 1
            with lib.no_grad():
                tensor.copy_(lib.tensor(values.astype(np.float32)))
            return tensor
        monkeypatch.setattr(lib.nn.init, "xavier_uniform_", fill)


def fixed_batches(X, y, batch_size, lib):
    """The same minibatches, in the same order, as `lib` tensors (no shuffling, so two
    libraries train on identical sequences)."""
    return [(lib.tensor(X[i:i + batch_size]), lib.tensor(y[i:i + batch_size]))
            for i in range(0, len(X), batch_size)]


def final_numbers(printed):
    """(loss, train acc, test acc) from train_ch6's 'loss .., train acc .., test acc ..'."""
    import re
    m = re.search(r"loss ([0-9.]+), train acc ([0-9.]+), test acc ([0-9.]+)", printed)
    assert m, printed
    return tuple(float(v) for v in m.groups())


def stripes(n, seed):
    """Fashion-MNIST-shaped images with a bright row per class (as the CLI tests' files)."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 10).astype(np.int64)
    images = rng.integers(0, 60, (n, 28, 28)).astype(np.float32)
    images[np.arange(n), labels * 2, :] = 255
    return (images / 255)[:, None], labels


# d2l 6.6's own (saved) helpers, as a reader types them in
TRAIN_HELPERS = '''
def evaluate_accuracy_gpu(net, data_iter, device=None):
    if isinstance(net, nn.Module):
        net.eval()
        if not device:
            device = next(iter(net.parameters())).device
    metric = d2l.Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            if isinstance(X, list):
                X = [x.to(device) for x in X]
            else:
                X = X.to(device)
            y = y.to(device)
            metric.add(d2l.accuracy(net(X), y), d2l.size(y))
    return metric[0] / metric[1]

def train_ch6(net, train_iter, test_iter, num_epochs, lr, device):
    def init_weights(m):
        if type(m) == nn.Linear or type(m) == nn.Conv2d:
            nn.init.xavier_uniform_(m.weight)
    net.apply(init_weights)
    print('training on', device)
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    animator = d2l.Animator(xlabel='epoch', xlim=[1, num_epochs],
                            legend=['train loss', 'train acc', 'test acc'])
    timer, num_batches = d2l.Timer(), len(train_iter)
    for epoch in range(num_epochs):
        metric = d2l.Accumulator(3)
        net.train()
        for i, (X, y) in enumerate(train_iter):
            timer.start()
            optimizer.zero_grad()
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
            with torch.no_grad():
                metric.add(l * X.shape[0], d2l.accuracy(y_hat, y), X.shape[0])
            timer.stop()
            train_l = metric[0] / metric[2]
            train_acc = metric[1] / metric[2]
            if (i + 1) % (num_batches // 5) == 0 or i == num_batches - 1:
                animator.add(epoch + (i + 1) / num_batches, (train_l, train_acc, None))
        test_acc = evaluate_accuracy_gpu(net, test_iter)
        animator.add(epoch + 1, (None, None, test_acc))
    print(f'loss {train_l:.3f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}')
    print(f'{metric[2] * num_epochs / timer.sum():.1f} examples/sec on {str(device)}')
'''


def train_both(monkeypatch, net_source, ours_train, lr, epochs=2, n=160, batch=32):
    """Train the net of `net_source` with chainrule (through `ours_train`) and with
    PyTorch (through the book's train_ch6) from one set of weights, on one sequence of
    batches; returns both namespaces and what each printed."""
    fixed_xavier(monkeypatch, chainrule, torch)
    X, y = stripes(n, 0)
    Xt, yt = stripes(n // 2, 1)
    nss = {}
    for lib, helpers in ((torch, d2l), (chainrule, d2l)):
        ns = namespace(lib, helpers)
        run(net_source + TRAIN_HELPERS, ns)
        nss[lib.__name__] = ns
    copy_parameters(nss["torch"]["net"], nss["chainrule"]["net"])
    printed = {}
    for name, lib, train in (("torch", torch, nss["torch"]["train_ch6"]),
                             ("chainrule", chainrule, ours_train(nss["chainrule"]))):
        args = (nss[name]["net"], fixed_batches(X, y, batch, lib),
                fixed_batches(Xt, yt, batch, lib), epochs, lr, lib.device("cpu"))
        printed[name] = run("train(*args)", {"train": train, "args": args})
    return nss, printed


def assert_same_training(nss, printed, rtol=2e-4):
    ours, theirs = final_numbers(printed["chainrule"]), final_numbers(printed["torch"])
    np.testing.assert_allclose(ours, theirs, atol=1.5e-3)  # printed to three decimals
    state_c, state_t = nss["chainrule"]["net"].state_dict(), nss["torch"]["net"].state_dict()
    for key, value in state_t.items():
        assert_close(state_c[key].numpy(), value.numpy(), rtol=rtol, atol=rtol / 10,
                     err_msg=key)
