"""chainrule.d2l's helpers, each against a hand-computed expectation."""
import time

import numpy as np
import pytest

import chainrule as torch
from chainrule import d2l, nn
from helpers import needs_matplotlib


def test_accumulator_adds_resets_and_indexes():
    acc = d2l.Accumulator(3)
    acc.add(1, 2.5, torch.tensor(3.0))
    acc.add(1, 0.5, 4)
    assert acc.data == [2.0, 3.0, 7.0] and acc[1] == 3.0 and len(acc) == 3
    acc.reset()
    assert acc.data == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError):
        acc.add(1, 2)


def test_accuracy_matches_a_hand_count():
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5], [0.9, 0.05, 0.05],
                          [0.2, 0.7, 0.1]])
    y = torch.tensor([2, 0, 0, 1])
    # argmax per row: 2, 2, 0, 1 -> rows 0, 2, 3 correct
    assert d2l.accuracy(y_hat, y) == 3.0
    # class indices are compared directly
    assert d2l.accuracy(torch.tensor([2, 2, 0, 0]), y) == 2.0


def test_evaluate_accuracy_and_loss_over_batches():
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    y = torch.tensor([0, 1, 1, 1, 0])
    net = nn.Linear(2, 2)
    with torch.no_grad():
        net.weight.copy_(torch.eye(2))
        net.bias.zero_()
    # the net predicts the index of the hot input: rows 0, 1, 3, 4 right
    assert d2l.evaluate_accuracy(net, d2l.load_array((X, y), 2, is_train=False)) == 0.8
    assert not net.training  # d2l puts the net in eval mode
    reg_X, reg_y = torch.arange(6.).reshape(6, 1), torch.zeros(6)
    ident = nn.Linear(1, 1)
    with torch.no_grad():
        ident.weight.fill_(1.0)
        ident.bias.zero_()
    loss = nn.MSELoss(reduction="none")
    it = d2l.load_array((reg_X, reg_y), 4, is_train=False)
    expected = np.mean(np.arange(6.) ** 2)
    assert d2l.evaluate_loss(ident, it, loss) == pytest.approx(expected)
    assert d2l.evaluate_loss(ident, it, nn.MSELoss()) == pytest.approx(expected)


def test_synthetic_data_shapes_and_noise_level():
    torch.manual_seed(0)
    w, b = torch.tensor([2, -3.4]), 4.2
    X, y = d2l.synthetic_data(w, b, 5000)
    assert X.shape == (5000, 2) and y.shape == (5000, 1)
    noise = y.numpy()[:, 0] - (X.numpy() @ np.array([2, -3.4]) + 4.2)
    assert abs(noise.std() - 0.01) < 0.001 and abs(noise.mean()) < 0.001
    assert abs(X.numpy().std() - 1) < 0.05


def test_load_array_batches_and_shuffles():
    X, y = torch.arange(20.).reshape(10, 2), torch.arange(10)
    batches = list(d2l.load_array((X, y), 4, is_train=False))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert batches[0][1].tolist() == [0, 1, 2, 3]
    assert (batches[0][0][:, 0] == batches[0][1] * 2).all()
    torch.manual_seed(0)
    orders = {tuple(torch.cat([b[1] for b in d2l.load_array((X, y), 4)]).tolist())
              for _ in range(5)}
    assert len(orders) > 1 and all(sorted(o) == list(range(10)) for o in orders)


def test_linreg_squared_loss_and_sgd_step():
    X = torch.tensor([[1.0, 2.0]])
    w = torch.tensor([[0.5], [1.0]], requires_grad=True)
    b = torch.tensor([0.5], requires_grad=True)
    l = d2l.squared_loss(d2l.linreg(X, w, b), torch.tensor([1.0]))
    assert l.item() == pytest.approx(2.0)  # (3 - 1)^2 / 2
    l.sum().backward()
    d2l.sgd([w, b], lr=0.1, batch_size=1)  # grad: (3 - 1) * [1, 2] and 2
    np.testing.assert_allclose(w.detach().numpy().ravel(), [0.3, 0.6], rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), [0.3], rtol=1e-6)
    assert (w.grad == 0).all() and (b.grad == 0).all()


