"""d2l's training loop for convolutional networks (chapter 6.6, used again in chapter 7):
evaluate_accuracy_gpu and train_ch6, with the device arguments d2l passes. chainrule
computes on the CPU, where d2l.try_gpu() sends everything on a machine without a GPU."""
from .. import autograd, nn, optim
from ..runtime.notebook_display import in_notebook
from ..runtime.figures import default_figure_path
from . import training
from .plotting import Animator
from .training import Accumulator, Timer, TrainResult, accuracy

__all__ = ["evaluate_accuracy_gpu", "train_ch6"]


def _to(X, device):
    if device is None:
        return X
    if isinstance(X, list):  # several inputs per example (d2l's BERT fine-tuning)
        return [x.to(device) for x in X]
    return X.to(device)


def _first_parameter_device(net):
    for p in net.parameters():
        return p.device
    return None


def evaluate_accuracy_gpu(net, data_iter, device=None):
    """Accuracy of `net` over `data_iter`, the batches moved to `device` (by default the
    device of the net's first parameter); eval mode, no gradients."""
    if isinstance(net, nn.Module):
        net.eval()
        if not device:
            device = _first_parameter_device(net)
    metric = Accumulator(2)  # correct predictions, predictions
    with autograd.no_grad():
        for X, y in data_iter:
            X, y = _to(X, device), _to(y, device)
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def _xavier_weights(m):
    # exact types, as d2l: a subclass (a user's own layer) keeps its initialisation
    if type(m) in (nn.Linear, nn.Conv2d):
        nn.init.xavier_uniform_(m.weight)


def _batch_count(train_iter):
    try:
        n = len(train_iter)
    except TypeError:  # a generator: points are plotted once per epoch
        return None
    if n == 0:
        raise ValueError("train_ch6: train_iter holds no batches; give it at least one")
    return n


def _train_epoch(net, train_iter, loss, optimizer, device, timer, plot_point):
    """One epoch; returns (average loss, accuracy, examples)."""
    metric = Accumulator(3)  # sum of losses, correct predictions, examples
    net.train()
    for i, (X, y) in enumerate(train_iter):
        timer.start()
        optimizer.zero_grad()
        X, y = _to(X, device), _to(y, device)
        y_hat = net(X)
        l = loss(y_hat, y)
        l.backward()
        optimizer.step()
        with autograd.no_grad():
            metric.add(float(l) * X.shape[0], accuracy(y_hat, y), X.shape[0])
        timer.stop()
        plot_point(i, metric[0] / metric[2], metric[1] / metric[2])
    if metric[2] == 0:
        raise ValueError("train_ch6: train_iter yielded no batches")
    return metric[0] / metric[2], metric[1] / metric[2], metric[2]


def train_ch6(net, train_iter, test_iter, num_epochs, lr, device, animator=None):
    """d2l's train_ch6: Xavier-uniform weights for every Linear and Conv2d, minibatch SGD
    with learning rate `lr`, cross-entropy loss; plots the training loss and accuracy five
    times per epoch and the test accuracy after each, and ends by printing the last
    numbers and the examples per second on `device`.

    Outside Jupyter the curves are written to train_ch6.png (in $CHAINRULE_FIGURE_DIR or
    the current folder); pass your own `animator` (anything with `add(x, y)`) to keep
    them. Returns None, as d2l's; `d2l.last_history()` holds the last epoch's numbers
    and the per-epoch curves."""
    net.apply(_xavier_weights)
    print("training on", device)
    net.to(device)
    optimizer = optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    if animator is None:
        # one epoch is plotted from 0.2 to 1: d2l's [1, 1] would be an empty range
        animator = Animator(xlabel="epoch", xlim=[1, num_epochs] if num_epochs > 1 else [0, 1],
                            legend=["train loss", "train acc", "test acc"],
                            path=None if in_notebook() else default_figure_path("train_ch6.png"))
    timer, num_batches = Timer(), _batch_count(train_iter)
    every = max(num_batches // 5, 1) if num_batches else None
    curves = {"loss": [], "accuracy": [], "test_accuracy": []}
    train_l = train_acc = test_acc = float("nan")
    examples = 0
    for epoch in range(num_epochs):
        def plot_point(i, l, acc, epoch=epoch):
            if every and ((i + 1) % every == 0 or i == num_batches - 1):
                animator.add(epoch + (i + 1) / num_batches, (l, acc, None))
        train_l, train_acc, examples = _train_epoch(net, train_iter, loss, optimizer,
                                                    device, timer, plot_point)
        test_acc = evaluate_accuracy_gpu(net, test_iter)
        animator.add(epoch + 1, (None if every else train_l, None if every else train_acc,
                                 test_acc))
        for key, v in zip(curves, (train_l, train_acc, test_acc)):
            curves[key].append(float(v))
    training._last[0] = TrainResult(train_l, train_acc, test_acc, curves)
    if hasattr(animator, "finish"):
        animator.finish()
    print(f"loss {train_l:.3f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}")
    if timer.times:
        print(f"{examples * num_epochs / timer.sum():.1f} examples/sec on {device}")
