"""Anomaly detection: name the operation that first produced NaN or inf.

    with chainrule.autograd.detect_anomaly():
        loss = model(x)      # forward: an op whose finite inputs give nan/inf raises
        loss.backward()      # backward: a gradient rule returning nan/inf raises

Off by default and free when off: the recorder and the engine each test one flag.
Forward checks cover recorded ops (those on tensors that require grad), which is where
a bad gradient can come from.
"""
import os
import sys
import weakref

import numpy as np

_enabled = [False]
# per recorded node: its input shapes and where the user's code created it
_origin = weakref.WeakKeyDictionary()
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def is_anomaly_enabled():
    return _enabled[0]


class set_detect_anomaly:
    """`set_detect_anomaly(True)` switches anomaly mode on now; used in a `with`
    statement it restores the previous mode on exit."""

    def __init__(self, mode, check_nan=True):
        self.prev = _enabled[0]
        _enabled[0] = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _enabled[0] = self.prev
        return False


class detect_anomaly:
    """Context manager (or decorator) turning anomaly mode on for its block."""

    def __init__(self, check_nan=True):
        self.prev = None

    def __enter__(self):
        self.prev = _enabled[0]
        _enabled[0] = True
        return self

    def __exit__(self, *exc):
        _enabled[0] = self.prev
        return False

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with detect_anomaly():
                return fn(*args, **kwargs)
        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        return wrapper


def _user_frame():
    """The first caller outside chainrule: where the op appears in the user's code."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:
        return "unknown location"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


def _bad(values):
    """'nan', 'inf' or None for an array or number."""
    values = np.asarray(getattr(values, "_data", values))
    if values.dtype.kind != "f":
        return None
    if np.isnan(values).any():
        return "nan"
    if np.isinf(values).any():
        return "inf"
    return None


def _shapes(shapes):
    return ", ".join(str(tuple(s)) for s in shapes) or "none"


def check_forward(node, arrays, params, out):
    """Called by the recorder for every new node while anomaly mode is on."""
    shapes = [np.shape(a) for a in arrays if a is not None]
    where = _user_frame()
    _origin[node] = (shapes, where)
    problem = _bad(out)
    if problem is None:
        return
    for a in list(arrays) + list(params):
        if isinstance(a, (np.ndarray, float, np.floating)) and _bad(a):
            return  # the bad value came in from outside; not this op's doing
    raise RuntimeError(f"Function '{node.op.name}' produced {problem} values in its forward "
                       f"output from finite inputs of shapes {_shapes(shapes)}, at {where}")


def check_backward(node, i, grad, incoming):
    """Called by the engine for each gradient a rule returns while anomaly mode is on."""
    problem = _bad(grad)
    if problem is None or _bad(incoming):
        return  # nan/inf that was passed in is reported where it was first made
    shapes, where = _origin.get(node, (None, None))
    detail = f"; input shapes {_shapes(shapes)}" if shapes is not None else ""
    origin = f"; the forward op was created at {where}" if where else ""
    raise RuntimeError(f"Function '{node.op.name}' returned {problem} values in its {i}th "
                       f"output (gradient shape {tuple(np.shape(getattr(grad, '_data', grad)))})"
                       f"{detail}{origin}")
