"""Adam's fused step kept between steps, for a loop that steps the same arrays again.

A compiled training step's replay (and any loop whose gradients land in the same arrays
each step: `zero_grad(set_to_none=False)`) calls `optimizer.step()` on the same
parameters, gradients and state every time (on one set of gradient arrays per
recording: a step is kept for each). The regular fused path (flat.py, fused.py) checks
the group's layout, gathers the arrays and their flat views and reads the
hyperparameters on each call: about 10 µs of Python around a 20 µs loop. Once a step's
gradients are the arrays of the step before, the step is kept here: one written-out
test (runtime/written_out.py) that every object the regular path would read is still
the same one, then the loop on the kept views. The loop, its constants (read from the
group on each call, as the regular path reads them) and the state it leaves are the
regular path's, so the bits are too; where the test fails or the loop declines (a value
that would be NaN), the regular path runs."""
import operator

import numpy as np

from ..runtime import written_out
from . import fused as numba_loops

MAX_BUILT = 8     # kept steps built per optimizer; a layout that changes every step
_STATE = ("exp_avg", "exp_avg_sq")  # the loop's state arrays, in its argument order
_EXACT = float(2 ** 24)  # counts up to here are exact in float32, the counter's dtype


class FusedStep:
    __slots__ = ("held", "params", "views", "counter")

    def __init__(self, opt, flat, group):
        dtype = flat.param._data.dtype
        data = [p._data for p in flat.params]
        grads = [p.grad._data for p in flat.params]
        arrays = [flat.flat_state[key]._data for key in _STATE]
        self.params = tuple(flat.params)
        self.counter = flat.flat_state["step"]
        self.views = (numba_loops.flat_views(data, dtype), numba_loops.flat_views(grads, dtype),
                      *arrays)
        self.held = _written_out(opt, flat, group, data, grads)

    def __call__(self, opt):
        """One step; False, with nothing changed, where the regular path must run."""
        if not (opt._fused_loops and self.held()):
            return False
        counter = self.counter
        upcoming = float(counter._data) + 1.0  # float32's count: exact below 2**24
        if upcoming > _EXACT:
            upcoming = float(counter._data + np.float32(1))
        if not numba_loops.adam(*self.views, opt.param_groups[0], upcoming):
            return False
        counter._data[()] = upcoming
        for p in self.params:
            p._version[0] += 1
        return True


def run(opt):
    """Step with the step kept for these gradients' arrays (one per recording that
    replays the optimizer's step); False where the regular path must run."""
    groups = opt.param_groups
    if len(groups) != 1 or not groups[0]["params"]:
        return False
    grad = groups[0]["params"][0].grad
    kept = None if grad is None else opt._fused_steps.get(id(grad._data))
    return kept is not None and kept(opt)


def keep(opt, flat, group):
    """After a regular fused step of `flat` (the optimizer's only group): keep the step
    when its gradients are the arrays of the regular step before."""
    grads = tuple(p.grad._data for p in flat.params)
    repeated = (len(grads) == len(flat.last_grads)
                and all(map(operator.is_, grads, flat.last_grads)))
    flat.last_grads = grads
    kept = opt.__dict__.setdefault("_fused_steps", {})
    built = opt.__dict__.get("_fused_steps_built", 0)
    if not repeated or built >= MAX_BUILT or len(opt.param_groups) != 1:
        return
    step = FusedStep(opt, flat, group)
    if step.views[0] is not None and step.views[1] is not None:
        kept[id(grads[0])] = step  # the step holds grads[0]: its id stays its own
        opt._fused_steps_built = built + 1


def _written_out(opt, flat, group, data, grads):
    """True while every object the regular path reads is the one this step was kept
    for: the groups, the flat group and its layout (FlatGroup.intact's terms), the
    parameters' arrays and their gradients' arrays."""
    env = {"O": opt, "GL": opt.param_groups, "G": group, "P": group["params"], "F": flat,
           "S": opt.state}
    terms = ["O.param_groups is GL", "len(GL) == 1", "GL[0] is G", 'G["params"] is P',
             'not G["amsgrad"]', "O._flat_groups.get(0) is F", *flat.layout_terms(env)]
    for i in range(len(flat.params)):  # (the flat state's arrays are the flat group's own)
        env[f"d{i}"], env[f"g{i}"] = data[i], grads[i]
        terms += [f"p{i}._data is d{i}", f"p{i}.grad._data is g{i}"]
    return written_out.predicate("held", (), terms, env)
