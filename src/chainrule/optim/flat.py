"""Multi-tensor optimizer steps (PyTorch's foreach idea, on NumPy).

A step over a group of small parameters is mostly Python and ufunc-call overhead: Adam runs
about ten ufuncs per parameter. Every update rule here is elementwise, so the same
`_update` can run once over a group laid end to end: the parameters and gradients are
gathered into flat buffers, the optimizer state lives in flat buffers, and the result is
copied back. The per-parameter state the user sees (`optimizer.state[p]`, state_dict) holds
views into the flat state, so it reads and saves as before; the step counter is one shared
0-d tensor. Anything that breaks the layout (a parameter without a gradient, state loaded
or replaced, a reshaped parameter, mixed dtypes) sends the group back to the
per-parameter path, which is numerically the same step. A step that only adds a delta to
the parameters (Adam without weight decay: `_reads_param` is false) gathers just the
gradients, and each parameter adds its piece of the delta in place."""
import numpy as np

from ..runtime import written_out
from ..tensors.tensor import Tensor
from . import fused_step

# Above this many elements a group's copies in and out cost more than the per-parameter
# calls they save (the d2l MLP's 200k parameters step faster one by one).
MAX_ELEMENTS = 1 << 17


class _FlatParam:
    """Stands in for a parameter in `_update`: only `_data` is read."""
    __slots__ = ("_data",)


class FlatGroup:
    __slots__ = ("params", "shapes", "slices", "states", "flat_state", "param",
                 "grad", "views", "pieces", "held", "held_keys", "last_grads")

    def __init__(self, params, states):
        self.params = list(params)
        self.shapes = [p._data.shape for p in params]
        self.slices, start = [], 0
        for p in params:
            self.slices.append(slice(start, start + p._data.size))
            start += p._data.size
        dtype = params[0]._data.dtype
        self.param = _FlatParam()
        self.param._data = np.empty(start, dtype)
        self.grad = np.empty(start, dtype)
        self.states = list(states)
        self.flat_state = {}
        self.views = {}      # state key -> tuple of per-parameter view tensors
        self.pieces = [self.param._data[s].reshape(shape)
                       for s, shape in zip(self.slices, self.shapes)]
        self.held, self.held_keys = None, 0  # intact's test written out, once it held
        self.last_grads = ()  # the gradients' arrays at the last fused step (fused_step.py)

    def intact(self, group_params, state):
        """True while the group still has the layout this FlatGroup was built for, each
        parameter with a gradient of its shape (`state`: the optimizer's state dict).
        Once it held, it runs written out (runtime/written_out.py) until the state's
        keys change."""
        if self.held is not None and self.held_keys == len(self.views):
            return self.held(group_params, state)
        if len(group_params) != len(self.params):
            return False
        views = self.views
        for i, p in enumerate(group_params):
            if (p is not self.params[i] or p.grad is None or p._data.shape != self.shapes[i]
                    or p.grad._data.shape != self.shapes[i]):
                return False
            st = state.get(p)
            if st is not self.states[i] or len(st) != len(views):
                return False
            for key, per_param in views.items():
                if st.get(key) is not per_param[i]:
                    return False
        self.held, self.held_keys = self._written_out(), len(views)
        return True

    def _written_out(self):
        env = {}
        return written_out.predicate("intact", ("P", "S"), self.layout_terms(env), env)

    def layout_terms(self, env):
        """intact's test as Python expressions over the group's parameter list `P` and
        the state dict `S`, the objects they compare with bound in `env` (p0, st0, ...)."""
        terms, keys = [f"len(P) == {len(self.params)}"], list(self.views)
        env.update({f"k{j}": key for j, key in enumerate(keys)})
        for i, (p, shape, st) in enumerate(zip(self.params, self.shapes, self.states)):
            env[f"p{i}"], env[f"s{i}"], env[f"st{i}"] = p, shape, st
            terms += [f"P[{i}] is p{i}", f"p{i}.grad is not None",
                      f"p{i}._data.shape == s{i}", f"p{i}.grad._data.shape == s{i}",
                      f"S.get(p{i}) is st{i}", f"len(st{i}) == {len(keys)}"]
            for j, key in enumerate(keys):
                env[f"v{i}_{j}"] = self.views[key][i]
                terms.append(f"st{i}.get(k{j}) is v{i}_{j}")
        return terms

    def gather(self):
        np.concatenate([p._data.reshape(-1) for p in self.params], out=self.param._data)
        np.concatenate([p.grad._data.reshape(-1) for p in self.params], out=self.grad)

    def gather_grads(self):
        np.concatenate([p.grad._data.reshape(-1) for p in self.params], out=self.grad)

    def add_to_params(self, delta):
        """p += its piece of the flat `delta`: what gathering, adding and scattering back
        would leave, without the two copies."""
        for p, s, shape in zip(self.params, self.slices, self.shapes):
            np.add(p._data, delta[s].reshape(shape), out=p._data)
            p._version[0] += 1

    def scatter(self):
        for p, piece in zip(self.params, self.pieces):
            np.copyto(p._data, piece)
            p._version[0] += 1

    def share_state(self):
        """After `_update` created flat state entries, give each parameter its views."""
        for key, value in self.flat_state.items():
            if key in self.views:
                continue
            if value._data.ndim == 0:   # the step counter: one object for the group
                per_param = tuple(value for _ in self.params)
            else:
                per_param = tuple(Tensor._wrap(value._data[s].reshape(shape))
                                  for s, shape in zip(self.slices, self.shapes))
            self.views[key] = per_param
            for st, v in zip(self.states, per_param):
                st[key] = v

    def adopt(self):
        """Take over existing per-parameter state (after a load or per-parameter steps)
        when every parameter has the same entries and step; False if it cannot."""
        first = self.states[0]
        keys = set(first)
        for st in self.states:
            if set(st) != keys:
                return False
            for key, value in st.items():
                if not isinstance(value, Tensor):
                    return False
                if value._data.ndim == 0:
                    if float(value._data) != float(first[key]._data):
                        return False
                elif value._data.dtype != self.grad.dtype:
                    return False
        for key in keys:
            value = first[key]
            if value._data.ndim == 0:
                self.flat_state[key] = Tensor._wrap(np.array(value._data, copy=True))
            else:
                parts = [st[key]._data.reshape(-1) for st in self.states]
                self.flat_state[key] = Tensor._wrap(np.concatenate(parts))
        self.share_state()
        return True

    def release(self):
        """Back to independent per-parameter state: each parameter gets its own step."""
        for key, per_param in self.views.items():
            if per_param and per_param[0]._data.ndim == 0:
                for st in self.states:
                    if st.get(key) is per_param[0]:
                        st[key] = Tensor._wrap(np.array(per_param[0]._data, copy=True))


