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
    import subprocess
    import sys
    env = cli_env(tmp_path)
    env.update(env_update)
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
