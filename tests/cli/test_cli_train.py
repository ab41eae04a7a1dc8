"""`chainrule train` end to end: the default run, every data source, K-fold, config
files and resuming after a kill."""
import importlib.util
import json
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from cli_helpers import cli_env, load_weights, ok, run_cli, write_tiny_idx

pytestmark = pytest.mark.slow  # starts processes or runs long work: `-m "not slow"` skips it

RUN_FILES = ("config.json", "history.csv", "history.json", "model.safetensors",
             "transform.json", "metrics.json", "checkpoint/last.ckpt")
if importlib.util.find_spec("matplotlib") is not None:  # curves are skipped without it
    RUN_FILES += ("curves.png",)


def test_default_train_reaches_95_percent_and_writes_the_run_folder(tmp_path):
    result = ok(run_cli(tmp_path, "train"))
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", result.stdout).group(1))
    assert accuracy >= 0.95
    assert "Diagnosis:" in result.stdout and "Epoch 1/" in result.stdout
    # early stopping ran: it is never suggested again, nor is anything else to a good fit
    assert "GOOD FIT" in result.stdout and "early_stopping" not in result.stdout
    assert "--patience" not in result.stdout
    (run,) = (tmp_path / "runs").iterdir()
    for name in RUN_FILES:
        assert (run / name).is_file(), name
    history = json.loads((run / "history.json").read_text())
    assert "val_accuracy" in history["history"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] == pytest.approx(accuracy, abs=1e-4)


def test_synthetic_linear_recovers_the_true_weights(tmp_path):
    result = ok(run_cli(tmp_path, "train", "--dataset", "synthetic-linear", "--optimizer", "sgd",
                        "--lr", "0.03", "--epochs", "2", "--name", "lin"))
    assert "test RMSE" in result.stdout
    w = load_weights(tmp_path / "runs/lin/model.safetensors")["0.weight"].reshape(-1)
    np.testing.assert_allclose(w, [2.0, -3.4], atol=0.1)


@pytest.mark.parametrize("name,folder", [("fashion-mnist", "FashionMNIST"), ("mnist", "MNIST")])
def test_idx_datasets_from_data_dir(tmp_path, name, folder):
    write_tiny_idx(tmp_path / "idx", folder)
    result = ok(run_cli(tmp_path, "train", "--dataset", name, "--data-dir", tmp_path / "idx",
                        "--epochs", "2", "--hidden", "16", "--name", "r", "--no-download"))
    assert "60 training and 20 test rows, 784 features, 10 classes" in result.stdout
    assert "test accuracy" in result.stdout
    transform = json.loads((tmp_path / "runs/r/transform.json").read_text())
    assert transform["scale"] == 255.0 and transform["shape"] == [28, 28]


def test_kfold_reports_mean_and_std(tmp_path):
    result = ok(run_cli(tmp_path, "train", "--kfold", "3", "--epochs", "2", "--hidden", "32",
                        "--name", "kf"))
    assert re.search(r"3-fold val_accuracy: [0-9.]+ ± [0-9.]+", result.stdout)
    assert result.stdout.count("fold ") >= 3
    data = json.loads((tmp_path / "runs/kf/kfold.json").read_text())
    assert data["k"] == 3 and len(data["folds"]) == 3


def test_config_file_with_flags_overriding(tmp_path):
    (tmp_path / "s.toml").write_text('[train]\nepochs = 1\nhidden = [24]\nlr = 0.01\n'
                                     'activation = "tanh"\n')
    ok(run_cli(tmp_path, "train", "--config", "s.toml", "--lr", "0.002", "--name", "c",
               "--quiet"))
    cfg = json.loads((tmp_path / "runs/c/config.json").read_text())
    assert (cfg["epochs"], cfg["hidden"], cfg["lr"], cfg["activation"]) == (1, [24], 0.002, "tanh")


def test_regularisation_flags_reach_training(tmp_path):
    result = ok(run_cli(tmp_path, "train", "--epochs", "2", "--optimizer", "sgd", "--momentum",
                        "0.9", "--weight-decay", "1e-4", "--l1", "1e-4", "--dropout", "0.2",
                        "--init", "xavier", "--clip-grad", "1", "--activation", "sigmoid",
                        "--batch-size", "64", "--name", "reg"))
    assert "momentum 0.9 weight decay 0.0001 L1 0.0001" in result.stdout
    assert "dropout 0.2" in result.stdout


def test_resume_after_kill_matches_an_uninterrupted_run(tmp_path):
    args = ["train", "--epochs", "10", "--batch-size", "8", "--hidden", "64", "--dropout",
            "0.2", "--patience", "3", "--seed", "3"]
    ok(run_cli(tmp_path, *args, "--name", "full", "--quiet"))
    proc = subprocess.Popen([sys.executable, "-m", "chainrule.cli", *args, "--name", "cut"],
                            cwd=tmp_path, env=cli_env(tmp_path), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    ckpt = tmp_path / "runs/cut/checkpoint/last.ckpt"
    deadline = time.time() + 60
    while not ckpt.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "training ended before it could be killed"
    assert not (tmp_path / "runs/cut/model.safetensors").exists()
    result = ok(run_cli(tmp_path, "train", "--resume", "runs/cut"))
    assert "resuming from the checkpoint" in result.stdout
    full = load_weights(tmp_path / "runs/full/model.safetensors")
    resumed = load_weights(tmp_path / "runs/cut/model.safetensors")
    assert full.keys() == resumed.keys()
    for key in full:
        np.testing.assert_array_equal(full[key], resumed[key])
    h_full = json.loads((tmp_path / "runs/full/history.json").read_text())["history"]
    h_cut = json.loads((tmp_path / "runs/cut/history.json").read_text())["history"]
    assert h_full["val_loss"] == h_cut["val_loss"]


def test_resume_that_fails_during_training_keeps_the_run_settings(tmp_path, monkeypatch):
    import chainrule.train
    from chainrule.cli import main
    for key, value in cli_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--epochs", "2", "--hidden", "16", "--name", "r", "--quiet"]) == 0
    config = tmp_path / "runs/r/config.json"
    before = config.read_bytes()

    def broken_fit(*args, **kwargs):  # fails after the checkpoint was found valid
        raise RuntimeError("disk full")

    real_fit = chainrule.train.fit
    monkeypatch.setattr(chainrule.train, "fit", broken_fit)
    assert main(["train", "--resume", "runs/r", "--epochs", "4", "--lr", "0.5"]) == 1
    assert config.read_bytes() == before
    monkeypatch.setattr(chainrule.train, "fit", real_fit)
    assert main(["train", "--resume", "runs/r", "--epochs", "4", "--lr", "0.5",
                 "--quiet"]) == 0
    settings = json.loads(config.read_text())
    assert (settings["epochs"], settings["lr"]) == (4, 0.5)
