"""d2l helpers as a learner meets them on the bundled digits: train_ch3's curves stay in
view, its final check says what to do, predict_ch3 outside Jupyter writes its figure, and
the README's snippet passes d2l's check offline."""
import pytest

import chainrule as torch
from chainrule import d2l, nn


def _net():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    net.apply(lambda m: nn.init.normal_(m.weight, std=0.01) if type(m) == nn.Linear else None)
    return net


def test_animator_keeps_d2ls_range_when_it_fits_and_grows_when_not():
    animator = d2l.Animator(ylim=[0.3, 0.9], ylim_grows=True)
    animator.add(1, (0.5, 0.6))
    assert animator.shown_ylim() == [0.3, 0.9]
    animator.add(2, (2.3, 0.1))
    low, high = animator.shown_ylim()
    assert low < 0.1 and high > 2.3
    fixed = d2l.Animator(ylim=[0.3, 0.9])
    fixed.add(1, 2.3)
    assert fixed.shown_ylim() == [0.3, 0.9]  # d2l's Animator as the book has it


def test_train_ch3_shows_a_loss_above_its_range(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_FIGURE_DIR", str(tmp_path))
    made = []
    real = d2l.training.Animator

    def recording(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]
    monkeypatch.setattr(d2l.training, "Animator", recording)
    train_iter, test_iter = d2l.load_data_digits(256, resize=28)
    d2l.train_ch3(_net(), train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), 2,
                  torch.optim.SGD(_net().parameters(), lr=0.1), check=False)
    loss = d2l.last_history().history["loss"][0]
    assert loss > 0.9 and made[0].shown_ylim()[1] > loss
    assert (tmp_path / "train_ch3.png").is_file()


def test_train_ch3s_failed_check_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_FIGURE_DIR", str(tmp_path))
    train_iter, test_iter = d2l.load_data_digits(256, resize=28)
    net = _net()
    with pytest.raises(AssertionError, match=r"diagnose\(d2l.last_history\(\)\).*check=False"):
        d2l.train_ch3(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), 2,
                      torch.optim.SGD(net.parameters(), lr=0.1))


@pytest.mark.slow
def test_readmes_snippet_on_the_digits_passes_d2ls_check_with_20_epochs(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_FIGURE_DIR", str(tmp_path))
    net = _net()
    train_iter, test_iter = d2l.load_data_digits(256, resize=28)
    d2l.train_ch3(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), 20,
                  torch.optim.SGD(net.parameters(), lr=0.1))
    train_loss, train_acc, test_acc = d2l.last_history()
    assert train_loss < 0.5 and train_acc > 0.7 and test_acc > 0.7


def test_predict_ch3_outside_jupyter_writes_its_figure_and_says_where(tmp_path, monkeypatch,
                                                                     capsys):
    monkeypatch.setenv("CHAINRULE_FIGURE_DIR", str(tmp_path))
    _, test_iter = d2l.load_data_digits(32, resize=28)
    assert d2l.predict_ch3(_net(), test_iter) is None
    path = tmp_path / "predict_ch3.png"
    assert path.is_file() and path.stat().st_size > 0
    assert f"predict_ch3: figure written to {path}" in capsys.readouterr().out
