"""skorch's routed parameters: `module__hidden=256` goes to the module's constructor,
`optimizer__momentum=0.9` to the optimizer's, `criterion__weight=...` to the loss's and
`callbacks__<name>__<param>` to the callback called <name>. Typos get "did you mean"."""
import copy
import difflib
import inspect

import numpy as np

PREFIXES = ("module", "optimizer", "criterion", "callbacks")


def did_you_mean(word, candidates):
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_routed(key, top_level):
    """Refuse a keyword that is neither an estimator parameter nor routed."""
    prefix = key.split("__", 1)[0]
    if "__" in key and prefix in PREFIXES and key.split("__", 1)[1]:
        return
    if "__" in key:
        hint = did_you_mean(prefix, PREFIXES)
        raise TypeError(f"unknown parameter {key!r}: routed parameters start with one of "
                        f"{', '.join(p + '__' for p in PREFIXES)}{hint}")
    raise TypeError(f"unknown parameter {key!r}{did_you_mean(key, top_level)}")


def routed(params, prefix):
    """{name: value} of the parameters `prefix__name`."""
    start = prefix + "__"
    return {k[len(start):]: v for k, v in params.items() if k.startswith(start)}


def accepted(cls):
    """Names `cls(...)` accepts, or None when it takes **kwargs."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    return [n for n in sig.parameters]


def build(cls, kwargs, what, *args):
    """cls(*args, **kwargs), a wrong keyword answered with the keywords cls accepts."""
    names = accepted(cls)
    if names is not None:
        for key in kwargs:
            if key not in names:
                raise TypeError(f"{what}__{key}: {getattr(cls, '__name__', cls)} takes no "
                                f"argument {key!r}{did_you_mean(key, names)}")
    return cls(*args, **kwargs)


def as_tensors(kwargs):
    """Arrays in criterion arguments (class weights) as float32 tensors."""
    import chainrule
    out = {}
    for k, v in kwargs.items():
        if isinstance(v, (np.ndarray, list)) and k in ("weight", "pos_weight"):
            v = chainrule.from_numpy(np.asarray(v, dtype=np.float32))
        out[k] = v
    return out


def named_callbacks(callbacks):
    """[(name, callback)] from callbacks or (name, callback) pairs; a callback's default
    name is its class name, as in skorch."""
    out = []
    for item in callbacks or ():
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            out.append(item)
        else:
            out.append((type(item).__name__, item))
    names = [n for n, _ in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"callbacks: the name(s) {dup} are used twice; give (name, callback) "
                         "pairs to tell them apart")
    return out


def configured_callbacks(callbacks, params):
    """Fresh copies of the callbacks with `callbacks__<name>__<param>` applied."""
    pairs = [(n, copy.deepcopy(cb)) for n, cb in named_callbacks(callbacks)]
    by_name = dict(pairs)
    for key, value in routed(params, "callbacks").items():
        name, _, attr = key.partition("__")
        if name not in by_name:
            raise ValueError(f"callbacks__{key}: no callback named {name!r}; callbacks are "
                             f"{sorted(by_name)}{did_you_mean(name, by_name)}")
        cb = by_name[name]
        # the constructor's arguments that the callback keeps under the same name
        known = [a for a in (accepted(type(cb)) or ()) if a in vars(cb)] or \
            [a for a in vars(cb) if not a.startswith("_")]
        if not attr or attr not in known:
            raise ValueError(f"callbacks__{key}: {type(cb).__name__} has no parameter "
                             f"{attr!r}{did_you_mean(attr, known)}")
        setattr(cb, attr, value)
    return [cb for _, cb in pairs]
