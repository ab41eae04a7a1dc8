"""RemovableHandle: what every register_*hook returns; `.remove()` unregisters the hook,
and used as a context manager it removes the hook on exit."""
import itertools

_next_id = itertools.count().__next__


class RemovableHandle:
    """Holds the id under which a hook sits in one or more dicts of hooks."""

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.id = _next_id()
        self.hooks_dicts = [hooks_dict]
        if extra_dict is not None:
            self.hooks_dicts += extra_dict if isinstance(extra_dict, list) else [extra_dict]

    def remove(self):
        for d in self.hooks_dicts:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def __repr__(self):
        return f"<RemovableHandle id={self.id}>"
