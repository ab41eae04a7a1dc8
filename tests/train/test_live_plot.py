"""Live learning curves outside Jupyter: LivePlot (fit) and d2l.Animator write their
figure to a file, atomically, and say where. The notebook side is executed for real in
test_live_plot_notebook.py."""
import os
import struct
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="live curves need matplotlib, which is not installed")

import chainrule as cr  # noqa: E402
from chainrule import d2l, nn, optim  # noqa: E402
from chainrule.runtime.figures import FIGURE_DIR_ENV  # noqa: E402
from chainrule.train import LivePlot, fit  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _data(n=96, seed=0):
    g = np.random.default_rng(seed)
    X = g.standard_normal((n, 4)).astype(np.float32)
    return X, X.argmax(1).astype(np.int64)


def _fit(callbacks, epochs=3, **kwargs):
    cr.manual_seed(0)
    net = nn.Linear(4, 4)
    X, y = _data()
    kwargs.setdefault("validation_split", 0.25)
    kwargs.setdefault("progress", True)
    return fit(net, (X, y), loss=nn.CrossEntropyLoss(), epochs=epochs, seed=0,
               optimizer=optim.SGD(net.parameters(), lr=0.5), batch_size=16,
               callbacks=callbacks, **kwargs)


def _png_size(path):
    """(width, height) of a complete PNG file: every chunk's CRC checks, IEND ends it."""
    data = open(path, "rb").read()
    assert data.startswith(PNG_SIGNATURE), f"{path} is not a PNG file"
    pos, kinds = len(PNG_SIGNATURE), []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"{path}: chunk {kind!r} is damaged"
        kinds.append(kind)
        pos += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    return struct.unpack(">II", data[16:24])


def _no_temporaries(folder):
    left = [f for f in os.listdir(folder) if f.endswith(".tmp")]
    assert not left, f"temporary files left behind: {left}"


@pytest.mark.slow
def test_liveplot_writes_a_png_of_every_epoch_and_names_the_path_once(tmp_path, capsys):
    path = tmp_path / "curves.png"
    live = LivePlot(path, min_interval=0)
    h = _fit([live], epochs=3)
    width, height = _png_size(path)
    assert width > 300 and height > 200
    assert live.draws == 3  # one redraw per epoch, none more at the end
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if str(path) in ln]
    assert len(lines) == 1 and "learning curves" in lines[0]
    assert any(str(path) in note for note in h.notes)
    _no_temporaries(tmp_path)


@pytest.mark.slow
def test_liveplot_curves_are_the_histories_numbers(tmp_path):
    live = LivePlot(tmp_path / "c.png", min_interval=0)
    h = _fit([live], epochs=4, metrics=["accuracy"])
    loss_ax, acc_ax = live.fig.axes[:2]
    train, val = loss_ax.get_lines()[:2]
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(train.get_ydata(), h["loss"])
    np.testing.assert_array_equal(val.get_ydata(), h["val_loss"])
    np.testing.assert_array_equal(acc_ax.get_lines()[1].get_ydata(), h["val_accuracy"])
    assert loss_ax.get_title() == "loss" and acc_ax.get_title() == "accuracy"


def test_liveplot_svg_file_is_well_formed_svg(tmp_path):
    path = tmp_path / "sub" / "curves.svg"  # a missing folder is made
    _fit([LivePlot(path, min_interval=0)], epochs=2, progress=False)
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    assert "val" in path.read_text()  # the validation legend was drawn
    _no_temporaries(path.parent)


def test_liveplot_without_a_path_writes_into_the_figure_folder(tmp_path, monkeypatch,
                                                               capsys):
    monkeypatch.setenv(FIGURE_DIR_ENV, str(tmp_path))
    live = LivePlot(min_interval=0)
    _fit([live], epochs=2)
    expected = tmp_path / "training_curves.png"
    assert live.written == str(expected)
    _png_size(expected)
    assert f"learning curves: {expected}" in capsys.readouterr().out


def test_liveplot_quiet_when_progress_is_off_but_notes_the_path(tmp_path, capsys):
    path = tmp_path / "c.png"
    h = _fit([LivePlot(path, min_interval=0)], epochs=2, progress=False)
    assert capsys.readouterr().out == ""
    assert [n for n in h.notes if str(path) in n]


def test_liveplot_min_interval_skips_redraws_but_always_draws_the_last_epoch(tmp_path):
    live = LivePlot(tmp_path / "c.png", min_interval=3600)
    _fit([live], epochs=5)
    assert live.draws == 2  # the first epoch, then the end of training
    np.testing.assert_array_equal(live.fig.axes[0].get_lines()[0].get_xdata(),
                                  [1, 2, 3, 4, 5])


def test_liveplot_after_resume_draws_the_epochs_before_the_restart(tmp_path):
    ckpt = tmp_path / "ckpt"
    _fit([], epochs=2, checkpoint_dir=ckpt, progress=False)
    live = LivePlot(tmp_path / "c.png", min_interval=0)
    h = _fit([live], epochs=4, checkpoint_dir=ckpt, resume=True, progress=False)
    line = live.fig.axes[0].get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(line.get_ydata(), h["loss"])


def test_liveplot_failing_write_keeps_the_previous_file_whole(tmp_path, monkeypatch):
    from matplotlib.figure import Figure
    path = tmp_path / "c.png"
    _fit([LivePlot(path, min_interval=0)], epochs=1, progress=False)
    before = path.read_bytes()

    def broken_savefig(self, fname, **kwargs):
        fname.write(before[:100])  # part of an image, then the disk fills up
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match=r"LivePlot: could not write the learning curves to "
                                      r".*c\.png.*No space left"):
        _fit([LivePlot(path, min_interval=0)], epochs=1, progress=False)
    assert path.read_bytes() == before
    _no_temporaries(tmp_path)


