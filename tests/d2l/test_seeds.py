"""The notes' code (tensor and autograd snippets, linear and logistic regression, MLP
with dropout, weight decay and L1, d2l's training loop) run on chainrule, only the
imports changed."""
import gzip
import struct

import numpy as np
import pytest

import chainrule as torch
from helpers import assert_close, magnitude, needs_matplotlib
from chainrule import d2l, nn
from chainrule.utils import data
from chainrule.vision import datasets, transforms


# ---- seed 002: tensors, memory, gradients -------------------------------------------
def test_tensor_creation_and_reshape():
    x = torch.arange(12)
    assert x.tolist() == list(range(12)) and x.shape == torch.Size([12]) and x.numel() == 12
    x = x.reshape(2, 6)
    assert x.tolist()[1] == [6, 7, 8, 9, 10, 11]
    assert torch.zeros(3, 4).tolist() == [[0.0] * 4] * 3
    assert torch.zeros_like(x).dtype == torch.int64 and torch.ones_like(x).sum().item() == 12
    x = torch.tensor([[1, 2, 3], [4, 5, 6.]])
    assert x.dtype == torch.float32 and x.tolist() == [[1, 2, 3], [4, 5, 6]]


def test_cat_along_both_dims():
    x = torch.arange(12.).reshape(3, 4)
    y = x + 12
    assert torch.cat((x, y), dim=0).tolist() == np.arange(24.).reshape(6, 4).tolist()
    assert torch.cat((x, y), dim=1)[0].tolist() == [0, 1, 2, 3, 12, 13, 14, 15]


def test_memory_semantics_with_id():
    x = torch.arange(12.).reshape(3, 4)
    before = id(x)
    x = x + 12
    assert before != id(x)
    x = torch.arange(12.).reshape(3, 4)
    before = id(x)
    x[:] = x + 12
    assert before == id(x) and x[0, 0].item() == 12
    x = torch.arange(12.).reshape(3, 4)
    y = x
    y += 10
    assert id(x) == id(y) and x[0].tolist() == [10, 11, 12, 13]
    x = torch.arange(12.).reshape(3, 4)
    y = x.clone()
    y += 10
    assert id(x) != id(y) and x[0].tolist() == [0, 1, 2, 3]


def test_dot_gradient_and_zero():
    x = torch.arange(4.)
    assert not x.requires_grad
    x = x.requires_grad_(True)
    y = torch.dot(x, x)
    assert y.item() == 14 and x.grad is None
    y.backward()
    assert x.grad.tolist() == [0, 2, 4, 6] and (x.grad == 2 * x).all()
    x.grad.zero_()
    assert x.grad.tolist() == [0, 0, 0, 0]


# ---- seed 000: activations and their gradients ---------------------------------------
@needs_matplotlib
def test_activation_gradients_as_plotted():
    x = torch.arange(-8.0, 8.0, 0.5, requires_grad=True)
    xs = np.arange(-8.0, 8.0, 0.5)
    y = torch.relu(x)
    y.backward(torch.ones_like(x), retain_graph=True)
    np.testing.assert_array_equal(x.grad.numpy(), (xs > 0).astype(np.float32))
    y = torch.sigmoid(x)
    x.grad.data.zero_()
    y.backward(torch.ones_like(x), retain_graph=True)
    s = 1 / (1 + np.exp(-xs))
    np.testing.assert_allclose(x.grad.numpy(), s * (1 - s), rtol=1e-5, atol=1e-7)
    y = torch.tanh(x)
    x.grad.data.zero_()
    y.backward(torch.ones_like(x), retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), 1 - np.tanh(xs) ** 2, rtol=1e-5, atol=1e-7)
    d2l.plot(x.detach(), x.grad, "x", "grad of tanh", figsize=(5, 2.5))
    assert d2l.plt.gca().get_ylabel() == "grad of tanh"
    d2l.plt.close("all")


# ---- seed 004: gradient rules and forward / backward propagation -----------------------
def test_gradient_rules_of_the_notes():
    rng = np.random.default_rng(0)
    A = torch.tensor(rng.normal(size=(3, 3)))
    x = torch.tensor(rng.normal(size=3), requires_grad=True)
    # grad of x^T A x is (A + A^T) x
    torch.dot(x, torch.mv(A, x)).backward()
    np.testing.assert_allclose(x.grad.numpy(), (A + A.T).numpy() @ x.detach().numpy())
    # grad of ||x||^2 is 2x
    x.grad.zero_()
    (x.norm() ** 2).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())


