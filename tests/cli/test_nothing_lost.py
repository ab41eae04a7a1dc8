"""The command line loses nothing and calls user mistakes user mistakes: a failed command
leaves the run folder byte for byte as it was, flags given with --resume apply or are
refused, two runs never share a folder, and bad input is one line with exit status 2."""
import os
import subprocess
import sys

import numpy as np
import pytest

from cli_helpers import assert_usage_error, cli_env, ok, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


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


def _npy_with_shape(shape_text):
    """A .npy header declaring `shape_text` verbatim (no data), padded as the format wants."""
    import struct
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape_text
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()


@pytest.mark.parametrize("shape", ["(18446744073709551616, 0)", "(4611686018427387904, 4)"])
def test_predict_with_crafted_npy_shape_is_a_usage_error(trained, tmp_path, shape):
    (tmp_path / "x.npy").write_bytes(_npy_with_shape(shape))
    line = assert_usage_error(run_cli(tmp_path, "predict", trained, "x.npy"))
    assert "cannot read x.npy" in line


# ---- the training layer --------------------------------------------------------------
def test_binary_accuracy_of_a_row_does_not_depend_on_other_rows():
    from chainrule.train import accuracy
    alone = accuracy(np.array([[0.3]]), np.array([0]))
    with_logit_neighbour = accuracy(np.array([[0.3], [5.0]]), np.array([0, 1]))
    assert alone == 1.0 and with_logit_neighbour == 1.0
    assert accuracy(np.array([[0.3], [-2.0]]), np.array([1, 0]), threshold=0.0) == 1.0


def test_fit_reads_binary_logits_at_threshold_zero():
    import chainrule as cr
    from chainrule import nn
    from chainrule.train import evaluate
    net = nn.Linear(1, 1)
    with cr.no_grad():
        net.weight.fill_(1.0)
        net.bias.fill_(0.0)
    X = np.array([[0.3], [-0.3], [2.0]], dtype=np.float32)
    y = np.array([[1.0], [0.0], [1.0]], dtype=np.float32)
    logs = evaluate(net, (X, y), loss=nn.BCEWithLogitsLoss(), metrics=["accuracy"])
    assert logs["accuracy"] == 1.0  # 0.3 is a positive logit: class 1
    probs = evaluate(nn.Sequential(net, nn.Sigmoid()), (X, y), loss=nn.BCELoss(),
                     metrics=["accuracy"])
    assert probs["accuracy"] == 1.0  # sigmoid(0.3) = 0.57 > 0.5


def _tiny_fit_kwargs(tmp_path, callbacks):
    from chainrule import nn
    return dict(loss=nn.CrossEntropyLoss(), epochs=2, batch_size=8, progress=False,
                callbacks=callbacks, validation_split=0.25, seed=0)


def test_model_checkpoint_with_safetensors_suffix_writes_real_safetensors(tmp_path):
    import json
    import struct

    import chainrule as cr
    from chainrule import nn, optim
    from chainrule.train import ModelCheckpoint, fit
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(32, 3)).astype(np.float32), rng.integers(0, 2, 32)
    net = nn.Linear(3, 2)
    path = tmp_path / "best.safetensors"
    fit(net, (X, y), optimizer=optim.SGD(net.parameters(), lr=0.1),
        **_tiny_fit_kwargs(tmp_path, [ModelCheckpoint(str(path))]))
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert set(header) - {"__metadata__"} == {"weight", "bias"}
    loaded = cr.load_safetensors(str(path))
    np.testing.assert_array_equal(loaded["weight"].numpy(), net.weight.detach().numpy())
    assert not [p for p in os.listdir(tmp_path) if p != "best.safetensors"]


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_save_through_a_symlink_writes_its_target_like_torch(tmp_path, suffix):
    import chainrule as cr
    torch = pytest.importorskip("torch")
    for lib, name in ((torch, "t"), (cr, "c")):
        target, link = tmp_path / f"{name}_target{suffix}", tmp_path / f"{name}_link{suffix}"
        target.write_bytes(b"old")
        link.symlink_to(target.name)
        if suffix == ".safetensors" and lib is torch:
            continue  # torch.save writes its own format whatever the suffix
        lib.save({"w": lib.ones(2)}, str(link))
        assert link.is_symlink() and os.readlink(link) == target.name
        assert target.read_bytes() != b"old"
        np.testing.assert_array_equal(np.asarray(lib.load(str(target))["w"]), [1.0, 1.0])


def test_diagnose_names_a_too_high_learning_rate():
    from chainrule.train import diagnose
    history = {"loss": [2.4, 3.1, 2.9, 3.3, 3.0, 3.2], "accuracy": [0.11, 0.09, 0.1, 0.1,
                                                                     0.12, 0.1], "lr": [0.5] * 6}
    d = diagnose(history)
    assert d.verdict == "learning rate too high"
    assert "lower the learning rate" in d.remedies[0]
    assert "underfitting" not in str(d).lower()


def test_diagnose_still_calls_a_small_model_that_descends_underfitting():
    from chainrule.train import diagnose
    history = {"loss": [2.3, 2.0, 1.95, 1.94, 1.94, 1.94], "accuracy": [0.1, 0.3, 0.33, 0.34,
                                                                        0.34, 0.34]}
    assert diagnose(history).verdict == "underfitting"


def test_diagnose_of_something_else_is_a_clear_type_error():
    from chainrule.train import diagnose
    with pytest.raises(TypeError, match="diagnose needs a History.*got float"):
        diagnose(1.5)


