"""Same seed, same weights, to the bit, across separate processes: initialisation,
DataLoader shuffling, dropout and `fit(seed=)`. A different seed gives other weights
(otherwise the comparison would prove nothing)."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import chainrule as cr

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import chainrule as torch
    from chainrule import nn, optim
    from chainrule.utils.data import DataLoader, TensorDataset
    from chainrule.train import fit

    seed, out_loop, out_fit = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    data = np.random.default_rng(0)          # the data is fixed; only the seed varies
    X = data.normal(size=(96, 6)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)

    def net():
        return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 2))

    # a hand-written loop: everything random comes from the global generator
    torch.manual_seed(seed)
    model = net()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
                        batch_size=16, shuffle=True)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(3):
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    torch.save(model.state_dict(), out_loop)

    # fit: the seed argument alone must pin shuffling and dropout
    torch.manual_seed(0)
    model = net()
    fit(model, (X, y), loss=nn.CrossEntropyLoss(), optimizer=optim.Adam(model.parameters(),
        lr=0.01), epochs=3, batch_size=16, seed=seed, validation_split=0.25, progress=False)
    torch.save(model.state_dict(), out_fit)
""")


def _train(tmp_path, seed, tag):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    loop, fitted = tmp_path / f"loop-{tag}.pt", tmp_path / f"fit-{tag}.pt"
    result = subprocess.run([sys.executable, str(script), str(seed), str(loop), str(fitted)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return _bytes(loop), _bytes(fitted)


def _bytes(path):
    state = cr.load(path)
    return {k: (str(v.dtype), tuple(v.shape), np.ascontiguousarray(v.numpy()).tobytes())
            for k, v in state.items()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("determinism")
    return {"first": _train(tmp, 1234, "a"), "again": _train(tmp, 1234, "b"),
            "other": _train(tmp, 99, "c")}


@pytest.mark.slow
@pytest.mark.parametrize("which", [0, 1], ids=["manual-loop", "fit"])
def test_same_seed_gives_identical_weights(runs, which):
    first, again = runs["first"][which], runs["again"][which]
    assert first.keys() == again.keys()
    for name in first:
        assert first[name] == again[name], f"{name} differs between two runs with one seed"


@pytest.mark.parametrize("which", [0, 1], ids=["manual-loop", "fit"])
def test_different_seed_gives_different_weights(runs, which):
    first, other = runs["first"][which], runs["other"][which]
    assert first.keys() == other.keys()
    assert all(first[name] != other[name] for name in first)


def test_fit_seed_pins_shuffling_and_dropout_in_process():
    # the same holds inside one process: seeding fit undoes whatever ran before it
    from chainrule import nn, optim
    from chainrule.train import fit
    X = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)

    def run(noise):
        cr.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2))
        cr.rand(noise)  # draws from the global generator between init and fit
        fit(model, (X, y), loss=nn.CrossEntropyLoss(), epochs=2, batch_size=8, seed=3,
            optimizer=optim.SGD(model.parameters(), lr=0.1), progress=False)
        return b"".join(np.ascontiguousarray(p.detach().numpy()).tobytes()
                        for p in model.parameters())

    assert run(1) == run(17)