def test_forward_then_backward_through_a_one_hidden_layer_net():
    """d2l 4.7's computational graph: z = W1 x, h = relu(z), o = W2 h, L = l(o, y) +
    lambda/2 (||W1||^2 + ||W2||^2); gradients by the chain rule, computed by hand."""
    rng = np.random.default_rng(1)
    x_np, y_np = rng.normal(size=4), 1.5
    W1_np, W2_np, lam = rng.normal(size=(3, 4)), rng.normal(size=(1, 3)), 0.1
    W1 = torch.tensor(W1_np, requires_grad=True)
    W2 = torch.tensor(W2_np, requires_grad=True)
    z = torch.mv(W1, torch.tensor(x_np))
    h = torch.relu(z)
    o = torch.mv(W2, h)
    J = 0.5 * ((o - y_np) ** 2).sum() + lam / 2 * ((W1 ** 2).sum() + (W2 ** 2).sum())
    J.backward()
    z_np = W1_np @ x_np
    h_np = np.maximum(z_np, 0)
    dJ_do = W2_np @ h_np - y_np
    dJ_dW2 = np.outer(dJ_do, h_np) + lam * W2_np
    dJ_dz = (W2_np.T @ dJ_do) * (z_np > 0)
    dJ_dW1 = np.outer(dJ_dz, x_np) + lam * W1_np
    # sums of two terms can cancel to near zero: an atol per unit of the terms' scale
    scale = magnitude(W1_np, W2_np, x_np, dJ_do)
    assert_close(W2.grad.numpy(), dJ_dW2, rtol=1e-10, atol=1e-13, scale=scale ** 2)
    assert_close(W1.grad.numpy(), dJ_dW1, rtol=1e-10, atol=1e-13, scale=scale ** 3)


