"""Running the `chainrule` command in a subprocess, as a user would."""
import os
import subprocess
import sys

import numpy as np


def cli_env(tmp_path):
    env = dict(os.environ)
    env["CHAINRULE_DATA"] = str(tmp_path / "data")  # never touch the user's cache
    env["MPLBACKEND"] = "Agg"
    env.pop("CHAINRULE_TRACEBACK", None)
    return env


def run_cli(tmp_path, *args, timeout=120):
    return subprocess.run([sys.executable, "-m", "chainrule.cli", *map(str, args)],
                          cwd=tmp_path, env=cli_env(tmp_path), capture_output=True, text=True,
                          timeout=timeout)


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def assert_usage_error(result):
    """Exit status 2, exactly one line on stderr, no traceback."""
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def write_tiny_idx(root, folder, n_train=60, n_test=20, seed=0):
    """Fake MNIST-format files in torchvision's layout root/<folder>/raw/."""
    from chainrule.vision.datasets import write_idx
    rng = np.random.default_rng(seed)
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        images[np.arange(n), labels * 2, :] = 255  # a learnable stripe per class
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return root


def load_weights(path):
    import chainrule
    return {k: v.numpy() for k, v in chainrule.load_safetensors(path).items()}
