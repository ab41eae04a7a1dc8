"""A `chainrule train` that fails after writing a checkpoint keeps its run folder and says
which run to resume; an interrupted fit leaves no progress bar to print later; files are
written whole and data paths stay valid from any folder."""
import errno
import gc
import io
import json
import sys

import numpy as np
import pytest

from cli_helpers import cli_env, ok, run_cli
from chainrule.train import trainer as trainer_mod

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """`chainrule ARGS` in this process (so the checkpoint writer can be made to fail):
    returns the exit status."""
    from chainrule.cli import main
    for key, value in cli_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)

    def call(*args):
        return main(list(args))
    return call


def _fail_checkpoint_at(monkeypatch, epoch, error):
    real = trainer_mod.save_training_state

    def save(directory, state):
        if state["epoch"] == epoch:
            raise error
        return real(directory, state)
    monkeypatch.setattr(trainer_mod, "save_training_state", save)
    return real


@pytest.mark.parametrize("error, status", [
    (OSError(errno.ENOSPC, "No space left on device"), 1), (KeyboardInterrupt(), 130)],
    ids=["disk-full", "ctrl-c"])
def test_failed_new_run_after_a_checkpoint_keeps_its_folder_and_names_the_run_to_resume(
        cli, tmp_path, monkeypatch, capsys, error, status):
    real = _fail_checkpoint_at(monkeypatch, 1, error)
    assert cli("train", "--epochs", "3", "--hidden", "8", "--name", "r", "--quiet") == status
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "chainrule train --resume runs/r`" in err[0], err
    assert (tmp_path / "runs/r/checkpoint/last.ckpt").is_file()
    monkeypatch.setattr(trainer_mod, "save_training_state", real)
    assert cli("train", "--resume", "runs/r", "--quiet") == 0
    history = json.loads((tmp_path / "runs/r/history.json").read_text())
    assert history["epoch"] == [0, 1, 2]


def test_failed_new_run_before_its_first_checkpoint_leaves_no_folder(
        cli, tmp_path, monkeypatch, capsys):
    _fail_checkpoint_at(monkeypatch, 0, KeyboardInterrupt())
    assert cli("train", "--epochs", "2", "--hidden", "8", "--name", "r", "--quiet") == 130
    assert "--resume" not in capsys.readouterr().err
    assert not (tmp_path / "runs/r").exists()


class _FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_interrupted_fit_closes_its_progress_bar_before_the_error_propagates(monkeypatch):
    pytest.importorskip("tqdm")
    from chainrule import nn, optim
    from chainrule.train import LambdaCallback, fit
    tty = _FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty)
    monkeypatch.setattr(sys, "stderr", tty)
    net = nn.Linear(3, 2)

    def interrupt(batch, logs):
        if batch == 2:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        fit(net, (np.ones((40, 3), np.float32), np.zeros(40, np.int64)), loss="cross_entropy",
            optimizer=optim.SGD(net.parameters(), lr=0.1), epochs=2, batch_size=4,
            callbacks=[LambdaCallback(on_batch_end=interrupt)])
    shown = tty.getvalue()
    gc.collect()  # an unclosed bar would print itself here, after the error message
    assert tty.getvalue() == shown


def test_plot_model_without_graphviz_leaves_no_file(tmp_path, monkeypatch):
    from chainrule import nn
    from chainrule.viz import GraphvizNotFoundError, plot_model
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(GraphvizNotFoundError):
        plot_model(nn.Linear(3, 2), (1, 3), to_file=tmp_path / "model.png")
    assert list(tmp_path.iterdir()) == []


def test_kfold_run_leaves_no_empty_checkpoint_folder(tmp_path):
    ok(run_cli(tmp_path, "train", "--kfold", "2", "--epochs", "1", "--hidden", "8",
               "--name", "kf", "--quiet"))
    assert sorted(p.name for p in (tmp_path / "runs/kf").iterdir()) == [
        "config.json", "kfold.json", "kfold.png", "transform.json"]


def test_csv_run_evaluates_from_another_folder(tmp_path):
    rng = np.random.default_rng(0)
    rows = "".join(f"{a:.3f},{b:.3f},{a + 2 * b:.3f}\n" for a, b in rng.normal(size=(40, 2)))
    (tmp_path / "data.csv").write_text("a,b,y\n" + rows)
    ok(run_cli(tmp_path, "train", "--dataset", "data.csv", "--target", "y", "--epochs", "1",
               "--name", "c", "--quiet"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert "test RMSE" in ok(run_cli(elsewhere, "evaluate", tmp_path / "runs/c")).stdout
    # resuming from the first folder with the same relative path is no change of data
    ok(run_cli(tmp_path, "train", "--resume", "runs/c", "--dataset", "data.csv",
               "--target", "y", "--epochs", "2", "--quiet"))
