"""Running code written after *Dive into Deep Learning*'s chapters with `torch` bound to
chainrule or to PyTorch: the chapter's source, exec'd in a namespace holding the imports
a notebook would have (`torch`, `nn`, `F`, `d2l`), so the same text runs on both."""
import contextlib
import io

import numpy as np

import chainrule


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
