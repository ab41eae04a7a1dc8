"""Where figures and progress bars go: whether code runs in a Jupyter kernel, and
matplotlib's pyplot with the file-only Agg backend when nothing could show a window
(a machine without a display, outside Jupyter, with no MPLBACKEND chosen by the user)."""
import os
import sys


def in_notebook():
    """True inside a Jupyter kernel, where figures and widgets are shown inline."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
        shell = get_ipython()
    except Exception:  # IPython missing or half-initialised
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


def _headless():
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("MPLBACKEND") or sys.platform in ("win32", "darwin")
                or "ipykernel" in sys.modules)


def pyplot(needed_by):
    """matplotlib.pyplot, switched to Agg first on a headless machine; `needed_by` names
    what wanted it in the ImportError when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(f"{needed_by} need matplotlib: pip install matplotlib") from None
    if _headless() and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt
