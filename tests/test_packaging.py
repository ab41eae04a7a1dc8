"""pyproject.toml: `chainrule[all]` installs every feature extra, and the core needs only
NumPy, threadpoolctl and safetensors."""
import os
import re

import pytest

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11")

PYPROJECT = os.path.join(os.path.dirname(__file__), os.pardir, "pyproject.toml")
NOT_FEATURES = {"all", "test", "docs"}


def _project():
    with open(PYPROJECT, "rb") as f:
        return tomllib.load(f)["project"]


def _name(requirement):
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()


def test_all_extra_holds_every_requirement_of_every_feature_extra():
    extras = _project()["optional-dependencies"]
    features = {name: reqs for name, reqs in extras.items() if name not in NOT_FEATURES}
    assert {"plot", "viz", "sklearn", "mpi", "dask", "notebook"} <= set(features)
    missing = {f"{name}: {req}" for name, reqs in features.items() for req in reqs
               if req not in extras["all"]}
    assert not missing, f"chainrule[all] leaves out {sorted(missing)}"
    extra_in_all = set(extras["all"]) - {r for reqs in features.values() for r in reqs}
    assert not extra_in_all, f"chainrule[all] holds what no feature extra needs: {extra_in_all}"


def test_the_test_extra_installs_what_the_drawing_tests_use():
    extras = _project()["optional-dependencies"]
    assert set(extras["viz"]) <= set(extras["test"])


def test_core_dependencies_are_numpy_threadpoolctl_and_safetensors():
    assert sorted(map(_name, _project()["dependencies"])) == \
        ["numpy", "safetensors", "threadpoolctl"]
