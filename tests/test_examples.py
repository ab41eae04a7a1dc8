"""Each example script runs offline with small settings and prints its key results."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import needs_matplotlib

pytestmark = pytest.mark.slow  # starts processes or runs long work: `-m "not slow"` skips it

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name, *args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


def test_preliminaries(tmp_path):
    out = run_example("preliminaries.py", cwd=tmp_path)
    assert "tensor([0., 2., 4., 6.])" in out
    assert out.rstrip().endswith("all checks passed")


@needs_matplotlib
def test_activations_write_labelled_pngs(tmp_path):
    out = run_example("activations.py", "--out", str(tmp_path / "figs"), cwd=tmp_path)
    for name in ("relu", "relu_grad", "sigmoid", "sigmoid_grad", "tanh", "tanh_grad"):
        png = tmp_path / "figs" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert "largest sigmoid gradient 0.2500" in out and "largest tanh gradient 1.0000" in out


def test_linear_regression_concise_recovers_parameters(tmp_path):
    out = run_example("linear_regression_concise.py", "--epochs", "3", cwd=tmp_path)
    worst = float(re.search(r"largest absolute error: ([0-9.]+)", out).group(1))
    assert worst < 0.05
    assert "error in estimating w" in out and "error in estimating b" in out


def _final_test_acc(out):
    return float(re.search(r"final: .*test acc ([0-9.]+)", out).group(1))


# the two-hidden-layer dropout net starts slowly from N(0, 0.01) weights
@pytest.mark.parametrize("script,stem,epochs", [
    ("softmax_regression.py", "softmax_regression", 2), ("mlp.py", "mlp", 2),
    ("dropout.py", "dropout", 4)])
@needs_matplotlib
def test_classifiers_fall_back_to_digits_and_learn(tmp_path, script, stem, epochs):
    out = run_example(script, "--quick", "--epochs", str(epochs), "--root",
                      str(tmp_path / "no-data"), "--out", str(tmp_path / "figs"), cwd=tmp_path)
    assert "Fashion-MNIST not found" in out and "dataset: digits" in out
    assert f"epoch {epochs}:" in out and f"epoch {epochs + 1}:" not in out
    assert _final_test_acc(out) > 0.3  # ten classes: chance is 0.1
    for kind in ("curves", "predictions"):
        assert (tmp_path / "figs" / f"{stem}_{kind}.png").stat().st_size > 1000


@needs_matplotlib
def test_softmax_regression_own_loop_agrees_with_d2l(tmp_path):
    out = run_example("softmax_regression.py", "--dataset", "digits", "--epochs", "2",
                      "--out", str(tmp_path), cwd=tmp_path)
    assert "Fashion-MNIST not found" not in out
    own = float(re.search(r"test images: ([0-9.]+) %", out).group(1)) / 100
    assert abs(own - _final_test_acc(out)) < 1e-4


@needs_matplotlib
def test_weight_decay_shrinks_the_weights(tmp_path):
    out = run_example("weight_decay.py", "--quick", "--dataset", "digits", "--epochs", "2",
                      "--out", str(tmp_path), cwd=tmp_path)
    norms = re.search(r"shrank \|\|w\|\| from ([0-9.]+) to ([0-9.]+)", out)
    assert float(norms.group(2)) < 0.5 * float(norms.group(1))
    assert _final_test_acc(out) > 0.3
    assert (tmp_path / "weight_decay_wd3.png").exists()


def test_activation_statistics_small_init_vanishes_xavier_keeps_scale(tmp_path):
    out = run_example("activation_statistics.py", "--depth", "6", "--width", "64",
                      "--batch", "128", cwd=tmp_path)
    tables = out.split("init xavier")
    assert len(tables) == 2, out

    def act_stds(text):
        rows = re.findall(r"^\s+\d+\s+(\S+)\s+(\S+)\s+(\S+)$", text, re.M)
        assert len(rows) == 6, text
        return [float(r[1]) for r in rows]
    small, xavier = act_stds(tables[0]), act_stds(tables[1])
    assert small[-1] < 1e-4 * small[0]  # each layer multiplies the std by about 0.08
    assert min(xavier) > 0.1 and max(xavier) < 1.0


def test_custom_function_polynomial_fit_reaches_least_squares(tmp_path):
    out = run_example("custom_function_polynomial.py", "--steps", "400", cwd=tmp_path)
    assert "gradcheck of the hand-written backward: True" in out
    gap = float(re.search(r"largest gap to least squares: ([0-9.]+)", out).group(1))
    assert gap < 5e-3


@needs_matplotlib
def test_probability_example_estimates_fits_and_plots(tmp_path):
    out = run_example("probability.py", "--out", str(tmp_path / "dice.png"), cwd=tmp_path)
    assert (tmp_path / "dice.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "after 5000 rolls" in out and "fitted loc" in out
    assert out.rstrip().endswith("all checks passed")


@needs_matplotlib
def test_d2l_lenet_stalls_on_digits_where_batch_norm_learns(tmp_path):
    out = run_example("d2l_ch6_lenet.py", "--quick", "--root", str(tmp_path / "no-data"),
                      "--out", str(tmp_path / "figs"), cwd=tmp_path)
    assert "dataset: digits" in out and "Flatten output shape: (1, 400)" in out
    accs = dict(re.findall(r"final: (LeNet|LeNet with batch norm): test acc ([0-9.]+)", out))
    assert float(accs["LeNet"]) < 0.3 < 0.7 < float(accs["LeNet with batch norm"])
    for stem in ("lenet", "lenetbn"):
        assert (tmp_path / "figs" / f"{stem}_curves.png").stat().st_size > 1000


@needs_matplotlib
def test_d2l_resnet18_at_a_quarter_of_the_width_learns_the_digits(tmp_path):
    out = run_example("d2l_ch7_resnet.py", "--epochs", "1", "--width", "16", "--root",
                      str(tmp_path / "no-data"), "--out", str(tmp_path), cwd=tmp_path)
    assert "Linear output shape: (1, 10)" in out and "examples/sec on cpu" in out
    assert float(re.search(r"final: test acc ([0-9.]+)", out).group(1)) > 0.5
    assert (tmp_path / "resnet_curves.png").stat().st_size > 1000
