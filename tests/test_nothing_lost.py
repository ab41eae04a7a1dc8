"""The command line loses nothing and calls user mistakes user mistakes: a failed command
leaves the run folder byte for byte as it was, flags given with --resume apply or are
refused, two runs never share a folder, and bad input is one line with exit status 2."""
import os
import subprocess
import sys

import numpy as np
import pytest

from cli_helpers import assert_usage_error, cli_env, ok, run_cli

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _snapshot(folder):
    """{relative path: bytes} of every file under folder."""
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = f.read()
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished two-epoch digits run; tests copy it before changing anything."""
    tmp = tmp_path_factory.mktemp("nothing_lost")
    ok(run_cli(tmp, "train", "--name", "base", "--epochs", "2", "--hidden", "16",
               "--quiet"))
    return tmp / "runs" / "base"


def _copy_run(trained, tmp_path, name="r"):
    import shutil
    dest = tmp_path / "runs" / name
    shutil.copytree(trained, dest)
    return dest


@pytest.mark.parametrize("flags", [["--hidden", "32"], ["--dataset", "synthetic-linear"],
                                   ["--seed", "3"], ["--activation", "tanh"]],
                         ids=["hidden", "dataset", "seed", "activation"])
def test_resume_with_other_settings_is_refused_and_leaves_run_folder_untouched(
        trained, tmp_path, flags):
    run = _copy_run(trained, tmp_path)
    before = _snapshot(run)
    line = assert_usage_error(run_cli(tmp_path, "train", "--resume", "runs/r",
                                      "--epochs", "4", *flags))
    assert "--resume" in line and flags[0] in line
    assert _snapshot(run) == before


def test_resume_from_checkpoint_of_other_architecture_leaves_run_folder_untouched(
        trained, tmp_path):
    run = _copy_run(trained, tmp_path)
    # the config says 32 hidden units, the checkpoint holds 16: the load must fail first
    cfg = (run / "config.json").read_text().replace('"hidden": [\n  16\n ]',
                                                    '"hidden": [\n  32\n ]')
    assert '"hidden": [\n  32\n ]' in cfg
    (run / "config.json").write_text(cfg)
    before = _snapshot(run)
    line = assert_usage_error(run_cli(tmp_path, "train", "--resume", "runs/r",
                                      "--epochs", "4"))
    assert "cannot resume from" in line and "last.ckpt" in line and "size mismatch" in line
    assert _snapshot(run) == before


def test_resume_with_lr_trains_at_the_new_rate_and_records_it(trained, tmp_path):
    import json
    run = _copy_run(trained, tmp_path)
    ok(run_cli(tmp_path, "train", "--resume", "runs/r", "--epochs", "4", "--lr", "0.0005",
               "--quiet"))
    history = json.loads((run / "history.json").read_text())["history"]
    assert history["lr"] == [0.001, 0.001, 0.0005, 0.0005]
    assert json.loads((run / "config.json").read_text())["lr"] == 0.0005


def test_two_trains_with_the_same_name_never_share_the_folder(tmp_path):
    cmd = [sys.executable, "-m", "chainrule.cli", "train", "--name", "same", "--epochs", "1",
           "--hidden", "8", "--quiet"]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=cli_env(tmp_path), text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    err = next(text for code, text in results if code == 2)
    assert len(err.splitlines()) == 1 and "same" in err


def test_claiming_a_run_folder_is_exclusive(tmp_path):
    from chainrule.cli import runs
    from chainrule.cli._common import CLIError
    (tmp_path / "empty").mkdir()  # a folder the user made beforehand may be claimed once
    runs.prepare_new(str(tmp_path), "empty", False)
    with pytest.raises(CLIError, match="already exists"):
        runs.prepare_new(str(tmp_path), "empty", False)
    os.rmdir(tmp_path / "empty" / "checkpoint")
    os.mkdir(tmp_path / "empty" / "checkpoint")  # another process claimed it in between
    with pytest.raises(CLIError, match="already exists|another"):
        runs.prepare_new(str(tmp_path), "empty", False)


def test_default_names_created_in_the_same_second_are_distinct(tmp_path):
    from chainrule.cli import runs
    paths = {runs.prepare_new(str(tmp_path), None, False).path for _ in range(3)}
    assert len(paths) == 3


@pytest.mark.parametrize("value", ["inf", "1e400", "nan", "-1e39"])
def test_predict_with_non_finite_or_overflowing_input_is_a_usage_error(
        trained, tmp_path, value):
    rows = np.zeros((3, 64))
    text = "\n".join(",".join(f"{v:g}" for v in r) for r in rows).splitlines()
    cells = text[1].split(",")
    cells[5] = value
    text[1] = ",".join(cells)
    (tmp_path / "x.csv").write_text("\n".join(text) + "\n")
    result = run_cli(tmp_path, "predict", trained, "x.csv")
    line = assert_usage_error(result)
    assert "x.csv: row 2" in line and "not a finite number" in line
    assert result.stdout == ""


def test_predict_with_finite_inputs_still_prints_probabilities(trained, tmp_path):
    np.save(tmp_path / "x.npy", np.full((2, 8, 8), 3.0))
    out = ok(run_cli(tmp_path, "predict", trained, "x.npy")).stdout.splitlines()
    probs = np.array([[float(v) for v in line.split(",")[1:]] for line in out[1:]])
    assert probs.shape == (2, 10) and np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_config_that_is_not_utf8_is_a_usage_error(tmp_path):
    (tmp_path / "bad.toml").write_bytes(b'lr = 0.1\ndataset = "\xff\xfe"\n')
    line = assert_usage_error(run_cli(tmp_path, "train", "--config", "bad.toml"))
    assert "bad.toml is not UTF-8" in line
    assert not (tmp_path / "runs").exists()


def test_out_that_is_a_file_is_a_usage_error(tmp_path):
    (tmp_path / "afile").write_text("keep me")
    line = assert_usage_error(run_cli(tmp_path, "train", "--out", "afile", "--epochs", "1"))
    assert "--out afile exists and is not a folder" in line
    line = assert_usage_error(run_cli(tmp_path, "train", "--out", "afile/sub",
                                      "--epochs", "1"))
    assert "cannot create the --out folder afile/sub" in line
    assert (tmp_path / "afile").read_text() == "keep me"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="permissions do not bind the superuser")
def test_out_that_is_not_writable_is_a_usage_error(tmp_path):
    (tmp_path / "ro").mkdir(mode=0o555)
    line = assert_usage_error(run_cli(tmp_path, "train", "--out", "ro", "--epochs", "1"))
    assert "ro" in line and ("permission" in line.lower() or "cannot" in line)