def test_liveplot_failing_first_write_leaves_no_file(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    def broken_savefig(self, fname, **kwargs):
        fname.write(b"\x89PNG half")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="LivePlot"):
        _fit([LivePlot(tmp_path / "c.png", min_interval=0)], epochs=1, progress=False)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name", ["curves", "curves.xyz", "curves.png.bak"])
def test_liveplot_refuses_a_path_that_names_no_image_format(tmp_path, name):
    with pytest.raises(ValueError, match=r"LivePlot: cannot write a figure to .*"
                                         r"must name an image format.*\.png.*\.svg"):
        LivePlot(tmp_path / name)


def test_liveplot_names_a_metric_that_is_not_logged(tmp_path):
    with pytest.raises(ValueError, match=r"no curve for \['top3_accuracy'\]: the history "
                                         r"records \[.*'val_loss'"):
        _fit([LivePlot(tmp_path / "c.png", metrics="top3_accuracy")], epochs=1,
             progress=False)
    assert not (tmp_path / "c.png").exists()


def test_liveplot_metrics_as_one_name_draws_loss_and_that_metric(tmp_path):
    live = LivePlot(tmp_path / "c.png", metrics="accuracy", min_interval=0)
    _fit([live], epochs=2, metrics=["accuracy", "top3_accuracy"], progress=False)
    assert [ax.get_title() for ax in live.fig.axes] == ["loss", "accuracy"]


@pytest.mark.parametrize("bad", [-1, float("nan"), "1", True])
def test_liveplot_refuses_a_bad_min_interval(bad):
    with pytest.raises(ValueError, match="LivePlot: min_interval"):
        LivePlot(min_interval=bad)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point
def test_liveplot_with_a_nan_loss_still_writes_the_curves(tmp_path):
    cr.manual_seed(0)
    net = nn.Linear(4, 4)
    X, y = _data()
    path = tmp_path / "c.png"  # a learning rate of 1e30 overflows the weights at once
    h = fit(net, (X * 1e5, y), loss=nn.CrossEntropyLoss(), epochs=3, seed=0, batch_size=16,
            optimizer=optim.SGD(net.parameters(), lr=1e30), progress=False,
            callbacks=[LivePlot(path, min_interval=0)])
    assert h.stop_reason == "nan"
    _png_size(path)


# ---- d2l.Animator ------------------------------------------------------------------

def test_animator_finish_writes_its_path_and_prints_it(tmp_path, capsys):
    path = tmp_path / "anim.svg"
    anim = d2l.Animator(xlabel="epoch", legend=["a", "b"], path=path)
    for epoch in range(1, 4):
        anim.add(epoch, (1 / epoch, epoch / 4))
    assert not path.exists()  # scripts record points; the file comes at the end
    assert anim.finish() == str(path)
    assert ET.parse(path).getroot().tag.endswith("svg")
    assert capsys.readouterr().out.strip() == f"Animator: figure written to {path}"
    np.testing.assert_allclose(anim.axes[0].get_lines()[0].get_ydata(), [1, 0.5, 1 / 3])


def test_animator_without_a_path_writes_nothing_on_finish(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    anim = d2l.Animator()
    anim.add(1, 0.5)
    assert anim.finish() is None
    assert os.listdir(tmp_path) == [] and capsys.readouterr().out == ""


def test_animator_refuses_a_path_that_names_no_image_format(tmp_path):
    with pytest.raises(ValueError, match="Animator: cannot write a figure to"):
        d2l.Animator(path=tmp_path / "curves.txt")


def test_animator_failing_save_leaves_nothing_half_written(tmp_path, monkeypatch):
    from matplotlib.figure import Figure
    anim = d2l.Animator(legend=["a"])
    anim.add(1, 0.5)

    def broken_savefig(self, fname, **kwargs):
        fname.write(b"<svg")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="No space left"):
        anim.save(tmp_path / "a.svg")
    assert os.listdir(tmp_path) == []


def test_train_ch3_outside_jupyter_writes_its_curves_and_says_where(tmp_path, monkeypatch,
                                                                     capsys):
    monkeypatch.setenv(FIGURE_DIR_ENV, str(tmp_path))
    cr.manual_seed(0)
    X, y = (cr.from_numpy(a) for a in _data(64))
    it = d2l.load_array((X, y), 16)
    net = nn.Sequential(nn.Linear(4, 4))
    d2l.train_ch3(net, it, it, nn.CrossEntropyLoss(reduction="none"), 2,
                  optim.SGD(net.parameters(), lr=0.5), check=False)
    path = tmp_path / "train_ch3.png"
    _png_size(path)
    assert capsys.readouterr().out.strip() == f"Animator: figure written to {path}"
    _no_temporaries(tmp_path)


def test_train_ch3_with_a_user_animator_writes_no_extra_file(tmp_path, monkeypatch):
    monkeypatch.setenv(FIGURE_DIR_ENV, str(tmp_path))
    cr.manual_seed(0)
    X, y = (cr.from_numpy(a) for a in _data(64))
    it = d2l.load_array((X, y), 16)
    net = nn.Sequential(nn.Linear(4, 4))
    anim = d2l.Animator(legend=["train loss", "train acc", "test acc"])
    d2l.train_ch3(net, it, it, nn.CrossEntropyLoss(reduction="none"), 2,
                  optim.SGD(net.parameters(), lr=0.5), animator=anim, check=False)
    assert os.listdir(tmp_path) == [] and len(anim.X[0]) == 2
