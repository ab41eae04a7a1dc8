"""d2l 6.6 (LeNet): the section runs with only the imports changed, on Fashion-MNIST-format
files the test writes; d2l.train_ch6 and evaluate_accuracy_gpu give PyTorch's numbers
from the same weights and batches."""
import numpy as np
import pytest

import chainrule
from chainrule import d2l

from cli_helpers import write_tiny_idx
from d2l_chapter_code import (TRAIN_HELPERS, assert_same_training, copy_parameters,
                              final_numbers, fixed_batches, namespace, run, stripes, train_both)
from helpers import assert_close, needs_matplotlib, requires_torch, torch

pytestmark = requires_torch

LENET = '''
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.Sigmoid(),
    nn.Linear(84, 10))

X = torch.rand(size=(1, 1, 28, 28), dtype=torch.float32)
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__, 'output shape: \\t', X.shape)
'''

# the sizes are the reader's choice on a CPU: the book has batch 256 and 10 epochs
RUN = '''
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size=batch_size)
lr = 0.9
train_ch6(net, train_iter, test_iter, num_epochs, lr, d2l.try_gpu())
'''


def test_lenet_section_runs_unchanged_on_fashion_mnist_files(tmp_path, monkeypatch):
    write_tiny_idx(tmp_path / "data", "FashionMNIST", n_train=320, n_test=64)
    (tmp_path / "notebook").mkdir()
    monkeypatch.chdir(tmp_path / "notebook")  # d2l reads ../data
    printed = {}
    for lib, helpers in ((chainrule, d2l), (torch, None)):
        ns = namespace(lib, helpers)
        printed[lib.__name__] = run(LENET, ns)
    ours = printed["chainrule"].replace("chainrule.Size", "Size")
    assert ours == printed["torch"].replace("torch.Size", "Size")
    assert "Flatten output shape: \t Size([1, 400])" in ours
    ns = namespace(chainrule, d2l, batch_size=64, num_epochs=2)
    out = run(LENET + TRAIN_HELPERS + RUN, ns)
    assert "training on cpu" in out and "examples/sec on cpu" in out
    loss, train_acc, test_acc = final_numbers(out)
    assert 0 < loss < 5 and 0 <= train_acc <= 1 and 0 <= test_acc <= 1


@pytest.mark.slow
@pytest.mark.parametrize("which", ["library", "book"])
def test_train_ch6_trains_lenet_as_pytorch_does_from_the_same_weights(monkeypatch, which):
    """chainrule's d2l.train_ch6, and the section's own definition run on chainrule,
    against the section's definition on PyTorch."""
    pick = (lambda ns: d2l.train_ch6) if which == "library" else (lambda ns: ns["train_ch6"])
    nss, printed = train_both(monkeypatch, LENET, pick, lr=0.9)
    assert_same_training(nss, printed)
    assert printed["chainrule"].startswith("training on cpu\n")
    if which == "library":  # the per-epoch numbers are kept for diagnose
        result = d2l.last_history()
        assert len(result.history["loss"]) == 2
        assert result.test_acc == pytest.approx(final_numbers(printed["torch"])[2], abs=1.5e-3)


def _digit_batches(n_batches, batch):
    X = np.random.default_rng(0).random((n_batches * batch, 4), dtype=np.float32)
    y = X.argmax(axis=1)
    return fixed_batches(X, y, batch, chainrule)


class _Recorder:
    def __init__(self):
        self.points = []

    def add(self, x, y):
        self.points.append((round(x, 6), tuple(None if v is None else round(v, 6) for v in y)))


def test_train_ch6_plots_five_points_per_epoch_and_every_batch_when_there_are_fewer():
    chainrule.manual_seed(0)
    net = chainrule.nn.Sequential(chainrule.nn.Linear(4, 4))
    rec = _Recorder()
    d2l.train_ch6(net, _digit_batches(10, 8), _digit_batches(2, 8), 2, 0.5, d2l.try_gpu(),
                  animator=rec)
    xs = [x for x, y in rec.points if y[2] is None]
    assert xs == [0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0]
    assert [x for x, y in rec.points if y[2] is not None] == [1, 2]
    # three batches: d2l's loop would divide by zero (3 // 5); here each batch is a point
    rec = _Recorder()
    d2l.train_ch6(net, _digit_batches(3, 8), _digit_batches(1, 8), 1, 0.5, d2l.cpu(),
                  animator=rec)
    assert [x for x, y in rec.points] == [pytest.approx(1 / 3), pytest.approx(2 / 3), 1.0, 1]


