"""Messages in the user's language: with a Chinese locale the diagnosis (verdict, reasons,
remedies) and the command line read in Chinese, resolved as gettext resolves the
language; English otherwise; the compiled catalog is the .po's, and every message the code
marks is translated."""
import importlib.util
import re
from pathlib import Path

import pytest

from chainrule.train import History, diagnose
from cli_helpers import assert_usage_error, cli_env, ok

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "src" / "chainrule" / "runtime" / "locale" / "zh_CN" / "LC_MESSAGES" / "chainrule.po"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _catalog_tool():
    spec = importlib.util.spec_from_file_location("i18n_catalog", ROOT / "tools" / "i18n_catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(tmp_path, env_update, *args):
    """The command line in tmp_path; a None in env_update unsets that variable."""
    import subprocess
    import sys
    env = cli_env(tmp_path)
    env.update(env_update)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run([sys.executable, "-m", "chainrule.cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_chainrule_train_reads_in_chinese_under_a_chinese_lang(tmp_path):
    out = ok(_run(tmp_path, {"LANG": "zh_CN.UTF-8"}, "train", "--epochs", "1",
                  "--name", "one")).stdout
    assert "诊断：训练轮数太少 - 只训练了 1 轮" in out, out
    assert "建议：训练更久：10 轮 (epochs=10)" in out and "对应参数：--epochs 10" in out
    assert "测试准确率" in out and "已保存到 runs/one/" in out
    assert "TOO FEW EPOCHS" not in out and "Diagnosis:" not in out


@pytest.mark.slow
def test_chainrule_train_reads_in_english_by_default(tmp_path):
    out = ok(_run(tmp_path, {}, "train", "--epochs", "1", "--name", "one")).stdout
    assert "Diagnosis: TOO FEW EPOCHS - only 1 epoch(s)" in out
    assert "try: train longer: 10 epochs (epochs=10)" in out
    assert not CJK.search(out), out


@pytest.mark.slow
def test_a_command_line_mistake_is_one_chinese_line_under_language(tmp_path):
    line = assert_usage_error(_run(tmp_path, {"LANGUAGE": "zh_CN"}, "train", "--resume",
                                   "runs/x", "--overwrite"))
    assert line == "chainrule：错误：--resume 与 --overwrite 互相矛盾；只能用其中一个"


# ---- the other commands -----------------------------------------------------------------
ZH = {"LANG": "zh_CN.UTF-8"}
NO_LOCALE = {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": None}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A folder holding runs/one, trained for one epoch on the digits, and 3 raw images."""
    import numpy as np
    folder = tmp_path_factory.mktemp("i18n_run")
    ok(_run(folder, {}, "train", "--epochs", "1", "--name", "one", "--quiet"))
    np.save(folder / "images.npy", np.arange(3 * 64).reshape(3, 8, 8) % 17)
    return folder


@pytest.mark.slow
def test_chainrule_evaluate_reads_in_chinese_under_a_chinese_lang(trained):
    out = ok(_run(trained, ZH, "evaluate", "runs/one")).stdout.splitlines()
    assert out[0] == "runs/one：mlp 64-256-128-10, relu，数据集 digits", out
    assert out[1].startswith("测试准确率：") and "测试损失：" in out[1], out
    assert out[1].endswith("（359 个测试样本）"), out


@pytest.mark.slow
def test_chainrule_evaluate_reads_in_english_by_default(trained):
    out = ok(_run(trained, NO_LOCALE, "evaluate", "runs/one")).stdout
    assert out.startswith("runs/one: mlp 64-256-128-10, relu on digits\ntest accuracy: "), out
    assert out.rstrip().endswith("(359 test rows)") and not CJK.search(out), out


@pytest.mark.slow
def test_chainrule_predict_reads_in_chinese_under_a_chinese_lang(trained):
    result = ok(_run(trained, ZH, "predict", "runs/one", "images.npy", "-o", "zh.csv",
                     "--overwrite"))
    assert result.stdout == "已将 3 条预测写入 zh.csv\n"
    header = (trained / "zh.csv").read_text().splitlines()[0]
    assert header.startswith("prediction,p_0,")  # the CSV is a file format: not translated


@pytest.mark.slow
def test_chainrule_predict_reads_in_english_by_default(trained):
    result = ok(_run(trained, NO_LOCALE, "predict", "runs/one", "images.npy", "-o", "en.csv",
                     "--overwrite"))
    assert result.stdout == "3 predictions written to en.csv\n"


@pytest.mark.slow
def test_chainrule_predict_warns_in_chinese_about_prescaled_images(trained):
    import numpy as np
    np.save(trained / "scaled.npy", np.full((2, 8, 8), 0.5))
    result = ok(_run(trained, ZH, "predict", "runs/one", "scaled.npy"))
    assert result.stderr.startswith("chainrule：警告：scaled.npy 中的所有值都在 0..1 之间"), \
        result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("args,line", [
    (("evaluate", "runs/none"),
     "chainrule：错误：训练目录 runs/none 不存在；训练目录由 `chainrule train` 创建"
     "（默认在 ./runs/ 下）"),
    (("evaluate",),
     "chainrule evaluate：错误：缺少以下必需参数：RUN（参见 `chainrule evaluate --help`）"),
    (("evaluate", "runs/one", "--jsn"),
     "chainrule evaluate：错误：无法识别的参数：--jsn；你是想用 --json 吗？"
     "（参见 `chainrule evaluate --help`）"),
    (("predict", "runs/one", "missing.npy"), "chainrule：错误：输入文件 missing.npy 不存在"),
    (("predict", "runs/one", "runs/one/config.json"),
     "chainrule：错误：输入 runs/one/config.json 必须是 .npy 或 .csv 文件"),
    (("plot", "runs/one", "--output", "a.png"),
     "chainrule：错误：--output 只适用于 `chainrule plot activations`；训练的图会写入训练目录"),
    (("plot", "activations", "--output", "act.gif"),
     "chainrule：错误：--output act.gif：请使用 .png、.svg 或 .pdf 文件名"),
])
def test_a_mistake_in_evaluate_predict_or_plot_is_one_chinese_line(trained, args, line):
    assert assert_usage_error(_run(trained, ZH, *args)) == line


@pytest.mark.slow
def test_the_same_mistakes_stay_english_by_default(trained):
    line = assert_usage_error(_run(trained, NO_LOCALE, "plot", "runs/one", "--output", "a.png"))
    assert line == ("chainrule: error: --output applies to `chainrule plot activations`; "
                    "run figures go into the run folder")
    line = assert_usage_error(_run(trained, NO_LOCALE, "evaluate"))
    assert line == ("chainrule evaluate: error: the following arguments are required: RUN "
                    "(see `chainrule evaluate --help`)")


def test_a_bad_flag_value_is_explained_in_chinese(monkeypatch, capsys):
    from chainrule.cli import main
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    with pytest.raises(SystemExit) as stop:
        main(["train", "--lr", "-1"])
    assert stop.value.code == 2
    assert capsys.readouterr().err == ("chainrule train：错误：参数 --lr：必须是正数，但得到的是 "
                                       "'-1'（参见 `chainrule train --help`）\n")


def test_argparse_is_left_as_it_was_after_a_command_line_is_parsed(monkeypatch):
    import argparse
    from chainrule.cli import build_parser
    before = argparse._
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    build_parser().parse_known_args(["evaluate", "runs/x"])
    with pytest.raises(SystemExit):
        build_parser().parse_known_args(["evaluate"])
    assert argparse._ is before


def test_a_config_file_mistake_reads_in_chinese(monkeypatch, tmp_path):
    from chainrule.cli import CLIError
    from chainrule.cli.config import read_toml
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    path = tmp_path / "settings.toml"
    path.write_text('lr = 0\nepochs = 5\n')
    with pytest.raises(CLIError) as err:
        read_toml(str(path))
    assert str(err.value) == f"{path}：lr 必须是正数，但得到的是 0"
    path.write_text('epoch = 5\n')
    with pytest.raises(CLIError, match="未知的设置 'epoch'；可用的设置：dataset, target"):
        read_toml(str(path))


def _too_few_epochs():
    h = History({"loss": [2.3]}, [0], params={"lr": 0.1, "epochs": 1})
    h.signals = {}
    return h


@pytest.mark.parametrize("env,chinese", [
    ({"LANG": "zh_CN.UTF-8"}, True),
    ({"LC_MESSAGES": "zh_CN.UTF-8"}, True),
    ({"LANGUAGE": "zh_CN:en", "LANG": "C.UTF-8"}, True),
    ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, False),   # LC_ALL comes first in gettext's order
    ({"LANGUAGE": "fr", "LANG": "C.UTF-8"}, False),     # no French catalog: English
])
def test_the_language_is_resolved_as_gettext_resolves_it(monkeypatch, env, chinese):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    d = diagnose(_too_few_epochs())
    assert d.verdict == "too few epochs"  # the verdict is a key, whatever the language
    assert bool(CJK.search(str(d))) == chinese, str(d)
    assert (d.reason.startswith("只训练了 1 轮") if chinese
            else d.reason.startswith("only 1 epoch(s)"))
    assert (d.remedies[0] == "训练更久：10 轮 (epochs=10)" if chinese
            else d.remedies[0] == "train longer: 10 epochs (epochs=10)")


def test_the_compiled_catalog_is_the_po_file():
    pytest.importorskip("babel")
    from babel.messages.mofile import read_mo
    tool = _catalog_tool()
    with open(PO.with_suffix(".mo"), "rb") as f:
        compiled = tool.messages(read_mo(f))
    assert compiled == tool.messages(tool.read_po(PO))
    assert len(compiled) > 90


def test_every_marked_message_is_translated_with_the_same_fields():
    pytest.importorskip("babel")
    tool = _catalog_tool()
    assert tool.problems(PO) == []
    assert "only {n} epoch(s): too few to read a learning curve (at least {needed} are " \
           "needed)" in tool.extract()
