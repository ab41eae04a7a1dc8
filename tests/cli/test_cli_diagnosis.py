"""`chainrule train`'s diagnosis as a learner meets it: the verdict of short runs, fixes
printed as flags that the run does not already use, and `--repair`."""
import pytest
import json

from cli_helpers import assert_usage_error, ok, run_cli

pytestmark = pytest.mark.slow  # starts processes or runs long work: `-m "not slow"` skips it


def test_one_epoch_is_too_few_epochs_not_underfitting(tmp_path):
    out = ok(run_cli(tmp_path, "train", "--epochs", "1", "--name", "one")).stdout
    assert "TOO FEW EPOCHS" in out and "UNDERFITTING" not in out
    assert "with flags: --epochs 10" in out and "--model mlp" not in out
    diagnosis = json.loads((tmp_path / "runs/one/metrics.json").read_text())["diagnosis"]
    assert diagnosis["fixes"] == [{"epochs": 10}]


def test_an_adam_run_is_never_told_to_use_adam(tmp_path):
    out = ok(run_cli(tmp_path, "train", "--epochs", "10", "--name", "ten")).stdout
    assert "--optimizer adam" not in out and "'adam'" not in out
    diagnosis = json.loads((tmp_path / "runs/ten/metrics.json").read_text())["diagnosis"]
    assert all(fix.get("optimizer") != "adam" for fix in diagnosis["fixes"])


def test_a_linear_regression_far_too_slow_is_offered_a_higher_rate_by_flags(tmp_path):
    out = ok(run_cli(tmp_path, "train", "--dataset", "synthetic-linear", "--optimizer", "sgd",
                     "--lr", "0.0001", "--epochs", "4", "--name", "slow")).stdout
    assert "NOT CONVERGED" in out and "with flags: --lr 0.001" in out


def test_repair_lowers_a_learning_rate_far_too_high_and_keeps_the_better_run(tmp_path):
    out = ok(run_cli(tmp_path, "train", "--lr", "0.5", "--epochs", "6", "--hidden", "64",
                     "--name", "hot", "--repair", "1")).stdout
    assert "repair round 1: learning rate too high; trying --lr 0.05" in out
    assert "(kept)" in out and "repair: best run runs/hot-repair1" in out
    config = json.loads((tmp_path / "runs/hot-repair1/config.json").read_text())
    assert config["lr"] == 0.05 and config["hidden"] == [64]


def test_repair_needs_a_new_run(tmp_path):
    line = assert_usage_error(run_cli(tmp_path, "train", "--kfold", "3", "--repair"))
    assert "--repair" in line and "--kfold" in line


def test_fixes_for_a_convolutional_model_offer_no_dense_layer_flags():
    from chainrule.cli.fix_flags import flag_line
    fixes = [{"activation": "relu", "init": "kaiming"}, {"init": "xavier"}, {"hidden": [64]}]
    assert flag_line(fixes, {"model": "lenet"}) == "--init xavier"
    assert flag_line(fixes, {"model": "mlp"}) == ("--activation relu --init kaiming  or  "
                                                  "--init xavier  or  --hidden 64")
    assert flag_line([{"hidden": [64]}], {"model": "linear"}) == "--model mlp --hidden 64"


def test_saved_to_names_every_file_the_run_wrote(tmp_path):
    import re
    for args, name in ((("--epochs", "2", "--hidden", "16"), "one"),
                       (("--kfold", "2", "--epochs", "1", "--hidden", "8"), "kf")):
        out = ok(run_cli(tmp_path, "train", *args, "--name", name, "--quiet")).stdout
        listed = re.search(r"saved to runs/%s/: (.*)" % name, out).group(1).split(", ")
        written = sorted(p.name + ("/" if p.is_dir() else "")
                         for p in (tmp_path / "runs" / name).iterdir())
        assert sorted(listed) == written


def test_a_mistyped_flag_gets_a_did_you_mean(tmp_path):
    line = assert_usage_error(run_cli(tmp_path, "train", "--epocs", "3"))
    assert "unrecognized arguments: --epocs 3; did you mean --epochs?" in line
    line = assert_usage_error(run_cli(tmp_path, "train", "--weight_decay=1e-4"))
    assert "did you mean --weight-decay?" in line
    line = assert_usage_error(run_cli(tmp_path, "train", "--zzzz"))
    assert "did you mean" not in line


def test_predict_warns_about_images_already_scaled_to_0_1(tmp_path):
    import numpy as np
    from chainrule.vision.datasets import Digits
    ok(run_cli(tmp_path, "train", "--epochs", "1", "--hidden", "8", "--name", "d", "--quiet"))
    raw = Digits(train=False).data.numpy()[:5].astype(np.float32)
    np.save(tmp_path / "raw.npy", raw)
    np.save(tmp_path / "scaled.npy", raw / 16)
    quiet = ok(run_cli(tmp_path, "predict", "runs/d", "raw.npy"))
    assert quiet.stderr == "" and len(quiet.stdout.splitlines()) == 6
    warned = ok(run_cli(tmp_path, "predict", "runs/d", "scaled.npy"))
    assert "lies in 0..1" in warned.stderr and "raw pixels 0..16" in warned.stderr
    assert len(warned.stdout.splitlines()) == 6  # the predictions still come
