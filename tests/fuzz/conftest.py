"""Reports how many random graphs the differential fuzz tests compared."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import fuzz_check  # noqa: E402


def pytest_terminal_summary(terminalreporter):
    n = fuzz_check.COUNTER["graphs"]
    if n:
        terminalreporter.write_line(f"differential fuzzing: {n} random graphs compared with PyTorch")
