"""Whether operations are recorded for autograd: no_grad, enable_grad, set_grad_enabled."""
import functools

# the one flag; read it with is_grad_enabled(). Only the per-op hot paths (ops/core.py,
# ops/indexing.py, tensor.py, views.py) read _state[0] inline; only backward() writes it
_state = [True]


def is_grad_enabled():
    return _state[0]


class _GradMode:
    """Context manager and decorator that sets grad mode and restores it on exit."""
    enabled = True

    def __enter__(self):
        self._prev = _state[0]
        _state[0] = self.enabled

    def __exit__(self, *exc):
        _state[0] = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    enabled = False


class enable_grad(_GradMode):
    enabled = True


class inference_mode(no_grad):
    def __init__(self, mode=True):
        self.enabled = not mode


class set_grad_enabled(_GradMode):
    def __init__(self, mode):
        self.enabled = bool(mode)
        self._prev = _state[0]
        _state[0] = self.enabled  # takes effect immediately, as in PyTorch

    def __enter__(self):
        pass

    def __call__(self, fn):
        _state[0] = self._prev
        enabled = self.enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(enabled):
                return fn(*args, **kwargs)
        return wrapper