def test_diagnose_of_d2l_train_ch3_points_to_its_kept_curves():
    import chainrule as cr
    from chainrule import d2l, nn
    from chainrule.train import diagnose
    cr.manual_seed(0)
    X = cr.randn(64, 4)
    y = X.argmax(dim=1)
    net = nn.Sequential(nn.Linear(4, 4))
    it = d2l.load_array((X, y), 16)
    returned = d2l.train_ch3(net, it, it, nn.CrossEntropyLoss(reduction="none"), 3,
                             cr.optim.SGD(net.parameters(), lr=0.5), check=False)
    assert returned is None  # as d2l's train_ch3
    with pytest.raises(TypeError, match=r"diagnose\(d2l.last_history\(\)\)"):
        diagnose(returned)
    kept = d2l.last_history()
    train_loss, train_acc, test_acc = kept  # the last epoch, d2l-style
    assert kept.history["loss"][-1] == train_loss and len(kept.history["loss"]) == 3
    assert diagnose(kept).verdict in ("good fit", "not converged", "underfitting")


def _selection_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64)


def _build_with_optimizer(lr=0.1):
    from chainrule import nn, optim
    model = nn.Linear(3, 2)
    return model, optim.SGD(model.parameters(), lr=lr)


def test_k_fold_with_build_model_returning_model_and_optimizer():
    from chainrule import nn
    from chainrule.train import k_fold
    X, y = _selection_data()
    result = k_fold(_build_with_optimizer, X, y, k=3, seed=0,
                    fit_kwargs=dict(loss=nn.CrossEntropyLoss(), epochs=2, progress=False))
    assert len(result.histories) == 3 and np.isfinite(result.mean["val_loss"])


def test_grid_search_with_build_model_returning_model_and_optimizer():
    from chainrule import nn
    from chainrule.train import grid_search
    X, y = _selection_data()
    search = grid_search(_build_with_optimizer, {"lr": [0.01, 0.1]}, X, y, k=2, seed=0,
                         fit_kwargs=dict(loss=nn.CrossEntropyLoss(), epochs=2,
                                         progress=False), model_params=["lr"])
    assert sorted(r["params"]["lr"] for r in search.rows) == [0.01, 0.1]
    assert all(np.isfinite(r["mean"]) for r in search.rows)


def test_predict_output_into_a_missing_folder_is_a_usage_error(trained, tmp_path):
    np.save(tmp_path / "x.npy", np.ones((2, 8, 8)))
    line = assert_usage_error(run_cli(tmp_path, "predict", trained, "x.npy",
                                      "--output", "nodir/p.csv"))
    assert "cannot write --output nodir/p.csv" in line


def test_predict_output_through_a_symlink_writes_its_target(trained, tmp_path):
    np.save(tmp_path / "x.npy", np.ones((2, 8, 8)))
    (tmp_path / "target.csv").write_text("old\n")
    (tmp_path / "link.csv").symlink_to("target.csv")
    ok(run_cli(tmp_path, "predict", trained, "x.npy", "--output", "link.csv", "--overwrite"))
    assert (tmp_path / "link.csv").is_symlink()
    assert (tmp_path / "target.csv").read_text().startswith("prediction,p_0")


def test_history_files_written_through_a_symlink_keep_the_link(tmp_path):
    from chainrule.train import History
    h = History()
    h.append(0, {"loss": 1.0})
    (tmp_path / "target.csv").write_text("old\n")
    (tmp_path / "link.csv").symlink_to("target.csv")
    h.to_csv(str(tmp_path / "link.csv"))
    assert (tmp_path / "link.csv").is_symlink()
    assert "loss" in (tmp_path / "target.csv").read_text()


def test_failed_overwrite_puts_the_replaced_run_back_byte_for_byte(trained, tmp_path):
    run = _copy_run(trained, tmp_path)
    (run / "notes.txt").write_text("mine")  # not a run file: never touched
    before = _snapshot(run)
    line = assert_usage_error(run_cli(tmp_path, "train", "--name", "r", "--overwrite",
                                      "--kfold", "100000", "--epochs", "1"))
    assert "--kfold 100000" in line
    assert _snapshot(run) == before


def test_successful_overwrite_replaces_the_run_and_keeps_other_files(trained, tmp_path):
    import json
    run = _copy_run(trained, tmp_path)
    (run / "notes.txt").write_text("mine")
    ok(run_cli(tmp_path, "train", "--name", "r", "--overwrite", "--epochs", "1",
               "--hidden", "8", "--quiet"))
    assert json.loads((run / "config.json").read_text())["hidden"] == [8]
    assert (run / "notes.txt").read_text() == "mine"
    assert not [p for p in os.listdir(run) if p.startswith(".replaced")]


def test_failed_new_run_leaves_no_folder_behind(tmp_path):
    line = assert_usage_error(run_cli(tmp_path, "train", "--name", "fresh", "--kfold",
                                      "100000", "--epochs", "1"))
    assert "--kfold 100000" in line
    assert not (tmp_path / "runs" / "fresh").exists()
    # the name is free again
    ok(run_cli(tmp_path, "train", "--name", "fresh", "--epochs", "1", "--hidden", "8",
               "--quiet"))


def test_resume_with_fewer_epochs_than_trained_is_refused_and_changes_nothing(
        trained, tmp_path):
    run = _copy_run(trained, tmp_path)
    before = _snapshot(run)
    line = assert_usage_error(run_cli(tmp_path, "train", "--resume", "runs/r",
                                      "--epochs", "1"))
    assert "--epochs 1" in line and "already trained 2 epochs" in line
    assert _snapshot(run) == before
