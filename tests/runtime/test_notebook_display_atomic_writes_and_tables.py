"""The shared helpers behind the training layer, the d2l plots and the command line:
notebook detection, headless matplotlib, atomic text writes, tables, which way a metric
improves, and the shape check of a linear map."""
import os
import subprocess
import sys
import textwrap
import types

import pytest

import chainrule as cr
from chainrule import nn
from chainrule.runtime.atomic_files import atomic_write_text
from chainrule.runtime.notebook_display import in_notebook
from chainrule.train.metrics import resolve_mode
from chainrule.train.tables import format_table


def _fake_ipython(monkeypatch, shell):
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", ipython)


def test_in_notebook_needs_a_kernel_behind_the_shell(monkeypatch):
    _fake_ipython(monkeypatch, types.SimpleNamespace(kernel=object()))
    assert in_notebook()
    _fake_ipython(monkeypatch, types.SimpleNamespace())  # a terminal IPython shell
    assert not in_notebook()
    _fake_ipython(monkeypatch, None)
    assert not in_notebook()


def test_in_notebook_is_false_without_ipykernel(monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    assert not in_notebook()


def test_progress_and_d2l_use_the_same_notebook_detection():
    from chainrule.d2l import plotting
    from chainrule.train import progress
    assert plotting.in_notebook is in_notebook and progress.in_notebook is in_notebook


@pytest.mark.slow
@pytest.mark.parametrize("entry", ["chainrule.train.plots._plt()", "chainrule.d2l.plt"])
def test_headless_pyplot_honours_mplbackend(tmp_path, entry):
    pytest.importorskip("matplotlib", reason="the backend choice needs matplotlib")
    script = textwrap.dedent(f"""
        import chainrule.train.plots, chainrule.d2l, matplotlib
        {entry}
        print(matplotlib.get_backend().lower())
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    for chosen, expected in (("svg", "svg"), (None, "agg")):
        env.pop("MPLBACKEND", None)
        if chosen:
            env["MPLBACKEND"] = chosen
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == expected


def test_atomic_write_text_replaces_the_file_whole_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("old")
    atomic_write_text(path, "néw\n")
    assert path.read_bytes() == "néw\n".encode("utf-8")
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_history_and_search_tables_share_one_layout():
    assert format_table(["a", "long"], [["1", "2"], ["333", "4"]]) == \
        "  a  long\n---  ----\n  1     2\n333     4"
    assert format_table(["epoch"], []) == "epoch\n-----"
    h = cr.train.History()
    h.append(0, {"loss": 0.5})
    assert h.to_table() == format_table(["epoch", "loss"], [["1", "0.5000"]])


def test_tables_align_each_column_left_or_right_with_an_optional_rule():
    assert format_table(["name", "n"], [["ab", "1"], ["c", "100"]], align="lr", sep=" | ",
                        rule=None) == "name |   n\nab   |   1\nc    | 100"
    with pytest.raises(ValueError, match="align must give 'l' or 'r' for each of the 2"):
        format_table(["a", "b"], [], align="l")


def test_k_fold_table_lists_mean_std_and_each_fold_in_columns():
    histories = []
    for v in (0.5, 0.25):
        h = cr.train.History()
        h.append(0, {"loss": v, "lr": 0.1})
        histories.append(h)
    res = cr.train.KFoldResult(histories, 2, [(None, [0, 1]), (None, [2])])
    assert res.to_table() == ("2-fold cross-validation (fold sizes [2, 1])\n"
                              "metric       mean ± std  fold 1  fold 2\n"
                              "------  ---------------  ------  ------\n"
                              "loss    0.3750 ± 0.1250  0.5000  0.2500")


def test_summary_and_gradient_monitor_tables_share_the_column_layout():
    net = nn.Sequential(nn.Linear(2, 3))
    text = str(cr.summary(net, (1, 2), verbose=0)).split("\n")
    assert text[:4] == ["=" * 37, "Layer (type)   Output Shape   Param #",
                        "=" * 37, "0 (Linear)     [1, 3]               9"]
    monitor = cr.train.GradientMonitor()
    monitor.norms, monitor.total = {"0.weight": [1.0, 0.5], "0.bias": [2.0]}, [3.0, 1.5]
    assert monitor.summary() == ("parameter   epoch 1   epoch 2\n"
                                 "---------  --------  --------\n"
                                 "0.weight   1.00e+00  5.00e-01\n"
                                 "0.bias     2.00e+00         -")


@pytest.mark.parametrize("monitor, mode", [
    ("loss", "min"), ("val_loss", "min"), ("val_rmse", "min"), ("my_error", "min"),
    ("accuracy", "max"), ("val_top3_accuracy", "max"), ("val_auc", "max")])
def test_resolve_mode_from_the_metric_name(monitor, mode):
    assert resolve_mode(monitor) == mode
    assert cr.train.EarlyStopping(monitor=monitor).mode == mode
    h = cr.train.History()
    for e, v in enumerate([3.0, 1.0, 2.0]):
        h.append(e, {monitor: v})
    assert h.best_epoch(monitor) == (1 if mode == "min" else 0)


def test_resolve_mode_refuses_an_unknown_name_and_a_bad_mode():
    with pytest.raises(ValueError, match="cannot tell whether 'zorp'"):
        resolve_mode("zorp")
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'"):
        resolve_mode("loss", "down")


def test_linear_layer_and_functional_report_the_same_shape_check():
    x, lin = cr.randn(2, 5), nn.Linear(7, 3)
    with pytest.raises(RuntimeError) as functional:
        nn.functional.linear(x, lin.weight, lin.bias)
    with pytest.raises(RuntimeError) as layer:
        lin(x)
    assert str(functional.value).startswith("linear: got an input of shape (2, 5)")
    assert str(layer.value) == ("Linear(in_features=7, out_features=3): "
                                + str(functional.value)[len("linear: "):])
    with pytest.raises(TypeError, match=r"Linear\(in_features=7.*expected the input to be a "
                                        "tensor, got list"):
        lin([1.0] * 7)
