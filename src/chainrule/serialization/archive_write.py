"""Writing a chainrule save file: the object tree as JSON, each distinct array once as a
.npy entry, the whole archive written atomically."""
import collections
import io
import json
import numbers
import zipfile

import numpy as np

from ..runtime.atomic_files import atomic_write
from ..tensors.tensor import Tensor
from .archive_format import ARRAY_DTYPES, FORMAT, MAX_DEPTH, TREE, VERSION, is_safetensors_path
from .safetensors_files import save_safetensors


class _Encoder:
    def __init__(self):
        self.arrays = []        # distinct arrays, in file order
        self.seen = {}          # id(tensor) -> node, so shared tensors are stored once
        self.keep = []          # keeps encoded objects alive so ids stay unique
        self.active = set()     # ids of containers being encoded: catches cycles

    def array_node(self, arr, kind, requires_grad=False):
        if arr.dtype.name not in ARRAY_DTYPES:
            raise TypeError(f"chainrule.save: cannot save an array of dtype {arr.dtype}")
        self.arrays.append(arr)
        node = {"t": kind, "array": len(self.arrays) - 1, "dtype": arr.dtype.name,
                "shape": list(arr.shape)}
        if requires_grad:
            node["requires_grad"] = True
        return node

    def encode(self, obj, depth=0):
        if depth > MAX_DEPTH:
            raise ValueError(f"chainrule.save: nesting deeper than {MAX_DEPTH} levels")
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, (bool, np.bool_)):
            return {"t": "bool", "v": bool(obj)}
        if isinstance(obj, numbers.Integral):
            return {"t": "int", "v": int(obj)}
        if isinstance(obj, numbers.Real):
            return {"t": "float", "v": repr(float(obj))}  # repr keeps nan/inf and all bits
        if isinstance(obj, str):
            return {"t": "str", "v": obj}
        if isinstance(obj, Tensor):
            if id(obj) not in self.seen:
                self.keep.append(obj)
                self.seen[id(obj)] = self.array_node(obj._data, "tensor", obj.requires_grad)
            return self.seen[id(obj)]
        if isinstance(obj, np.ndarray):
            return self.array_node(obj, "ndarray")
        if isinstance(obj, (list, tuple, dict)):
            if id(obj) in self.active:
                raise ValueError("chainrule.save: the object contains itself (a cycle)")
            self.active.add(id(obj))
            try:
                return self.container(obj, depth)
            finally:
                self.active.discard(id(obj))
        raise TypeError(f"chainrule.save: cannot save an object of type {type(obj).__name__}"
                        " (supported: tensors, arrays, numbers, strings, None, and lists, "
                        "tuples and dicts of them)")

    def container(self, obj, depth):
        if isinstance(obj, dict):
            for k in obj:
                if not isinstance(k, (str, numbers.Number, tuple, type(None))):
                    raise TypeError(f"chainrule.save: dict key {k!r} has type "
                                    f"{type(k).__name__}; keys must be str, numbers, None "
                                    "or tuples")
            kind = "odict" if isinstance(obj, collections.OrderedDict) else "dict"
            return {"t": kind, "keys": [self.encode(k, depth + 1) for k in obj],
                    "values": [self.encode(v, depth + 1) for v in obj.values()]}
        kind = "list" if isinstance(obj, list) else "tuple"
        return {"t": kind, "items": [self.encode(v, depth + 1) for v in obj]}


def _npy_bytes(arr):
    buf = io.BytesIO()
    # np.require, not np.ascontiguousarray, which turns 0-d arrays into 1-d ones
    np.lib.format.write_array(buf, np.require(arr, requirements="C"), allow_pickle=False)
    return buf.getvalue()


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True):
    """Save `obj` to the path or binary file object `f` (extra arguments are accepted
    for PyTorch compatibility and ignored)."""
    if is_safetensors_path(f):
        if not (isinstance(obj, dict) and all(isinstance(v, Tensor) for v in obj.values())):
            raise TypeError("chainrule.save: a .safetensors file holds a flat dict of "
                            "name -> tensor; use another extension for other objects")
        return save_safetensors(obj, f)
    enc = _Encoder()
    tree = {"format": FORMAT, "version": VERSION, "root": enc.encode(obj)}
    tree_bytes = json.dumps(tree, separators=(",", ":"), allow_nan=False).encode("utf-8")

    def write(out):
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr(TREE, tree_bytes)
            for i, arr in enumerate(enc.arrays):
                zf.writestr(f"arrays/{i}.npy", _npy_bytes(arr))

    if hasattr(f, "write"):
        write(f)
    else:
        atomic_write(f, write)


