"""tools/fuzz_campaign.py --compiled: a campaign of compiled replays against eager."""
import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("numba")
TOOL = Path(__file__).resolve().parents[2] / "tools" / "fuzz_campaign.py"


def _tool():
    spec = importlib.util.spec_from_file_location("fuzz_campaign_tool", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_compiled_campaign_checks_replays_against_eager_and_writes_nothing(capsys, tmp_path):
    tool = _tool()
    assert tool.main(["--graphs", "12", "--minutes", "2", "--seed", "3", "--compiled",
                      "max-autotune", "--profiles", "mixed,edge", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "fuzz campaign: 12 graphs run, 0 failing" in out
    assert "compiled (max-autotune):" in out and "graphs replayed bit for bit" in out
    assert list(tmp_path.iterdir()) == []


def test_a_compiled_campaign_reports_a_replay_that_differs(monkeypatch, capsys):
    tool = _tool()
    import fuzz_compile

    def differs(recipe, mode=None, repeat_first=False):
        raise fuzz_compile.Mismatch("call 2, value 0: compiled and eager differ")
    monkeypatch.setattr(fuzz_compile, "check_compiled", differs)
    assert tool.main(["--graphs", "2", "--compiled", "default", "--profiles", "mixed"]) == 1
    assert "compiled and eager differ" in capsys.readouterr().out