def flat_group(opt, index, group):
    """The FlatGroup to step `group` with, or None for the per-parameter path."""
    cache = opt._flat_groups
    params = group["params"]
    flat = cache.get(index)
    if flat is not None:
        if flat.intact(params, opt.state):
            return flat
        flat.release()
        del cache[index]
    if len(params) < 2 or any(p.grad is None for p in params):
        return None
    if sum(p._data.size for p in params) > MAX_ELEMENTS:
        return None
    dtype = params[0]._data.dtype
    if any(p._data.dtype != dtype or p.grad._data.shape != p._data.shape for p in params):
        return None
    flat = FlatGroup(params, [opt.state[p] for p in params])
    if any(flat.states) and not flat.adopt():
        return None
    cache[index] = flat
    return flat


def step_flat(opt, flat, group):
    # one compiled loop over the pieces, where asked for (the lists are not built else)
    if opt._fused_loops and opt._fused_update(
            flat.param._data, [p._data for p in flat.params],
            [p.grad._data for p in flat.params], flat.flat_state, group):
        flat.share_state()
        for p in flat.params:
            p._version[0] += 1
        fused_step.keep(opt, flat, group)
        return
    reads = getattr(opt, "_reads_param", None)
    if reads is not None and not reads(group):  # the step is p += delta
        flat.gather_grads()
        delta = opt._delta(flat.param._data, flat.grad, flat.flat_state, group)
        flat.share_state()
        flat.add_to_params(delta)
        return
    flat.gather()
    opt._update(flat.param, flat.grad, flat.flat_state, group)
    flat.share_state()
    flat.scatter()
