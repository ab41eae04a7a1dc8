"""Regression tests replay fuzzer recipes through the shared checker in tests/fuzz."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "fuzz"))
