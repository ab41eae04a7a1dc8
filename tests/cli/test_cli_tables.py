"""CSV data (d2l's house-price recipe) and the evaluate / predict / plot round trip."""
import csv
import io
import json

import numpy as np
import pytest

from cli_helpers import load_weights, ok, run_cli
from helpers import needs_matplotlib

pytestmark = pytest.mark.slow  # starts processes or runs long work: `-m "not slow"` skips it

pytest.importorskip("pandas", reason="CSV data sets need pandas, which is not installed")


def write_houses(path, n=150, seed=0):
    rng = np.random.default_rng(seed)
    area = rng.uniform(50, 250, n)
    quality = rng.integers(1, 6, n)
    street = rng.choice(["Pave", "Grvl", ""], n, p=[0.6, 0.3, 0.1])  # "" is missing
    price = 1000 * area + 20000 * quality + np.where(street == "Pave", 15000, 0) + 50000
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Id", "LotArea", "OverallQual", "Street", "SalePrice"])
        for i in range(n):
            lot = "" if i % 11 == 0 else f"{area[i]:.1f}"
            w.writerow([i + 1, lot, quality[i], street[i], f"{price[i]:.0f}"])


def read_csv_text(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_regression_and_predict_on_new_rows(tmp_path):
    write_houses(tmp_path / "houses.csv")
    result = ok(run_cli(tmp_path, "train", "--dataset", "houses.csv", "--target", "SalePrice",
                        "--drop", "Id", "--epochs", "2", "--hidden", "32", "--name", "h"))
    assert "regression" in result.stdout and "test log-RMSE" in result.stdout
    t = json.loads((tmp_path / "runs/h/transform.json").read_text())
    assert set(t["numeric"]) == {"LotArea", "OverallQual"}
    assert t["categorical"] == {"Street": ["Grvl", "Pave"]}
    assert "Street=<missing>" in t["columns"] and t["task"] == "regression"
    mean, std = t["numeric"]["LotArea"]
    assert 100 < mean < 200 and std > 10
    (tmp_path / "new.csv").write_text("Id,LotArea,OverallQual,Street\n"
                                      "901,120.5,3,Pave\n902,,5,\n903,80,1,Dirt\n")
    out = ok(run_cli(tmp_path, "predict", "runs/h", "new.csv")).stdout
    rows = read_csv_text(out)
    assert [r["Id"] for r in rows] == ["901", "902", "903"]
    assert all(np.isfinite(float(r["SalePrice"])) for r in rows)
    # predict applies the stored transformation: recompute rows 902 (missing values)
    # and 903 (a street type unseen in training) by hand
    q_mean, q_std = t["numeric"]["OverallQual"]
    features = np.array([[0.0, (5 - q_mean) / q_std, 0, 0, 1],
                         [(80 - mean) / std, (1 - q_mean) / q_std, 0, 0, 0]])
    w = load_weights(tmp_path / "runs/h/model.safetensors")
    hidden = np.maximum(features @ w["0.weight"].T + w["0.bias"], 0)
    expected = (hidden @ w["2.weight"].T + w["2.bias"])[:, 0] * t["target_std"] + t["target_mean"]
    got = [float(r["SalePrice"]) for r in rows[1:]]
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    evaluation = ok(run_cli(tmp_path, "evaluate", "runs/h", "--json")).stdout
    assert "log_rmse" in json.loads(evaluation)


def test_csv_classification_with_text_target(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 2))
    lines = ["a,b,colour,label"] + [
        f"{x[i, 0]:.3f},{x[i, 1]:.3f},{'red' if i % 3 else ''},{'yes' if x[i, 0] > 0 else 'no'}"
        for i in range(120)]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    result = ok(run_cli(tmp_path, "train", "--dataset", "t.csv", "--target", "label",
                        "--epochs", "2", "--name", "c"))
    assert "2 classes" in result.stdout and "test accuracy" in result.stdout
    out = ok(run_cli(tmp_path, "predict", "runs/c", "t.csv")).stdout
    rows = read_csv_text(out)
    assert len(rows) == 120 and {r["label"] for r in rows} <= {"yes", "no"}
    assert set(rows[0]) == {"label", "p_no", "p_yes"}


@needs_matplotlib
def test_evaluate_predict_plot_round_trip(tmp_path):
    ok(run_cli(tmp_path, "train", "--epochs", "2", "--hidden", "32", "--name", "d", "--quiet"))
    stored = json.loads((tmp_path / "runs/d/metrics.json").read_text())["test"]["accuracy"]
    evaluated = json.loads(ok(run_cli(tmp_path, "evaluate", "runs/d", "--json")).stdout)
    assert evaluated["accuracy"] == pytest.approx(stored)
    from chainrule.vision.datasets import Digits
    test = Digits(train=False)
    images, labels = test.data.numpy(), test.targets.numpy()
    np.save(tmp_path / "x.npy", images)
    ok(run_cli(tmp_path, "predict", "runs/d", "x.npy", "--output", "p.csv"))
    predicted = np.array([int(r["prediction"]) for r in
                          read_csv_text((tmp_path / "p.csv").read_text())])
    assert np.mean(predicted == labels) == pytest.approx(stored)
    # the same images as CSV rows of 64 raw pixels
    np.savetxt(tmp_path / "x.csv", images[:7].reshape(7, 64), fmt="%d", delimiter=",")
    rows = read_csv_text(ok(run_cli(tmp_path, "predict", "runs/d", "x.csv")).stdout)
    assert [int(r["prediction"]) for r in rows] == predicted[:7].tolist()
    ok(run_cli(tmp_path, "plot", "runs/d"))
    for name in ("curves.png", "confusion_matrix.png", "gradient_flow.png"):
        assert (tmp_path / "runs/d" / name).stat().st_size > 1000
    ok(run_cli(tmp_path, "plot", "activations", "--output", "act.png"))
    assert (tmp_path / "act.png").stat().st_size > 1000


def test_datasets_lists_and_explains(tmp_path):
    out = ok(run_cli(tmp_path, "datasets")).stdout
    for word in ("digits", "synthetic-linear", "fashion-mnist", "mnist", "not downloaded",
                 "chainrule datasets download fashion-mnist", "t10k-images-idx3-ubyte.gz"):
        assert word in out


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "plot", "datasets"])
def test_help_has_an_example(tmp_path, command):
    out = ok(run_cli(tmp_path, command, "--help")).stdout
    assert "examples:" in out and f"chainrule {command}" in out
