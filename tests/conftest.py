import numpy as np
import pytest


@pytest.fixture(autouse=True, scope="session")
def figures_out_of_the_checkout(tmp_path_factory):
    """Figures written where no path was named (train_ch3's curves outside Jupyter) go to
    a temporary folder rather than into the folder the tests run from."""
    from chainrule.runtime.figures import FIGURE_DIR_ENV
    patch = pytest.MonkeyPatch()
    patch.setenv(FIGURE_DIR_ENV, str(tmp_path_factory.mktemp("figures")))
    yield
    patch.undo()


@pytest.fixture(autouse=True, scope="session")
def messages_in_english():
    """The tests read chainrule's messages in English, whatever the locale they run in
    (tests/test_i18n.py sets a language where it means to)."""
    patch = pytest.MonkeyPatch()
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        patch.delenv(name, raising=False)
    patch.setenv("LANG", "C.UTF-8")
    yield
    patch.undo()


@pytest.fixture
def rng():
    return np.random.default_rng(0)
