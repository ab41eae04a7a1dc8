"""Bad input: one line on stderr saying what is wrong and what to do, exit status 2, no
traceback, and existing run folders left alone."""
import numpy as np
import pytest

from cli_helpers import assert_usage_error, ok, run_cli

pytestmark = pytest.mark.slow  # starts processes or runs long work: `-m "not slow"` skips it


def _setup(tmp_path):
    (tmp_path / "good.csv").write_text("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(20)))
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "garbage.csv").write_bytes(b'a,b\n"unterminated,1\n\x00\xff\xfe,2,3,4\n')
    (tmp_path / "bad.toml").write_text("epochs = = 3\n")
    (tmp_path / "unknown.toml").write_text("learning_rate = 0.1\n")
    (tmp_path / "wrongtype.toml").write_text('epochs = "many"\n')
    (tmp_path / "notarun").mkdir()
    (tmp_path / "notarun" / "notes.txt").write_text("mine")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)


CASES = {
    "unknown flag": (["train", "--learning-rate", "0.1"], "unrecognized arguments"),
    "unknown command": (["trian"], "invalid choice"),
    "negative lr": (["train", "--lr", "-1"], "positive"),
    "bad activation": (["train", "--activation", "swish"], "relu"),
    "bad hidden": (["train", "--hidden", "a,b"], "256,128"),
    "bad fraction": (["train", "--dropout", "1.5"], "fraction"),
    "kfold of one": (["train", "--kfold", "1"], ">= 2"),
    "unknown dataset": (["train", "--dataset", "cifar"], "chainrule datasets"),
    "missing csv": (["train", "--dataset", "nothere.csv", "--target", "y"], "does not exist"),
    "empty csv": (["train", "--dataset", "empty.csv", "--target", "y"], "CSV"),
    "malformed csv": (["train", "--dataset", "garbage.csv", "--target", "b"], "CSV"),
    "csv without target": (["train", "--dataset", "good.csv"], "--target"),
    "absent target column": (["train", "--dataset", "good.csv", "--target", "price"],
                             "columns are: x, y"),
    "softmax for regression": (["train", "--dataset", "synthetic-linear", "--model",
                                "softmax"], "classification"),
    "momentum with adam": (["train", "--momentum", "0.9"], "sgd"),
    "fashion-mnist offline": (["train", "--dataset", "fashion-mnist", "--data-dir", "nodata",
                               "--no-download"], "chainrule datasets download fashion-mnist"),
    "malformed toml": (["train", "--config", "bad.toml"], "TOML"),
    "unknown toml key": (["train", "--config", "unknown.toml"], "learning_rate"),
    "wrong toml value": (["train", "--config", "wrongtype.toml"], "positive integer"),
    "missing toml": (["train", "--config", "none.toml"], "does not exist"),
    "not a run folder": (["evaluate", "notarun"], "not a run folder"),
    "missing run folder": (["evaluate", "runs/nope"], "does not exist"),
    "predict from non-run": (["predict", "notarun", "x.npy"], "not a run folder"),
    "plot non-run": (["plot", "notarun"], "not a run folder"),
    "resume without checkpoint": (["train", "--resume", "notarun"], "not a run folder"),
    "resume without name": (["train", "--resume"], "--resume"),
    "download unknown": (["datasets", "download", "cifar"], "fashion-mnist"),
    "download nothing": (["datasets", "download"], "which data set"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_and_exit_2(tmp_path, case):
    _setup(tmp_path)
    args, hint = CASES[case]
    line = assert_usage_error(run_cli(tmp_path, *args))
    assert hint in line, line
    assert not (tmp_path / "runs").exists() or case == "resume without name"


def test_existing_run_folder_is_kept_unless_overwrite(tmp_path):
    ok(run_cli(tmp_path, "train", "--epochs", "1", "--hidden", "8", "--name", "r", "--quiet"))
    weights = tmp_path / "runs/r/model.safetensors"
    before = weights.read_bytes()
    line = assert_usage_error(run_cli(tmp_path, "train", "--epochs", "1", "--hidden", "8",
                                      "--seed", "5", "--name", "r"))
    assert "--overwrite" in line and weights.read_bytes() == before
    ok(run_cli(tmp_path, "train", "--epochs", "1", "--hidden", "8", "--seed", "5", "--name",
               "r", "--overwrite", "--quiet"))
    assert weights.read_bytes() != before


def test_predict_refuses_bad_inputs_and_overwrites(tmp_path):
    _setup(tmp_path)
    ok(run_cli(tmp_path, "train", "--epochs", "1", "--hidden", "8", "--name", "r", "--quiet"))
    line = assert_usage_error(run_cli(tmp_path, "predict", "runs/r", "objects.npy"))
    assert "object arrays are refused" in line
    np.save(tmp_path / "wrong.npy", np.zeros((3, 5)))
    assert "64" in assert_usage_error(run_cli(tmp_path, "predict", "runs/r", "wrong.npy"))
    np.save(tmp_path / "x.npy", np.zeros((2, 8, 8), dtype=np.uint8))
    (tmp_path / "out.csv").write_text("keep me")
    line = assert_usage_error(run_cli(tmp_path, "predict", "runs/r", "x.npy", "-o", "out.csv"))
    assert "--overwrite" in line and (tmp_path / "out.csv").read_text() == "keep me"
    assert "does not exist" in assert_usage_error(run_cli(tmp_path, "predict", "runs/r", "n.npy"))


def test_python_dash_m_chainrule_runs_the_same_command_line_as_chainrule_cli(tmp_path):
    import subprocess
    import sys
    from cli_helpers import cli_env

    def run(module, *args):
        return subprocess.run([sys.executable, "-m", module, *args], cwd=tmp_path,
                              env=cli_env(tmp_path), capture_output=True, text=True, timeout=120)
    for args in (["datasets"], ["trian"]):
        short, full = run("chainrule", *args), run("chainrule.cli", *args)
        assert (short.returncode, short.stdout, short.stderr) == \
            (full.returncode, full.stdout, full.stderr)
    assert run("chainrule", "datasets").returncode == 0
    assert "invalid choice" in run("chainrule", "trian").stderr
