"""Tensor hooks: `t.register_hook(fn)` sees (and may replace) the gradient of `t` during
backward; `t.register_post_accumulate_grad_hook(fn)` runs after a leaf's `.grad` was
updated.

A non-leaf's hooks are keyed by its grad_fn Node and run when the Node's gradient is
complete, before retain_grad stores it; a leaf's hooks run on its total gradient before
it is accumulated into `.grad` (or returned by autograd.grad). The engine reads `_on`
once per backward, so graphs without hooks pay nothing per node.
"""
import weakref

from ..runtime import recording_hooks

_on = [False]
_node_hooks = weakref.WeakKeyDictionary()  # Node -> {handle id: fn}
_leaf_hooks = {}  # id(leaf) -> (weakref to the leaf, {handle id: fn}); Tensor's == is elementwise
_post_hooks = {}  # id(leaf) -> (weakref, {handle id: fn})


def any_registered():
    """Whether some tensor hook is registered now (`_on` stays set after handles are
    removed; their tables are then empty)."""
    return _on[0] and (any(h for h in _node_hooks.values())
                       or any(h for _, h in _leaf_hooks.values())
                       or any(h for _, h in _post_hooks.values()))


def _by_id(table, t):
    entry = table.get(id(t))
    if entry is None or entry[0]() is not t:
        key = id(t)
        entry = (weakref.ref(t, lambda _, key=key: table.pop(key, None)), {})
        table[key] = entry
    return entry[1]


def register_hook(t, hook):
    from ..utils.hooks import RemovableHandle
    if not t.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if not callable(hook):
        raise TypeError(f"register_hook: expected a callable, got {type(hook).__name__}")
    if t.grad_fn is not None:
        hooks = _node_hooks.setdefault(t.grad_fn, {})
    else:
        hooks = _by_id(_leaf_hooks, t)
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    _on[0] = True
    recording_hooks.unsupported("a tensor hook is registered during the call")
    return handle


def register_post_accumulate_grad_hook(t, hook):
    from ..utils.hooks import RemovableHandle
    if t.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not t.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    hooks = _by_id(_post_hooks, t)
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    _on[0] = True
    recording_hooks.unsupported("a tensor hook is registered during the call")
    return handle


def _apply(hooks, g, Tensor):
    """Run the hooks in registration order; each may return a replacement gradient."""
    wrapped = type(g) is Tensor
    gt = g if wrapped else Tensor._wrap(g)
    for hook in list(hooks.values()):
        result = hook(gt)
        if result is None:
            continue
        if not isinstance(result, Tensor):
            raise TypeError(f"hook '{getattr(hook, '__name__', hook)}' returned "
                            f"{type(result).__name__}; expected a Tensor or None")
        if result._data.shape != gt._data.shape:
            raise RuntimeError(f"hook '{getattr(hook, '__name__', hook)}' has changed the "
                               "size of value")
        gt = result
    return gt if wrapped else gt._data


def run_node(node, g, Tensor):
    hooks = _node_hooks.get(node)
    return _apply(hooks, g, Tensor) if hooks else g


def run_leaf(leaf, g, Tensor):
    entry = _leaf_hooks.get(id(leaf))
    if entry is None or entry[0]() is not leaf or not entry[1]:
        return g, False
    return _apply(entry[1], g, Tensor), True


def run_post(leaf):
    entry = _post_hooks.get(id(leaf))
    if entry is not None and entry[0]() is leaf:
        for hook in list(entry[1].values()):
            hook(leaf)