def test_train_ch6_takes_a_generator_and_refuses_an_empty_loader():
    net = chainrule.nn.Sequential(chainrule.nn.Flatten(), chainrule.nn.Linear(4, 4))
    rec = _Recorder()
    d2l.train_ch6(net, (b for b in _digit_batches(4, 8)), _digit_batches(1, 8), 1, 0.1,
                  d2l.cpu(), animator=rec)
    assert len(rec.points) == 1 and None not in rec.points[0][1]  # one point per epoch
    with pytest.raises(ValueError, match="train_ch6: train_iter holds no batches"):
        d2l.train_ch6(net, [], _digit_batches(1, 8), 1, 0.1, d2l.cpu(), animator=rec)


def test_train_ch6_gives_linear_and_conv2d_weights_xavier_and_keeps_biases(capsys):
    chainrule.manual_seed(0)

    class MyLinear(chainrule.nn.Linear):  # exact types only, as d2l's type(m) == ...
        pass
    net = chainrule.nn.Sequential(chainrule.nn.Conv2d(1, 2, 3), chainrule.nn.Flatten(),
                                  chainrule.nn.Linear(8, 300), MyLinear(300, 4))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    X = chainrule.rand(8, 1, 4, 4)
    data = [(X, chainrule.randint(0, 4, (8,)))]
    d2l.train_ch6(net, data, data, 1, 0.0, d2l.cpu(), animator=_Recorder())
    after = net.state_dict()
    bound = np.sqrt(6 / (8 + 300))
    w = after["2.weight"].numpy()
    assert np.abs(w).max() <= bound and w.std() > bound / 2  # uniform(-bound, bound)
    assert (after["0.weight"] != before["0.weight"]).all()
    assert (after["3.weight"] == before["3.weight"]).all()  # a subclass keeps its weights
    for key in ("0.bias", "2.bias", "3.bias"):  # lr 0: only the initialisation changed
        assert (after[key] == before[key]).all()
    out = capsys.readouterr().out
    assert out.startswith("training on cpu\n") and "examples/sec on cpu" in out


@needs_matplotlib
def test_train_ch6_outside_jupyter_writes_its_curves_and_says_where(tmp_path, monkeypatch,
                                                                     capsys):
    monkeypatch.setenv("CHAINRULE_FIGURE_DIR", str(tmp_path))
    net = chainrule.nn.Sequential(chainrule.nn.Linear(4, 4))
    d2l.train_ch6(net, _digit_batches(5, 8), _digit_batches(1, 8), 2, 0.5, d2l.try_gpu())
    path = tmp_path / "train_ch6.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Animator: figure written to {path}" in capsys.readouterr().out


def test_evaluate_accuracy_gpu_counts_like_d2l_and_puts_the_net_in_eval_mode():
    net = chainrule.nn.Sequential(chainrule.nn.Linear(2, 2), chainrule.nn.Dropout(0.5))
    with chainrule.no_grad():
        net[0].weight.copy_(chainrule.eye(2))
        net[0].bias.zero_()
    X = chainrule.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    y = chainrule.tensor([0, 1, 1, 1, 0])
    it = d2l.load_array((X, y), 2, is_train=False)
    assert d2l.evaluate_accuracy_gpu(net, it) == 0.8  # dropout off: rows 0, 1, 3, 4
    assert not net.training
    assert d2l.evaluate_accuracy_gpu(net, it, d2l.try_gpu()) == 0.8
    # a plain function is no Module: no eval(), no device to look up
    assert d2l.evaluate_accuracy_gpu(lambda X: X, it) == 0.8
    # several inputs per example arrive as a list, each moved to the device
    pairs = [([X[:3], X[:3]], y[:3])]
    assert d2l.evaluate_accuracy_gpu(lambda Xs: Xs[0] + Xs[1], pairs) == pytest.approx(2 / 3)


def test_evaluate_accuracy_gpu_matches_the_sections_definition_on_torch():
    ns = namespace(torch, d2l)
    run(TRAIN_HELPERS, ns)
    torch.manual_seed(0)
    net_t = torch.nn.Sequential(torch.nn.Linear(4, 3))
    net_c = chainrule.nn.Sequential(chainrule.nn.Linear(4, 3))
    copy_parameters(net_t, net_c)
    X, y = stripes(20, 3)
    X, y = X[:, 0, 0, :4] * 10, y % 3
    ours = d2l.evaluate_accuracy_gpu(net_c, fixed_batches(X, y, 6, chainrule))
    assert ours == ns["evaluate_accuracy_gpu"](net_t, fixed_batches(X, y, 6, torch))