def test_fashion_mnist_labels():
    assert d2l.get_fashion_mnist_labels(torch.tensor([0, 9, 5])) == \
        ["t-shirt", "ankle boot", "sandal"]


@needs_matplotlib
def test_animator_records_points_headless(tmp_path):
    anim = d2l.Animator(xlabel="epoch", xlim=[1, 3], legend=["a", "b"])
    for epoch in range(1, 4):
        anim.add(epoch, (epoch * 0.1, 1 - epoch * 0.1))
    assert anim.X == [[1, 2, 3], [1, 2, 3]]
    np.testing.assert_allclose(anim.Y[1], [0.9, 0.8, 0.7])
    path = anim.save(tmp_path / "curves.png")
    assert path.stat().st_size > 1000
    ax = anim.axes[0]
    assert ax.get_xlabel() == "epoch" and len(ax.get_lines()) == 2
    anim.close()


@needs_matplotlib
def test_plot_and_set_figsize_accept_tensors_that_require_grad():
    x = torch.arange(-2.0, 2.0, 0.5, requires_grad=True)
    y = torch.relu(x)
    y.backward(torch.ones_like(x))
    assert d2l.plot(x.detach(), [y, x.grad], "x", "f(x)", legend=["relu", "grad"],
                    figsize=(4, 2)) is None  # as d2l: no extra Out[] in a notebook
    ax = d2l.plt.gca()
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "f(x)"
    lines = ax.get_lines()
    assert len(lines) == 2
    np.testing.assert_allclose(lines[1].get_ydata(), (np.arange(-2, 2, 0.5) > 0) * 1.0)
    assert tuple(d2l.plt.rcParams["figure.figsize"]) == (4, 2)
    d2l.plt.close("all")


@needs_matplotlib
def test_show_images_returns_axes_with_titles():
    imgs = torch.rand(6, 1, 8, 8)  # CHW tensors are shown as HW
    axes = d2l.show_images(imgs, 2, 3, titles=list("abcdef"))
    assert len(axes) == 6 and axes[4].get_title() == "e"
    assert axes[0].get_images()[0].get_array().shape == (8, 8)
    d2l.plt.close("all")


def test_timer_measures_and_sums():
    timer = d2l.Timer()
    time.sleep(0.02)
    first = timer.stop()
    timer.start()
    time.sleep(0.01)
    timer.stop()
    assert first >= 0.02 and timer.sum() == pytest.approx(sum(timer.times))
    assert timer.avg() == pytest.approx(timer.sum() / 2)
    assert timer.cumsum()[-1] == pytest.approx(timer.sum())


def test_use_gpu_helpers_return_device_objects_as_d2l_does_on_a_cpu_machine():
    import torch as real_torch
    # d2l's own definitions, written against PyTorch, as the reference on this machine
    t_gpus = real_torch.cuda.device_count()
    t_try = real_torch.device("cuda:0") if t_gpus >= 1 else real_torch.device("cpu")
    t_all = [real_torch.device(f"cuda:{i}") for i in range(t_gpus)] or [real_torch.device("cpu")]
    assert d2l.num_gpus() == t_gpus == 0
    assert repr(d2l.try_gpu()) == repr(t_try) == "device(type='cpu')"
    assert repr(d2l.try_gpu(3)) == repr(t_try)
    assert [repr(d) for d in d2l.try_all_gpus()] == [repr(d) for d in t_all]
    assert d2l.cpu() == torch.device("cpu")
    assert repr(d2l.gpu(1)) == repr(real_torch.device("cuda:1"))
    assert isinstance(d2l.try_gpu(), torch.device) and d2l.try_gpu().type == "cpu"


