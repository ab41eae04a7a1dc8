"""Figures for teaching: learning curves, K-fold curves, gradient flow, confusion matrix,
sample predictions (d2l's predict_ch3) and activation functions with their derivatives.
Each function returns the matplotlib Figure and, given `path`, writes it (PNG, SVG, PDF
by extension). Headless machines get the Agg backend automatically."""
import numpy as np

from ..runtime.notebook_display import pyplot
from ..runtime.figures import write_figure

__all__ = ["plot_history", "plot_k_fold", "plot_gradient_flow", "plot_confusion_matrix",
           "plot_predictions", "plot_activations"]


def _plt():
    return pyplot("plots")


def _int_epochs(ax):
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _finish(fig, path):
    fig.tight_layout()
    if path is not None:
        write_figure(fig, path, dpi=110)
    return fig


def _hist(history):
    return history.history if hasattr(history, "history") else dict(history)


def history_panels(history, metrics=None):
    """The quantities `plot_history` draws, one panel each: loss first, then metrics."""
    h = _hist(history)
    if "loss" not in h:
        raise ValueError("plot_history needs a history with 'loss'")
    if metrics is None:
        return [k for k in h if not k.startswith("val_") and k not in ("lr", "seconds")]
    keys = ["loss"] + [m for m in ([metrics] if isinstance(metrics, str) else metrics)
                       if m != "loss"]
    missing = [k for k in keys if k not in h]
    if missing:
        raise ValueError(f"no curve for {missing}: the history records {sorted(h)}")
    return keys


def plot_history(history, path=None, metrics=None, monitor="val_loss", logy="auto"):
    """Loss and each metric, training vs validation, one panel each; the best epoch of
    `monitor` (when logged) is marked with a dotted line."""
    keys = history_panels(history, metrics)
    fig = _plt().figure(figsize=(4.2 * len(keys), 3.4))
    draw_history(fig, history, metrics, monitor, logy)
    return _finish(fig, path)