# ---- seed 002: concise linear regression ---------------------------------------------
def test_concise_linear_regression_recovers_w_and_b():
    torch.manual_seed(0)
    true_w = torch.tensor([2, -3.4])
    true_b = torch.tensor([4.2])
    features, labels = d2l.synthetic_data(true_w, true_b, 1000)
    dataset = data.TensorDataset(*(features, labels))
    data_loader = data.DataLoader(dataset, 10, shuffle=True)
    net = nn.Sequential(nn.Linear(2, 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=0.03)
    for epoch in range(3):
        for X, y in data_loader:
            l = loss(y, net(X))
            trainer.zero_grad()
            l.backward()
            trainer.step()
    assert loss(net(features), labels).item() < 1e-3
    w, b = net[0].weight.data, net[0].bias.data
    np.testing.assert_allclose(w.reshape(-1).numpy(), [2, -3.4], atol=0.05)
    np.testing.assert_allclose(b.numpy(), [4.2], atol=0.05)


# ---- small IDX files in torchvision's layout ------------------------------------------
def _write_idx(path, array):
    code = {np.uint8: 0x08}[array.dtype.type]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def _pattern_images(n, rng, templates):
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    noise = rng.integers(0, 90, size=(n, 28, 28))
    images = np.clip(templates[labels] * 160 + noise, 0, 255).astype(np.uint8)
    return images, labels


@pytest.fixture(scope="module")
def pattern_root(tmp_path_factory):
    """600 train / 100 test 28x28 images: each class a fixed random blob pattern plus
    noise, written as gzipped IDX files under root/FashionMNIST/raw."""
    root = tmp_path_factory.mktemp("data")
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    templates = (rng.random((10, 7, 7)) < 0.4).repeat(4, axis=1).repeat(4, axis=2)
    for prefix, n in (("train", 600), ("t10k", 100)):
        images, labels = _pattern_images(n, rng, templates.astype(np.int64))
        _write_idx(raw / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return root


def _loaders(root, batch_size):
    trans = transforms.Compose([transforms.ToTensor()])
    train = datasets.FashionMNIST(root=root, train=True, transform=trans, download=False)
    test = datasets.FashionMNIST(root=root, train=False, transform=trans, download=False)
    return (data.DataLoader(train, batch_size=batch_size, shuffle=True),
            data.DataLoader(test, batch_size=len(test), shuffle=False))


def _seed002_test_accuracy(model, test_loader, criterion):
    model.eval()
    with torch.no_grad():
        correct = total = 0
        for images, labels in test_loader:
            outputs = model(images)
            loss = criterion(outputs, labels)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    assert np.isfinite(loss.item())
    return correct / total


def _seed002_train(model, optimizer, train_loader, criterion, epochs, l1=0.0):
    for _ in range(epochs):
        model.train()
        for images, labels in train_loader:
            outputs = model(images)
            loss = criterion(outputs, labels)
            if l1:
                l1_reg = torch.tensor(0.)
                for param in model.parameters():
                    l1_reg += torch.norm(param, p=1)
                loss = loss + l1 * l1_reg
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def test_seed002_logistic_regression(pattern_root):
    class LogisticRegressionModel(nn.Module):
        def __init__(self):
            super(LogisticRegressionModel, self).__init__()
            self.linear = nn.Linear(28 * 28, 10)

        def forward(self, x):
            x = x.view(-1, 28 * 28)
            out = self.linear(x)
            return out

    torch.manual_seed(0)
    train_loader, test_loader = _loaders(pattern_root, 64)
    model = LogisticRegressionModel()
    criterion = nn.CrossEntropyLoss()
    before = _seed002_test_accuracy(model, test_loader, criterion)
    _seed002_train(model, torch.optim.SGD(model.parameters(), lr=0.01), train_loader,
                   criterion, epochs=3)
    after = _seed002_test_accuracy(model, test_loader, criterion)
    assert after > 0.8 and after > before + 0.3


class _DropoutMLP(nn.Module):
    """The notes' MLP with dropout (its last ReLU dropped: it would clip the logits)."""

    def __init__(self):
        super(_DropoutMLP, self).__init__()
        self.fc1 = nn.Linear(28 * 28, 64)
        self.fc2 = nn.Linear(64, 10)
        self.ReLU = nn.ReLU()
        self.dropout = nn.Dropout(p=0.3)

    def forward(self, x):
        x = x.view(-1, 28 * 28)
        x = self.fc1(x)
        x = self.ReLU(x)
        x = self.dropout(x)
        return self.fc2(x)


def test_seed002_mlp_with_dropout_weight_decay_groups_and_l1(pattern_root):
    torch.manual_seed(0)
    train_loader, test_loader = _loaders(pattern_root, 32)
    model = _DropoutMLP()
    w, b = model.fc1.weight, model.fc1.bias
    others = [model.fc2.weight, model.fc2.bias]
    optimizer = torch.optim.SGD([{"params": w, "weight_decay": 3},
                                 {"params": b}, {"params": others}], lr=0.05)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [3, 0, 0]
    criterion = nn.CrossEntropyLoss()
    # dropout is active in train mode only
    x = torch.rand(4, 28 * 28)
    model.train()
    assert not torch.allclose(model(x), model(x))
    model.eval()
    assert torch.allclose(model(x), model(x))
    norm_before = w.norm().item()
    _seed002_train(model, optimizer, train_loader, criterion, epochs=3, l1=1e-4)
    # weight decay 3 on fc1's weight shrinks it hard; learning still happens
    assert w.norm().item() < 0.5 * norm_before
    assert _seed002_test_accuracy(model, test_loader, criterion) > 0.5


def test_l1_penalty_gradient_is_the_sign():
    p = torch.tensor([0.5, -2.0, 3.0], requires_grad=True)
    l1_reg = torch.tensor(0.)
    l1_reg += torch.norm(p, p=1)
    assert l1_reg.item() == 5.5
    l1_reg.backward()
    assert p.grad.tolist() == [1.0, -1.0, 1.0]


# ---- seed 003: net.apply(init_weights) + d2l.train_ch3 on the IDX files ---------------
@needs_matplotlib
def test_seed003_mlp_with_train_ch3(pattern_root):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(),
                        nn.Linear(784, 256),
                        nn.ReLU(),
                        nn.Linear(256, 10))

    def init_weights(m):
        if type(m) == nn.Linear:
            nn.init.normal_(m.weight, std=0.01)

    net.apply(init_weights)
    assert abs(net[1].weight.detach().numpy().std() - 0.01) < 0.001
    batch_size, lr, num_epochs = 32, 0.1, 5
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size, root=pattern_root,
                                                        download=False)
    X, _ = next(iter(train_iter))
    assert X.shape == (32, 1, 28, 28)
    chance = d2l.evaluate_accuracy(net, test_iter)
    d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, trainer)
    result = d2l.last_history()
    assert result.test_acc > 0.7 and result.test_acc > chance + 0.4


def test_seed003_dropout_layer():
    def dropout_layer(X, dropout):
        assert 0 <= dropout <= 1
        if dropout == 1:
            return torch.zeros_like(X)
        if dropout == 0:
            return X
        mask = (torch.rand(X.shape) > dropout).float()
        return mask * X / (1.0 - dropout)

    torch.manual_seed(0)
    X = torch.ones((200, 100))
    assert dropout_layer(X, 0.0) is X and dropout_layer(X, 1.0).sum().item() == 0
    out = dropout_layer(X, 0.5).numpy()
    assert set(np.unique(out)) == {0.0, 2.0}
    assert abs(out.mean() - 1.0) < 0.03  # unbiased