def test_use_gpu_section_runs_on_the_cpu_and_fails_only_where_pytorch_cpu_build_does():
    import torch as real_torch
    for m, dev in ((torch, d2l.try_gpu()), (real_torch, real_torch.device("cpu"))):
        X = m.ones(2, 3, device=dev)
        assert X.device == dev and str(X.device) == "cpu"
        net = m.nn.Sequential(m.nn.Linear(3, 1)).to(device=dev)
        assert net(X).shape == (2, 1) and net[0].weight.data.device == dev
    for fn in (lambda m: m.ones(2, 3).cuda(), lambda m: m.ones(2, 3, device="cuda:0"),
               lambda m: m.nn.Linear(3, 1).cuda(), lambda m: m.ones(1).to(m.device("cuda", 0))):
        for m in (torch, real_torch):
            with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
                fn(m)
    with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
        torch.ones(1).to(d2l.gpu(0))


def _tiny_fashion(root):
    from cli_helpers import write_tiny_idx
    return write_tiny_idx(root, "FashionMNIST", n_train=30, n_test=10)


def test_load_data_fashion_mnist_finds_the_chainrule_datasets_folder(tmp_path, monkeypatch):
    work = tmp_path / "notebooks"
    work.mkdir()
    monkeypatch.chdir(work)  # d2l's ../data is tmp_path/data: empty
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "cache"))
    assert not d2l.fashion_mnist_available()
    with pytest.raises(FileNotFoundError) as info:
        d2l.load_data_fashion_mnist(8, download=False)
    assert str(tmp_path / "cache" / "FashionMNIST" / "raw") in str(info.value)
    assert "chainrule datasets download fashion-mnist" in str(info.value)
    _tiny_fashion(tmp_path / "cache")  # where `chainrule datasets download` puts the files
    assert d2l.fashion_mnist_available()
    train_iter, test_iter = d2l.load_data_fashion_mnist(8, download=False)
    X, y = next(iter(train_iter))
    assert X.shape == (8, 1, 28, 28) and len(test_iter.dataset) == 10
    # d2l's own folder, when it has the data, comes first
    _tiny_fashion(tmp_path / "data")
    train_iter, _ = d2l.load_data_fashion_mnist(8, download=False)
    assert len(train_iter.dataset) == 30


def test_chainrule_datasets_cli_folder_is_the_one_d2l_reads(tmp_path, monkeypatch):
    from chainrule.cli.data_sources import default_data_dir, idx_folder
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "c"))
    assert idx_folder("fashion-mnist", default_data_dir()) == str(
        tmp_path / "c" / "FashionMNIST" / "raw")


