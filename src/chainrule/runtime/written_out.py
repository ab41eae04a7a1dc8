"""A test that runs on every step, written out as one Python expression.

A test such as "does this group still hold the same parameters, states and buffers?",
made of loops over lists, costs a call and a list per loop on every step. Written out
once as `a is o0 and len(b) == 3 and ...` against the objects it compares with (bound by
name), it allocates nothing and runs as one expression. compile's replays
(compiler/identity_check.py) and the optimizers' flat groups (optim/flat.py) use it."""


def predicate(name, params, terms, env, catching=()):
    """The function `name(*params)` returning the conjunction of `terms` (Python
    expressions over `params` and the names bound in `env`); an exception of a type in
    `catching` raised while testing answers False."""
    body = "(" + "\n            and ".join(terms or ["True"]) + ")"
    source = f"def {name}({', '.join(params)}):\n"
    if catching:
        env = {**env, "_CAUGHT": tuple(catching)}
        source += f"    try:\n        return {body}\n    except _CAUGHT:\n        return False\n"
    else:
        source += f"    return {body}\n"
    exec(compile(source, f"<chainrule {name}>", "exec"), env)  # noqa: S102
    return env[name]
