"""The Optimizer base: parameter groups, per-parameter state, zero_grad, and a
state_dict in PyTorch's layout (state keyed by parameter index, groups listing indices)
so a saved run resumes bit-identically."""
import copy
from collections import defaultdict

import numpy as np

from ..runtime import recording_hooks
from ..autograd import grad_mode
from ..tensors.tensor import Tensor
from . import fused_step
from .flat import flat_group, step_flat


_CACHES = ("_flat_groups", "_fused_views", "_fused_steps", "_fused_steps_built")


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


def _check_nonneg(name, value):
    if not 0.0 <= value:
        raise ValueError(f"Invalid {name} value: {value}")


class Optimizer:
    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._scratch_buffers = {}
        self._flat_groups = {}  # group index -> FlatGroup (see flat.py)
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {params.type()}")
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if p.grad_fn is not None:
                raise ValueError("can't optimize a non-leaf Tensor")
            if p._data.dtype.kind != "f":
                raise TypeError("optimizer can only optimize Tensors of floating point dtype, "
                                f"but one of the params is {p.dtype}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        group = dict(param_group, params=params)
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        self._validate_group(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _validate_group(self, group):
        """Subclasses check their hyperparameters here, so groups added later are checked
        as strictly as the constructor's arguments."""
        if group.get("lr", 0.0) is not required and group["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if "weight_decay" in group:
            _check_nonneg("weight_decay", group["weight_decay"])
        if "eps" in group:
            _check_nonneg("epsilon", group["eps"])

    def _scratch(self, like, slot):
        """A reusable work buffer with `like`'s shape and dtype: steps write temporaries
        here with out= instead of allocating new arrays for every parameter and step."""
        key = (like.shape, like.dtype, slot)
        buf = self._scratch_buffers.get(key)
        if buf is None:
            buf = self._scratch_buffers[key] = np.empty_like(like)
        return buf

    @recording_hooks.replayed(idempotent=True)
    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad.detach_()
                    else:
                        p.grad.requires_grad = False
                    p.grad._data.fill(0)
                    p.grad._version[0] += 1

    @recording_hooks.replayed
    def step(self, closure=None):
        loss = None
        if closure is not None:
            recording_hooks.unsupported("optimizer.step(closure): the closure runs inside the step")
            with grad_mode.enable_grad():
                loss = closure()
        if self.__dict__.get("_fused_steps") and closure is None and fused_step.run(self):
            return None  # a kept step on the same arrays as before (optim/fused_step.py)
        with grad_mode.no_grad():
            for index, group in enumerate(self.param_groups):
                flat = flat_group(self, index, group) if self._elementwise else None
                if flat is not None:
                    step_flat(self, flat, group)
                    continue
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.grad._data.shape != p._data.shape:
                        raise RuntimeError(f"{type(self).__name__}.step: gradient of shape "
                                           f"{tuple(p.grad.shape)} does not match its "
                                           f"parameter of shape {tuple(p.shape)}")
                    self._update(p, p.grad._data, self.state[p], group)
                    p._version[0] += 1
        return loss

    # True when `_update` is elementwise, so a whole group can be stepped at once
    _elementwise = False
    _fused_loops = False  # updates as numba loops (optim/fused.py; Adam and AdamW have them)

    def _update(self, param, grad, state, group):
        raise NotImplementedError

    def _fused_update(self, like, params, grads, state, group):
        """The update as one compiled loop where `_fused_loops` asks for it (optim/fused.py;
        Adam has one); False: the NumPy update runs."""
        return False

    # ---- saving and resuming ----------------------------------------------------------
    def state_dict(self):
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index and s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        if not (isinstance(state_dict, dict) and isinstance(state_dict.get("state"), dict)
                and isinstance(state_dict.get("param_groups"), (list, tuple))):
            raise ValueError("optimizer.load_state_dict: expected a dict with a 'state' dict "
                             "and a 'param_groups' list (from optimizer.state_dict()), got "
                             + (f"keys {sorted(map(str, state_dict))}"
                                if isinstance(state_dict, dict) else type(state_dict).__name__))
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than this optimizer "
                             f"({len(self.param_groups)})")
        for mine, saved in zip(self.param_groups, saved_groups):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
        by_index = {}
        for mine, saved in zip(self.param_groups, saved_groups):
            by_index.update(zip(saved["params"], mine["params"]))
        self.state = defaultdict(dict)
        for key, saved_state in state_dict["state"].items():
            param = by_index.get(int(key))
            if param is not None:
                self.state[param] = {k: _copy_state_value(v, param, k)
                                     for k, v in saved_state.items()}
        for i, saved in enumerate(saved_groups):
            hyper = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            self.param_groups[i] = dict(hyper, params=self.param_groups[i]["params"])

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines + [")"])

    def __getstate__(self):
        # caches of arrays and tests made on this process's objects: made again after
        # loading (the per-parameter state they share is in self.state)
        return {k: v for k, v in self.__dict__.items() if k not in _CACHES}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_flat_groups", {})


def _copy_state_value(value, param, key):
    """Copies saved state, casting buffers to the parameter's dtype; the step counter
    keeps its own dtype, as PyTorch's does."""
    if hasattr(value, "shape") and not isinstance(value, Tensor):
        value = np.asanyarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)
        value = Tensor._wrap(value)
    if isinstance(value, Tensor):
        dtype = value._data.dtype if key == "step" else param._data.dtype
        return Tensor._wrap(np.array(value._data, dtype=dtype, copy=True))
    return copy.deepcopy(value)


def _step_counter(state):
    """Increment and return the per-parameter step, kept as a 0-d float32 tensor like
    PyTorch's so saved states line up."""
    step = state.get("step")
    if step is None:
        step = state["step"] = Tensor._wrap(np.zeros((), np.float32))
    step._data += 1
    return float(step._data)
