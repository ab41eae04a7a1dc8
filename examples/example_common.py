"""Shared command line and data choice for the classification examples.

Fashion-MNIST is used when its files are on disk; otherwise the examples fall back to
the UCI digits that ship with chainrule, upsampled to 28x28 so that d2l's 784-input
networks run unchanged."""
import argparse
import os

from chainrule import d2l

# per data set: (batch size, epochs). The digits set has 1,438 training images, so it
# needs smaller batches to take as many SGD steps per epoch as d2l does on 60,000
SETTINGS = {"fashion-mnist": (256, 10), "digits": (32, 10)}


def make_parser(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dataset", choices=["fashion-mnist", "digits"],
                        default="fashion-mnist",
                        help="Fashion-MNIST falls back to digits when its files are missing")
    parser.add_argument("--root", default=d2l.DEFAULT_DATA_ROOT,
                        help="folder holding FashionMNIST/raw/*-ubyte[.gz] (d2l's ../data)")
    parser.add_argument("--epochs", type=int, default=None, help="default: 10")
    parser.add_argument("--quick", action="store_true",
                        help="2 epochs, for a smoke test (skips d2l's final accuracy asserts)")
    parser.add_argument("--out", default="figures", help="folder for the PNG figures")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def load_data(args):
    """(train_iter, test_iter, labels_fn, dataset name, epochs) for the parsed args."""
    name = args.dataset
    if name == "fashion-mnist" and not d2l.fashion_mnist_available(args.root):
        print(f"note: Fashion-MNIST not found under {os.path.abspath(args.root)}; using the "
              "embedded digits dataset instead (see --dataset, --root)")
        name = "digits"
    batch_size, epochs = SETTINGS[name]
    if args.quick:
        epochs = 2
    if args.epochs is not None:
        epochs = args.epochs
    if name == "digits":
        train_iter, test_iter = d2l.load_data_digits(batch_size, resize=28)
        labels_fn = d2l.get_digits_labels
    else:
        train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size, root=args.root,
                                                            download=False)
        labels_fn = d2l.get_fashion_mnist_labels
    print(f"dataset: {name} ({len(train_iter.dataset)} train / {len(test_iter.dataset)} "
          f"test images), batch size {batch_size}, {epochs} epochs")
    return train_iter, test_iter, labels_fn, name, epochs


class PrintingAnimator(d2l.Animator):
    """d2l's Animator that also prints each epoch, since scripts have no live figure."""

    def add(self, x, y):
        super().add(x, y)
        values = ", ".join(f"{k} {v:.3f}" for k, v in zip(self.legend, y))
        print(f"epoch {x}: {values}", flush=True)


def training_animator(num_epochs):
    return PrintingAnimator(xlabel="epoch", ylabel="loss / accuracy",
                            xlim=[1, num_epochs],
                            legend=["train loss", "train acc", "test acc"])


def train_and_report(args, net, train_iter, test_iter, loss, num_epochs, trainer, labels_fn,
                     stem):
    """d2l.train_ch3 with a printing animator, then the final figures and numbers."""
    animator = training_animator(num_epochs)
    d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, trainer,
                  animator=animator, check=not args.quick)
    result = d2l.last_history()
    print(f"final: train loss {result.train_loss:.3f}, train acc {result.train_acc:.3f}, "
          f"test acc {result.test_acc:.3f}")
    save_training_figures(args, animator, net, test_iter, labels_fn, stem)
    return result


def save_training_figures(args, animator, net, test_iter, labels_fn, stem):
    """Learning curves and a row of test predictions as PNGs in args.out."""
    curves = animator.save(os.path.join(args.out, f"{stem}_curves.png"), dpi=120)
    animator.close()
    d2l.predict_ch3(net, test_iter, n=8, labels_fn=labels_fn)
    fig = d2l.plt.gcf()
    fig.suptitle("upper: true label, lower: predicted label", fontsize=10, y=1.3)
    preds = os.path.join(args.out, f"{stem}_predictions.png")
    fig.savefig(preds, dpi=120, bbox_inches="tight")
    d2l.plt.close(fig)
    print(f"figures: {curves}, {preds}")
