"""An optimizer's hyperparameters as a recording reads them.

`optimizer.step()` and `scheduler.step()` are replayed as calls, so they read
`param_groups` afresh every time (a scheduler changes "lr" between steps). The function's
own code may read a group too (`loss * opt.param_groups[0]["lr"]`): that value is baked
into the recording and must be guarded. While a call is recorded, each group is a dict
that notes the keys read outside those calls; afterwards the original dicts come back,
with whatever the call wrote."""
from ..runtime import recording_hooks


class _WatchedGroup(dict):
    __slots__ = ("reads", "writes")

    def _note(self, key, value):
        recorder = recording_hooks.ACTIVE[0]
        if recorder is not None and not recorder.suspended and key != "params":
            self.reads.setdefault(key, value)

    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        self._note(key, value)
        return value

    def get(self, key, default=None):
        value = dict.get(self, key, default)
        if key in self:
            self._note(key, value)
        return value

    def __setitem__(self, key, value):
        recorder = recording_hooks.ACTIVE[0]
        if recorder is not None and not recorder.suspended:
            self.writes.append(key)
        dict.__setitem__(self, key, value)


def watch(optimizers):
    watched = []
    for opt in optimizers:
        for i, group in enumerate(opt.param_groups):
            if type(group) is not dict:
                continue
            w = _WatchedGroup(group)
            w.reads, w.writes = {}, []
            opt.param_groups[i] = w
            watched.append((opt, i, group, w))
    return watched


def unwatch(watched, recorder):
    """Put the original groups back; the guards on what was read: [(holder, key, value,
    where)]."""
    reads = []
    for opt, i, group, w in watched:
        group.update(w)
        if opt.param_groups[i] is w:
            opt.param_groups[i] = group
        where = f"{type(opt).__name__}.param_groups[{i}]"
        for key, value in w.reads.items():
            reads.append((group, key, value, f"{where}[{key!r}]"))
        if w.writes and recorder is not None:
            recorder.unsupported(f"it sets {where}[{w.writes[0]!r}] itself (a replay "
                                 "runs no Python)")
    return reads
