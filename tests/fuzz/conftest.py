"""Reports how many random graphs the differential fuzz tests compared."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import fuzz_check  # noqa: E402
import fuzz_compile  # noqa: E402


def pytest_terminal_summary(terminalreporter):
    n = fuzz_check.COUNTER["graphs"]
    if n:
        terminalreporter.write_line(f"differential fuzzing: {n} random graphs compared with PyTorch")
    c = fuzz_compile.COUNTER
    if c["graphs"]:
        terminalreporter.write_line(
            f"compiled fuzzing: {c['graphs']} graphs, {c['replayed']} replayed bit for bit "
            f"like eager, {c['eager']} fell back to eager (with a warning); "
            f"{c['fused']} of them replayed with fused numba loops (mode='max-autotune'); "
            f"{c['nan_sign']} values differed from eager only in a NaN's sign")
