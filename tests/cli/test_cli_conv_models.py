"""`chainrule train --model lenet|resnet`: d2l's LeNet and a small ResNet from the command
line on digits and on MNIST-format files, their run folders read back by evaluate and
predict, compiled training steps replayed with eager's numbers, and data without images
refused in one line."""
import json
import re
import warnings

import numpy as np
import pytest

import chainrule
from chainrule.cli import conv_models, models
from chainrule.cli.config import defaults, resolve
from chainrule.cli.data_sources import load_digits

from cli_helpers import assert_usage_error, ok, run_cli, write_tiny_idx
from helpers import replaying as _replaying

pytestmark = pytest.mark.slow  # starts processes or runs long work: `-m "not slow"` skips it


def _test_accuracy(result):
    return float(re.search(r"test accuracy: ([0-9.]+)", result.stdout).group(1))


def test_lenet_on_digits_upsamples_to_28_and_predicts_rows_of_8x8_pixels(tmp_path):
    result = ok(run_cli(tmp_path, "train", "--model", "lenet", "--epochs", "2", "--name", "l",
                        "--patience", "0"))
    assert ("model:  lenet 1x8x8-10 (d2l 6.6: sigmoid, average pooling, 8x8 upsampled to "
            "28x28)") in result.stdout
    weights = chainrule.load_safetensors(tmp_path / "runs/l/model.safetensors")
    assert tuple(weights["2.weight"].shape) == (6, 1, 5, 5)  # rows, upsampling, then conv
    assert tuple(weights["9.weight"].shape) == (120, 400)  # d2l's 16 * 5 * 5 features
    evaluated = ok(run_cli(tmp_path, "evaluate", "runs/l"))
    assert f"test accuracy: {_test_accuracy(result):.4f}" in evaluated.stdout
    np.save(tmp_path / "x.npy", np.random.default_rng(0).integers(0, 17, (3, 64)))
    predicted = ok(run_cli(tmp_path, "predict", "runs/l", "x.npy")).stdout.splitlines()
    assert predicted[0].startswith("prediction,p_0") and len(predicted) == 4


def test_resnet_learns_the_digits_at_their_own_size(tmp_path):
    result = ok(run_cli(tmp_path, "train", "--model", "resnet", "--epochs", "2", "--name", "r"))
    assert ("model:  resnet 1x8x8-10 (3 residual blocks, 16-32-64 channels, batch norm)"
            in result.stdout)
    assert _test_accuracy(result) > 0.8
    state = chainrule.load_safetensors(tmp_path / "runs/r/model.safetensors")
    # d2l's Residual parameter names, the 1x1 shortcut only where the shape changes
    assert "4.conv1.weight" in state and "4.conv3.weight" not in state
    assert tuple(state["5.conv3.weight"].shape) == (32, 16, 1, 1)
    assert "6.bn2.running_var" in state


@pytest.mark.parametrize("model", ["lenet", "resnet"])
def test_conv_models_on_mnist_format_files_take_28x28_images(tmp_path, model):
    write_tiny_idx(tmp_path / "idx", "MNIST")
    result = ok(run_cli(tmp_path, "train", "--dataset", "mnist", "--data-dir", tmp_path / "idx",
                        "--model", model, "--epochs", "1", "--name", "m", "--no-download"))
    assert f"model:  {model} 1x28x28-10 (" in result.stdout
    assert "upsampled" not in result.stdout
    transform = json.loads((tmp_path / "runs/m/transform.json").read_text())
    assert transform["shape"] == [28, 28]


def test_compiled_conv_training_gives_the_eager_run_bit_for_bit(tmp_path):
    for name, extra in (("eager", ()), ("compiled", ("--compile",))):
        ok(run_cli(tmp_path, "train", "--model", "lenet", "--epochs", "2", "--name", name,
                   "--quiet", *extra))
    eager, compiled = (json.loads((tmp_path / f"runs/{n}/history.json").read_text())
                       for n in ("eager", "compiled"))
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert compiled["history"][key] == eager["history"][key], key
    weights = [chainrule.load_safetensors(tmp_path / f"runs/{n}/model.safetensors")
               for n in ("eager", "compiled")]
    for key, value in weights[0].items():
        assert (weights[1][key].numpy() == value.numpy()).all(), key


@pytest.mark.parametrize("model", ["lenet", "resnet"])
def test_compile_records_and_replays_the_conv_training_step(model):
    """In process: fit(compile=True) on the CLI's model replays its recorded step (no
    fallback to eager) and leaves eager's weights and running statistics."""
    from chainrule.train import Callback, fit
    data = load_digits()
    X, y = data.X_train[:96], data.y_train[:96]
    cfg = resolve(dict(defaults(), model=model), False)
    seen = {}

    class KeepStep(Callback):
        def on_train_end(self, logs=None):
            seen["step"] = self.trainer.compiled_step

    runs = []
    for compile_ in (False, True):
        net = models.build_for(cfg, data)
        opt = chainrule.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # a fallback to eager fails
            fit(net, (X, y), loss=chainrule.nn.CrossEntropyLoss(), optimizer=opt, epochs=2,
                batch_size=32, compile=compile_, callbacks=[KeepStep()], progress=False)
        runs.append(net.state_dict())
    assert _replaying(seen["step"].fn)
    for key, value in runs[0].items():
        assert (runs[1][key].numpy() == value.numpy()).all(), key


@pytest.mark.parametrize("model", ["lenet", "resnet"])
def test_conv_model_on_a_table_of_features_is_one_clear_line(tmp_path, model):
    rng = np.random.default_rng(0)
    rows = ["a,b,label"] + [f"{a:.3f},{b:.3f},{int(a > b)}" for a, b in rng.random((40, 2))]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    line = assert_usage_error(run_cli(tmp_path, "train", "--dataset", "t.csv", "--target",
                                      "label", "--model", model, "--epochs", "1"))
    assert line == (f"chainrule: error: --model {model} needs image data (digits, "
                    "fashion-mnist or mnist); t.csv is a table of features, not images: use "
                    "--model mlp, linear or softmax for it")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_lenet_on_synthetic_regression_features_is_refused_the_same_way(tmp_path):
    line = assert_usage_error(run_cli(tmp_path, "train", "--dataset", "synthetic-linear",
                                      "--model", "lenet"))
    assert "--model lenet needs image data" in line and "synthetic-linear" in line


def test_train_help_says_how_digits_reach_lenet_and_resnet(tmp_path):
    text = " ".join(ok(run_cli(tmp_path, "train", "--help")).stdout.split())
    assert "linear|softmax|mlp|lenet|resnet" in text
    assert "digits' 8x8 images are upsampled bilinearly to its 28x28" in text
    assert "images at their own size" in text


def test_conv_models_module_builds_what_describe_says():
    net = conv_models.build("lenet", (28, 28), 10, "mnist")
    out = net(chainrule.zeros(2, 784))
    assert out.shape == (2, 10) and len(net) == 13  # no upsampling at 28x28
    net = conv_models.build("resnet", (8, 8), 3, "digits").eval()
    assert net(chainrule.zeros(2, 64)).shape == (2, 3)
    assert net(chainrule.zeros(0, 64)).shape == (0, 3)  # an empty batch, as PyTorch in eval
