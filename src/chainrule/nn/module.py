"""Module: the base class of layers and models. Parameters, buffers and submodules are
registered by attribute assignment and kept in ordered dicts, which give PyTorch's dotted
names (`0.weight`, `net.1.bias`) to named_parameters() and state_dict()."""
from collections import OrderedDict

import numpy as np

from ..runtime import recording_hooks
from ..tensors import devices
from ..tensors import dtypes
from ..autograd import grad_mode
from ..tensors.tensor import Tensor
from . import hooks
from .tables import STRUCTURE, Table, set_plainly
from .parameter import (Parameter, UninitializedBuffer, UninitializedParameter, is_parameter,
                        materialize)


def _is_lazy(t):
    return isinstance(t, (UninitializedParameter, UninitializedBuffer))


class Module:
    training = True

    def __init__(self, *args, **kwargs):
        object.__setattr__(self, "_parameters", Table())
        object.__setattr__(self, "_buffers", Table())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", Table())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    _has_hooks = False  # set on the instance by the first hook (see hooks.py)

    def __call__(self, *args, **kwargs):
        if self._has_hooks:
            return hooks.call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    # ---- hooks (hooks.py); each returns a RemovableHandle ------------------------------
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        return hooks.register(self, "_forward_pre_hooks", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        return hooks.register(self, "_forward_hooks", hook, prepend, with_kwargs)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        return hooks.register(self, "_backward_pre_hooks", hook, prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        return hooks.register(self, "_backward_hooks", hook, prepend)

    def register_backward_hook(self, hook):
        raise NotImplementedError("Module.register_backward_hook (deprecated in PyTorch) is "
                                  "not supported; use register_full_backward_hook")

    # ---- registration -----------------------------------------------------------------
    def _check_init(self):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign to {type(self).__name__} before "
                                 "Module.__init__() call (call super().__init__() first)")

    def __setattr__(self, name, value):
        STRUCTURE[0] += 1  # what a compiled call's guards read may change (tables.py)
        d = self.__dict__
        if isinstance(value, Module):
            self._check_init()
            self._drop(name, keep="_modules")  # a replaced child keeps its place, as PyTorch
            d["_modules"][name] = value
        elif isinstance(value, Tensor) and is_parameter(value):
            self._check_init()
            self._drop(name, keep="_parameters")
            d["_parameters"][name] = value
        elif "_parameters" in d and name in d["_parameters"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter "
                                f"'{name}' (chainrule.nn.Parameter or None expected)")
            d["_parameters"][name] = None
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(chainrule.Tensor or None expected)")
            d["_buffers"][name] = value
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (chainrule.nn.Module or None expected)")
            d["_modules"][name] = None
        else:
            object.__setattr__(self, name, value)

    def _drop(self, name, keep=None):
        for key in ("_parameters", "_buffers", "_modules"):
            if key != keep:
                self.__dict__[key].pop(name, None)
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        # only called when normal lookup fails: parameters, buffers and submodules
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            table = d.get(key)
            if table is not None and name in table:
                return table[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        STRUCTURE[0] += 1
        for key in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(key, ()):
                del self.__dict__[key][name]
                return
        object.__delattr__(self, name)

    def _check_name(self, name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f'{kind} name can\'t contain "." and can\'t be empty, got {name!r}')
        if hasattr(self, name) and name not in self.__dict__.get(
                {"parameter": "_parameters", "buffer": "_buffers", "module": "_modules"}[kind], {}):
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        self._check_init()
        self._check_name(name, "parameter")
        if param is not None and not is_parameter(param):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (chainrule.nn.Parameter or None required)")
        self._drop(name)
        self.__dict__["_parameters"][name] = param

    def register_buffer(self, name, tensor, persistent=True):
        self._check_init()
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (chainrule.Tensor or None required)")
        self._drop(name)
        self.__dict__["_buffers"][name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        self._check_init()
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        self._drop(name)
        self.__dict__["_modules"][name] = module

    register_module = add_module

    def get_submodule(self, target):
        mod = self
        for part in target.split(".") if target else ():
            if part not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no submodule `{part}`")
            mod = mod._modules[part]
        return mod

    # ---- traversal --------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, mod in self._modules.items():
            if mod is not None:
                yield from mod.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                             remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, mod in self._modules.items():
            if mod is not None and id(mod) not in seen:
                seen.add(id(mod))
                yield name, mod

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, table, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                if recurse else [(prefix, self)])
        for mprefix, mod in mods:
            for name, t in mod.__dict__[table].items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield (f"{mprefix}.{name}" if mprefix else name), t

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients ----------------------------------------------------------
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            set_plainly(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    @recording_hooks.replayed(idempotent=True)
    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad = p.grad.detach() if p.grad.grad_fn is not None else p.grad
                p.grad._data[...] = 0

    # ---- dtype / device ---------------------------------------------------------------
    def _apply_arrays(self, fn):
        """Convert every parameter and buffer in place (same objects: optimizers built
        earlier keep working)."""
        for m in self.modules():
            for t in list(m._parameters.values()) + list(m._buffers.values()):
                if t is None:
                    continue
                t._data = fn(t._data)
                if t.grad is not None:
                    t.grad._data = fn(t.grad._data)
        return self

    def to(self, *args, **kwargs):
        """to(device), to(dtype), to(device, dtype), to(tensor): parameters and buffers are
        converted in place; only floating-point dtypes are accepted, as in PyTorch."""
        _, dtype, _ = devices.parse_to(args, kwargs, "Module.to")
        if dtype is None:
            return self
        want = dtypes.to_numpy_dtype(dtype)
        if want.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                            f"desired dtype={dtype}")
        return self._apply_arrays(lambda a: a.astype(want, copy=False) if a.dtype.kind == "f" else a)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def cpu(self):
        return self

    def cuda(self, device=None):
        devices.to_cuda(device, "Module.cuda")

    # ---- state dict -------------------------------------------------------------------
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        out = OrderedDict() if destination is None else destination
        # a module used twice is listed under each of its names, as PyTorch does, so the
        # state dicts of tied models match key for key
        for mprefix, mod in self.named_modules(prefix=prefix.rstrip("."),
                                               remove_duplicate=False):
            p = f"{mprefix}." if mprefix else ""
            for name, t in mod._parameters.items():
                if t is not None:
                    out[p + name] = t if keep_vars else t.detach()
            for name, t in mod._buffers.items():
                if t is not None and name not in mod._non_persistent:
                    out[p + name] = t if keep_vars else t.detach()
        return out

    def load_state_dict(self, state_dict, strict=True, assign=False):
        state_dict = _with_optional_keys(self, state_dict)
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for k, t in own.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            arr = v._data if isinstance(v, Tensor) else np.asarray(v)
            if tuple(arr.shape) != tuple(t._data.shape) and not _is_lazy(t):
                errors.append(f"size mismatch for {k}: copying a param with shape "
                              f"{tuple(arr.shape)} from checkpoint, the shape in current "
                              f"model is {tuple(t._data.shape)}.")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:  # checked before anything is copied: a failed load changes nothing
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with grad_mode.no_grad():
            for k, t in own.items():
                if k in state_dict:
                    v = state_dict[k]
                    arr = v._data if isinstance(v, Tensor) else np.asarray(v)
                    if _is_lazy(t):  # a lazy module takes its shape from the state dict
                        materialize(t, arr.shape)
                    np.copyto(t._data, arr, casting="unsafe")
                    t._version[0] += 1
        return _IncompatibleKeys(missing, unexpected)

    def _optional_state(self):
        return {}

    # ---- printing ---------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, mod in self._modules.items():
            body = repr(mod).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        if not lines:
            return f"{self._get_name()}()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))


def _with_optional_keys(root, state_dict):
    """Keys a module may go without (BatchNorm's num_batches_tracked, absent from old
    checkpoints): its current value stands in, as PyTorch does."""
    extra = {}
    for prefix, mod in root.named_modules(remove_duplicate=False):
        for name, value in mod._optional_state().items():
            key = f"{prefix}.{name}" if prefix else name
            if key not in state_dict and value is not None:
                extra[key] = value
    return {**state_dict, **extra} if extra else state_dict


class _IncompatibleKeys:
    def __init__(self, missing_keys, unexpected_keys):
        self.missing_keys, self.unexpected_keys = missing_keys, unexpected_keys

    def __iter__(self):
        return iter((self.missing_keys, self.unexpected_keys))

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")


__all__ = ["Module", "Parameter"]