def draw_history(fig, history, metrics=None, monitor="val_loss", logy="auto"):
    """plot_history's panels drawn into `fig`, which is cleared first (LivePlot redraws
    the same figure after every epoch)."""
    h = _hist(history)
    keys = history_panels(h, metrics)
    epochs = np.arange(1, len(h["loss"]) + 1)
    best = None
    if monitor in h and hasattr(history, "best_epoch"):
        best = history.best_epoch(monitor)
    fig.clear()
    axes = fig.subplots(1, len(keys), squeeze=False)
    for ax, key in zip(axes[0], keys):
        tr = np.array(h[key], dtype=float)
        ax.plot(epochs, tr, "o-", ms=3, label=f"train {key}")
        if f"val_{key}" in h:
            ax.plot(epochs, np.array(h[f"val_{key}"], dtype=float), "s--", ms=3,
                    label=f"validation {key}")
        if best is not None:
            ax.axvline(best + 1, color="gray", ls=":", label=f"best epoch ({best + 1})")
        vals = np.concatenate([tr, np.array(h.get(f"val_{key}", []), dtype=float)])
        vals = vals[np.isfinite(vals) & (vals > 0)]
        if key == "loss" and logy is True or (logy == "auto" and key == "loss" and len(vals)
                                              and vals.max() / vals.min() > 50):
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        _int_epochs(ax)
        ax.set_ylabel(key)
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def plot_k_fold(result, path=None, key="loss"):
    """Training and validation curves of every fold, with the mean across folds."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    hs = result.histories
    for i, h in enumerate(hs):
        e = np.arange(1, len(h.history[key]) + 1)
        ax.plot(e, h.history[key], color="C0", alpha=0.35, lw=1,
                label="train (each fold)" if i == 0 else None)
        if f"val_{key}" in h.history:
            ax.plot(e, h.history[f"val_{key}"], color="C1", alpha=0.35, lw=1, ls="--",
                    label="validation (each fold)" if i == 0 else None)
    n = min(len(h.history[key]) for h in hs)
    e = np.arange(1, n + 1)
    ax.plot(e, np.mean([h.history[key][:n] for h in hs], 0), color="C0", lw=2.5,
            label="train (mean)")
    if all(f"val_{key}" in h.history for h in hs):
        ax.plot(e, np.mean([h.history[f"val_{key}"][:n] for h in hs], 0), color="C1", lw=2.5,
                ls="--", label="validation (mean)")
    ax.set_xlabel("epoch")
    _int_epochs(ax)
    ax.set_ylabel(key)
    ax.set_title(f"{result.k}-fold cross-validation: {key}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _finish(fig, path)


def plot_gradient_flow(monitor, path=None, epoch=-1):
    """Mean gradient norm of each parameter (input side on the left), log scale: left
    on the floor = vanishing, far above the rest = exploding. `monitor` is a
    GradientMonitor or a dict {name: [norm per epoch]}."""
    plt = _plt()
    norms = monitor.norms if hasattr(monitor, "norms") else dict(monitor)
    names = [n for n, v in norms.items() if len(v)]
    if not names:
        raise ValueError("no gradient norms recorded (was the monitor passed to fit?)")
    fig, ax = plt.subplots(figsize=(max(5, 0.7 * len(names) + 2), 4))
    n_ep = len(norms[names[0]])
    epochs = sorted({0, n_ep // 2, n_ep - 1}) if epoch is None else [epoch % n_ep]
    x = np.arange(len(names))
    width = 0.8 / len(epochs)
    for j, ep in enumerate(epochs):
        vals = np.array([max(norms[n][ep], 1e-30) for n in names])
        ax.bar(x + j * width - 0.4 + width / 2, vals, width, label=f"epoch {ep + 1}")
    ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set_xlabel("parameter (input side on the left)")
    ax.set_ylabel("mean gradient norm")
    ax.set_title("Gradient flow")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    return _finish(fig, path)


def plot_confusion_matrix(cm, path=None, labels=None, normalize=False):
    """Heat map of a confusion matrix (rows: true class, columns: predicted class)."""
    plt = _plt()
    cm = np.asarray(cm.numpy() if hasattr(cm, "numpy") else cm, dtype=float)
    shown = cm / np.maximum(cm.sum(1, keepdims=True), 1) if normalize else cm
    n = cm.shape[0]
    labels = list(labels) if labels is not None else [str(i) for i in range(n)]
    size = max(4, 0.55 * n + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    im = ax.imshow(shown, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(labels, rotation=45, ha="right")
    ax.set_yticklabels(labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("Confusion matrix" + (" (row-normalised)" if normalize else ""))
    if n <= 15:
        top = shown.max() if shown.size else 1
        for i in range(n):
            for j in range(n):
                txt = f"{shown[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
                ax.text(j, i, txt, ha="center", va="center", fontsize=8,
                        color="white" if shown[i, j] > 0.6 * top else "black")
    return _finish(fig, path)


def plot_predictions(model, X, y, path=None, labels=None, n=12, ncols=6, image_shape=None):
    """d2l's predict_ch3: a grid of input images titled with the true and the predicted
    label (mistakes in red)."""
    plt = _plt()
    from .fit import predict
    from .data import as_tensor
    Xt = as_tensor(X, "X")[:n]
    yt = np.asarray(as_tensor(y, "y")[:n].numpy()).reshape(-1)
    pred = np.asarray(predict(model, Xt).numpy()).argmax(-1)
    imgs = np.asarray(Xt.numpy())
    if image_shape is not None:
        imgs = imgs.reshape((len(imgs),) + tuple(image_shape))
    elif imgs.ndim == 2:
        side = int(round(np.sqrt(imgs.shape[1])))
        if side * side != imgs.shape[1]:
            raise ValueError("give image_shape=(h, w) for non-square flattened inputs")
        imgs = imgs.reshape(len(imgs), side, side)
    elif imgs.ndim == 4:
        imgs = imgs[:, 0] if imgs.shape[1] == 1 else imgs.transpose(0, 2, 3, 1)
    name = (lambda i: str(labels[int(i)])) if labels is not None else (lambda i: str(int(i)))
    rows = (len(imgs) + ncols - 1) // ncols
    fig, axes = plt.subplots(rows, ncols, figsize=(1.6 * ncols, 1.9 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, ax in enumerate(axes.ravel()[:len(imgs)]):
        ax.imshow(imgs[i], cmap="gray")
        ok = pred[i] == yt[i]
        ax.set_title(f"true: {name(yt[i])}\npred: {name(pred[i])}", fontsize=8,
                     color="black" if ok else "red")
    return _finish(fig, path)


def plot_activations(path=None, names=("relu", "sigmoid", "tanh")):
    """ReLU, sigmoid and tanh with their derivatives, the derivatives computed by
    chainrule's autograd (d2l ch. 5.1)."""
    plt = _plt()
    import chainrule
    fns = {"relu": chainrule.relu, "sigmoid": chainrule.sigmoid, "tanh": chainrule.tanh}
    unknown = [n for n in names if n not in fns]
    if unknown:
        raise ValueError(f"unknown activation(s) {unknown}; choose from {sorted(fns)}")
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        x = chainrule.arange(-8.0, 8.0, 0.1, requires_grad=True)
        y = fns[name](x)
        y.backward(chainrule.ones_like(x))
        xs = x.detach().numpy()
        ax.plot(xs, y.detach().numpy(), label=f"{name}(x)")
        ax.plot(xs, x.grad.numpy(), "--", label=f"d {name}(x) / dx (autograd)")
        ax.set_xlabel("x")
        ax.set_ylabel("value")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _finish(fig, path)