def test_load_data_fashion_mnist_names_the_folder_when_missing(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        d2l.load_data_fashion_mnist(32, root=tmp_path, download=False)
    assert str(tmp_path / "FashionMNIST" / "raw") in str(info.value)
    assert "train-images-idx3-ubyte.gz" in str(info.value)


@needs_matplotlib
def test_predict_ch3_titles_digits_with_digit_labels_and_returns_none():
    torch.manual_seed(0)
    train_iter, test_iter = d2l.load_data_digits(16)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    assert d2l.predict_ch3(net, test_iter, n=4) is None  # as d2l's: no Out[] in a notebook
    axes = d2l.plt.gcf().axes
    X, y = next(iter(test_iter))
    preds = net(X).argmax(dim=1)
    titles = [ax.get_title() for ax in axes]
    assert titles == [f"{int(t)}\n{int(p)}" for t, p in zip(y[:4], preds[:4])]
    assert not any(name in " ".join(titles) for name in ("shirt", "trouser", "sneaker", "bag"))
    d2l.plt.close("all")
    # an explicit labels_fn still wins; loaders without their own labels get clothing names
    d2l.predict_ch3(net, test_iter, n=2, labels_fn=lambda ix: ["L" for _ in ix])
    assert [ax.get_title() for ax in d2l.plt.gcf().axes] == ["L\nL", "L\nL"]
    d2l.plt.close("all")
    plain = d2l.load_array((X, y), 4, is_train=False)
    d2l.predict_ch3(net, plain, n=2)
    assert d2l.plt.gcf().axes[0].get_title().split("\n")[0] == \
        d2l.get_fashion_mnist_labels([int(y[0])])[0]
    d2l.plt.close("all")


@needs_matplotlib
def test_train_ch3_returns_none_and_keeps_its_result_for_diagnose():
    from chainrule.train import diagnose
    torch.manual_seed(0)
    X = torch.randn(64, 4)
    y = X.argmax(dim=1)
    it = d2l.load_array((X, y), 16)
    net = nn.Sequential(nn.Linear(4, 4))
    out = d2l.train_ch3(net, it, it, nn.CrossEntropyLoss(reduction="none"), 3,
                        torch.optim.SGD(net.parameters(), lr=0.5), check=False)
    assert out is None
    result = d2l.last_history()
    train_loss, train_acc, test_acc = result
    assert result.history["loss"][-1] == train_loss and len(result.history["accuracy"]) == 3
    assert test_acc == pytest.approx(d2l.evaluate_accuracy(net, it))
    assert diagnose(result).verdict
    d2l.plt.close("all")


def test_load_data_digits_shapes_and_range():
    train_iter, test_iter = d2l.load_data_digits(64, resize=28)
    X, y = next(iter(train_iter))
    assert X.shape == (64, 1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert 0 <= float(X.min()) and float(X.max()) <= 1
    assert len(test_iter.dataset) == 359


def test_train_epoch_ch3_with_a_from_scratch_updater():
    torch.manual_seed(0)
    X = torch.randn(200, 2)
    y = (X[:, 0] > 0).long()
    W = torch.normal(0, 0.01, size=(2, 2), requires_grad=True)
    b = torch.zeros(2, requires_grad=True)

    def net(X):
        return torch.softmax(torch.matmul(X, W) + b, dim=1)

    def cross_entropy(y_hat, y):
        # d2l indexes with range(len(y_hat)); chainrule needs a list or tensor there
        return -torch.log(y_hat[list(range(len(y_hat))), y])

    def updater(batch_size):
        return d2l.sgd([W, b], 0.5, batch_size)

    it = d2l.load_array((X, y), 20)
    first_loss, _ = d2l.train_epoch_ch3(net, it, cross_entropy, updater)
    for _ in range(3):
        loss, acc = d2l.train_epoch_ch3(net, it, cross_entropy, updater)
    assert loss < first_loss and acc > 0.9


def test_train_ch3_asserts_like_d2l_when_nothing_is_learned():
    X, y = torch.randn(64, 4), torch.randint(0, 4, (64,))
    net = nn.Sequential(nn.Linear(4, 4))
    trainer = torch.optim.SGD(net.parameters(), lr=0.0)
    it = d2l.load_array((X, y), 16)
    with pytest.raises(AssertionError, match="train loss"):
        d2l.train_ch3(net, it, it, nn.CrossEntropyLoss(reduction="none"), 1, trainer)
    assert d2l.last_history().train_acc < 0.7  # the failed run is kept for diagnosis
    assert d2l.train_ch3(net, it, it, nn.CrossEntropyLoss(reduction="none"), 1, trainer,
                         check=False) is None  # as d2l's
    result = d2l.last_history()
    assert result.train_acc < 0.7 and len(result.history["loss"]) == 1


def test_d2l_aliases():
    x = torch.arange(6.).reshape(2, 3)
    assert d2l.size(x) == 6 and d2l.reshape(x, (3, 2)).shape == (3, 2)
    assert d2l.argmax(x, axis=1).tolist() == [2, 2]
    assert isinstance(d2l.numpy(x), np.ndarray) and float(d2l.reduce_sum(x)) == 15.0
