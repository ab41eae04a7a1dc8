"""A walk's test "do the containers still hold the same objects?" (discover.Reached.holds)
written out as one Python expression, for a replayed call to run instead of the generic
readers.

The generic test calls each reader (discover.py) on its holder, collects the ids of the
objects read into a list and compares it with the list kept from the walk: a few lists and
calls per reader, on every call. For the readers of a function (its code, defaults,
closure cells and the globals its code names) the expression reads the same attributes
and compares them with the same objects by identity (`is`), allocating nothing; any other
reader keeps the generic form inside the expression. The objects compared with are the
walk's own, kept alive by it, so identity is what equal ids meant (runtime/written_out.py
compiles the expression)."""
import types

from ..runtime import written_out


def build(readers, expected, parts):
    """A function of no arguments: True while each (reader, holder) in `readers` still
    reads the objects it read in the walk (`expected`: one list per reader), else False.
    `parts` is discover's table of the readers that have a written-out form."""
    env, terms = {"_ids_of": _ids_of}, []
    for k, ((reader, holder), objects) in enumerate(zip(readers, expected)):
        term = _written_out(k, reader, holder, objects, parts, env)
        if term is not None:
            env.update({f"o{k}_{j}": o for j, o in enumerate(objects)})
        else:  # the generic form: the reader's ids against the walk's
            env[f"r{k}"], env[f"h{k}"] = reader, holder
            env[f"i{k}"] = [id(o) for o in objects]
            term = f"_ids_of(r{k}, h{k}) == i{k}"
        terms.append(term)
    return written_out.predicate("holds", (), terms, env, catching=(ValueError,))


def _ids_of(reader, holder):
    return [id(o) for o in reader(holder)]


def _written_out(k, reader, holder, objects, parts, env):
    """The term for reader k (comparing with o{k}_0, o{k}_1, ...: the walk's objects),
    or None where only the generic form applies."""
    if reader is parts["function"] and type(holder) is types.FunctionType:
        env[f"f{k}"] = holder
        names = ("__code__", "__defaults__", "__kwdefaults__", "__closure__")
        return " and ".join(f"f{k}.{a} is o{k}_{j}" for j, a in enumerate(names))
    if reader is parts["cells"] and type(holder) is tuple:
        # a cell empty in the walk: the generic form; one emptied since raises
        # ValueError when read, and the test answers False
        if any(o is parts["empty"] for o in objects):
            return None
        env[f"c{k}"] = holder
        return " and ".join(f"c{k}[{j}].cell_contents is o{k}_{j}"
                            for j in range(len(objects))) or "True"
    if reader is parts["dict_values"] and type(holder) is dict and not objects:
        env[f"d{k}"] = holder
        return f"not d{k}"
    if reader is parts["group_params"]:
        return _param_groups(k, holder, objects, env)
    if reader is parts["named"] and type(holder[0]) is dict:
        env[f"g{k}"], env[f"n{k}"] = holder
        env["_EMPTY"] = parts["empty"]
        return " and ".join(f"g{k}.get(n{k}[{j}], _EMPTY) is o{k}_{j}"
                            for j in range(len(objects))) or "True"
    return None


def _param_groups(k, opt, objects, env):
    """An optimizer's reader: its list of groups, each group, each group's list of
    parameters, each parameter (discover._group_params's order), the lengths first."""
    groups = objects[0]
    if type(groups) is not list or not all(type(g) is dict for g in groups):
        return None
    env[f"q{k}"] = opt
    n = len(groups)
    lists = objects[1 + n:1 + 2 * n]
    if not all(type(p) is list for p in lists):
        return None
    terms = [f"q{k}.param_groups is o{k}_0", f"len(o{k}_0) == {n}"]
    terms += [f"o{k}_0[{i}] is o{k}_{1 + i}" for i in range(n)]
    at = 1 + 2 * n
    for i, params in enumerate(lists):
        terms.append(f'o{k}_{1 + i}["params"] is o{k}_{1 + n + i}')
        terms.append(f"len(o{k}_{1 + n + i}) == {len(params)}")
        terms += [f"o{k}_{1 + n + i}[{j}] is o{k}_{at + j}" for j in range(len(params))]
        at += len(params)
    return " and ".join(terms)
