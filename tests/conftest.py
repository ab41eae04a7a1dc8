import os

import numpy as np
import pytest

try:
    import torch
except ImportError:  # the differential tests need the oracle; in CI it must be there
    if os.environ.get("CI") == "true":
        raise
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) not installed")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
