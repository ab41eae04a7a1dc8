"""`chainrule.save` / `chainrule.load`: tensors, state dicts and nested containers in a
format that cannot run code when loaded (no pickle anywhere).

A save file is a zip archive holding `tree.json` (the object's structure, with the
dtype and shape of every array) and `arrays/<i>.npy`, one NumPy file per distinct
tensor. Loading trusts nothing: the archive may contain only those names, each entry's
declared size must match what the tree says its array needs (which caps the total
decompressed bytes: no zip bomb), every `.npy` header must agree with the tree and is
read with `allow_pickle=False`. Writes are atomic (temporary file, fsync, rename).

Supported: Tensor (dtype, shape, requires_grad; a tensor appearing twice is stored once
and loads as one object), numpy arrays, None, bool, int, float, str, and lists, tuples,
dicts and OrderedDicts of these (dict keys: str, int, float, bool, None or tuples).
Paths ending in `.safetensors` use the safetensors format (flat dicts of tensors),
read and written by the safetensors package."""
import collections
import io
import json
import math
import numbers
import os
import zipfile

import numpy as np

from .tensors import devices
from .tensors import dtypes
from .runtime.atomic_files import atomic_write
from ._safetensors import load_safetensors, save_safetensors
from .tensors.tensor import Tensor

__all__ = ["save", "load", "save_safetensors", "load_safetensors", "UnsafeFileError"]

FORMAT = "chainrule.save"
VERSION = 1
TREE = "tree.json"
MAX_TREE_BYTES = 64 * 1024 * 1024
MAX_NPY_HEADER = 4096        # NumPy writes 64..~200-byte headers for these dtypes
MAX_DEPTH = 200
DEFLATE_MAX_RATIO = 1032     # no DEFLATE stream expands more than this
# save() never compresses; a compressed entry (from another zip tool) may expand freely up
# to this size, beyond it at most by this ratio, so a small file cannot demand gigabytes
COMPRESSED_FREE_BYTES = 64 * 1024 * 1024
COMPRESSED_MAX_RATIO = 100
_ARRAY_DTYPES = {d.name: d.np for d in dtypes.ALL}
_GRAD_DTYPES = {d.name for d in dtypes.ALL if d.is_floating_point}


class UnsafeFileError(ValueError):
    """A file that is not a well-formed chainrule save file."""


def _is_safetensors_path(f):
    return isinstance(f, (str, os.PathLike)) and os.fspath(f).endswith(".safetensors")


# ---- encoding -------------------------------------------------------------------------
class _Encoder:
    def __init__(self):
        self.arrays = []        # distinct arrays, in file order
        self.seen = {}          # id(tensor) -> node, so shared tensors are stored once
        self.keep = []          # keeps encoded objects alive so ids stay unique
        self.active = set()     # ids of containers being encoded: catches cycles

    def array_node(self, arr, kind, requires_grad=False):
        if arr.dtype.name not in _ARRAY_DTYPES:
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
    if _is_safetensors_path(f):
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


# ---- decoding -------------------------------------------------------------------------
def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def is_valid_shape(shape):
    """A list of non-negative ints NumPy can hold: the product of the sides (zeros counted
    as ones, so that 2**64 x 0 is refused too) must fit a signed 64-bit index."""
    if not (isinstance(shape, list) and all(_is_int(s) and s >= 0 for s in shape)):
        return False
    if len(shape) > 64:  # NumPy's limit on dimensions
        return False
    return math.prod(max(s, 1) for s in shape) < 2 ** 63


def _refuse(name, what):
    raise UnsafeFileError(f"{name}: not a chainrule save file: {what}")


def _sniff(head, name):
    if head[:4] == b"PK\x03\x04" or head[:4] == b"PK\x05\x06":
        return
    if head[:1] == b"\x80" or head[:1] in (b"(", b"]", b"}"):
        _refuse(name, "it looks like a pickle, which chainrule never loads (pickles can "
                      "run arbitrary code)")
    _refuse(name, f"it is not a zip archive (starts with {head[:8]!r})")


def _check_node(node, name, n_arrays, depth=0):
    """Validate the tree's shape; returns the set of array indices it uses."""
    if depth > MAX_DEPTH:
        _refuse(name, f"tree nested deeper than {MAX_DEPTH} levels")
    if not isinstance(node, dict) or not isinstance(node.get("t"), str):
        _refuse(name, f"malformed tree node {str(node)[:80]!r}")
    kind = node["t"]
    if kind in ("tensor", "ndarray"):
        idx, dt, shape = node.get("array"), node.get("dtype"), node.get("shape")
        if not (type(idx) is int and 0 <= idx < n_arrays):
            _refuse(name, f"tree refers to array {idx!r}, which is not in the archive")
        if dt not in _ARRAY_DTYPES:
            _refuse(name, f"array {idx} has unsupported dtype {dt!r}")
        if not is_valid_shape(shape):
            _refuse(name, f"array {idx} has an invalid shape {shape!r}")
        if node.get("requires_grad") is True and kind == "tensor" and dt not in _GRAD_DTYPES:
            _refuse(name, f"array {idx} is a {dt} tensor marked requires_grad; only "
                          "floating-point tensors can require gradients")
        return
    children = {"list": ("items",), "tuple": ("items",), "dict": ("keys", "values"),
                "odict": ("keys", "values")}.get(kind)
    if children is None:
        if kind not in ("none", "bool", "int", "float", "str"):
            _refuse(name, f"unknown node type {kind!r}")
        return
    for field in children:
        if not isinstance(node.get(field), list):
            _refuse(name, f"{kind} node without a {field} list")
        for child in node[field]:
            _check_node(child, name, n_arrays, depth + 1)
    if len(children) == 2 and len(node["keys"]) != len(node["values"]):
        _refuse(name, "dict node with different numbers of keys and values")


def _array_specs(node, specs):
    """Collect {array index: (dtype, shape)} and refuse disagreeing duplicates."""
    if node["t"] in ("tensor", "ndarray"):
        spec = (node["dtype"], tuple(node["shape"]))
        if specs.setdefault(node["array"], spec) != spec:
            raise UnsafeFileError(f"array {node['array']} is described twice, differently")
    for field in ("items", "keys", "values"):
        for child in node.get(field, ()):
            _array_specs(child, specs)
    return specs


def _read_entry(zf, info, cap, name):
    """Read a zip entry, never more than `cap` bytes whatever its header claims."""
    with zf.open(info) as src:
        data = src.read(cap + 1)
    if len(data) != info.file_size or len(data) > cap:
        _refuse(name, f"entry {info.filename} decompresses to {len(data)} bytes, not the "
                      f"{info.file_size} it declares")
    return data


def _load_array(zf, info, dtype, shape, name, file_size):
    expected = np.dtype(_ARRAY_DTYPES[dtype]).itemsize * math.prod(shape)
    lo, hi = expected, expected + MAX_NPY_HEADER
    if not lo <= info.file_size <= hi:
        _refuse(name, f"{info.filename} declares {info.file_size} bytes but an array of "
                      f"{dtype} {list(shape)} needs {expected} plus a small header")
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > COMPRESSED_FREE_BYTES \
            and info.file_size > info.compress_size * COMPRESSED_MAX_RATIO:
        _refuse(name, f"{info.filename} expands {info.compress_size} compressed bytes to "
                      f"{info.file_size}; refusing more than {COMPRESSED_MAX_RATIO}x for "
                      "large entries (zip bomb?)")
    if info.file_size > max(info.compress_size, 1) * DEFLATE_MAX_RATIO or \
            info.compress_size > file_size:
        _refuse(name, f"{info.filename}: sizes in the zip directory are impossible for "
                      "this archive (zip bomb or corrupt file?)")
    data = _read_entry(zf, info, hi, name)
    stream = io.BytesIO(data)
    want = np.dtype(_ARRAY_DTYPES[dtype])
    try:  # check the .npy header before np.load allocates what it declares
        major, _ = np.lib.format.read_magic(stream)
        read_header = {1: np.lib.format.read_array_header_1_0,
                       2: np.lib.format.read_array_header_2_0}.get(major)
        if read_header is None:
            raise ValueError(f"unsupported .npy version {major}")
        npy_shape, fortran, npy_dtype = read_header(stream)
    except ValueError as err:
        _refuse(name, f"{info.filename} is not a valid .npy file ({err})")
    if tuple(npy_shape) != tuple(shape) or npy_dtype != want or fortran:
        _refuse(name, f"{info.filename} holds {npy_dtype} {list(npy_shape)} but the tree "
                      f"says {dtype} {list(shape)}")
    if len(data) - stream.tell() != expected:
        _refuse(name, f"{info.filename} holds {len(data) - stream.tell()} bytes of data, "
                      f"expected {expected} for {dtype} {list(shape)}")
    stream.seek(0)
    try:
        arr = np.load(stream, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        _refuse(name, f"{info.filename} is not a valid .npy file ({err})")
    return arr


def _decode(node, arrays, tensors):
    kind = node["t"]
    if kind == "none":
        return None
    if kind in ("bool", "int", "str"):
        v = node.get("v")
        ok = {"bool": bool, "int": int, "str": str}[kind]
        if type(v) is not ok:
            raise UnsafeFileError(f"{kind} node holds {type(v).__name__}")
        return v
    if kind == "float":
        try:
            return float(node.get("v"))
        except (TypeError, ValueError):
            raise UnsafeFileError(f"float node holds {node.get('v')!r}") from None
    if kind == "tensor":
        idx = node["array"]
        if idx not in tensors:  # the same index means the same tensor object
            t = Tensor._wrap(arrays[idx])
            if node.get("requires_grad") is True:
                t.requires_grad_(True)
            tensors[idx] = t
        return tensors[idx]
    if kind == "ndarray":
        return arrays[node["array"]]
    if kind in ("list", "tuple"):
        items = [_decode(c, arrays, tensors) for c in node["items"]]
        return items if kind == "list" else tuple(items)
    keys = [_decode(k, arrays, tensors) for k in node["keys"]]
    values = [_decode(v, arrays, tensors) for v in node["values"]]
    try:
        pairs = list(zip(keys, values))
        return collections.OrderedDict(pairs) if kind == "odict" else dict(pairs)
    except TypeError:
        raise UnsafeFileError("dict node has an unhashable key") from None


def load(f, map_location=None, pickle_module=None, weights_only=True, mmap=None, **kwargs):
    """Load what `save` wrote, from a path or a binary file object (PyTorch's extra
    arguments are accepted and ignored: nothing is ever unpickled). Tensors load to the
    CPU; a `map_location` naming another device fails as on PyTorch's CPU-only build."""
    _check_map_location(map_location)
    if _is_safetensors_path(f):
        return load_safetensors(f)
    if hasattr(f, "read"):
        data = f.read()
        name = getattr(f, "name", "<stream>")
        return _load_zip(io.BytesIO(data), str(name), len(data))
    name = os.fspath(f)
    with open(name, "rb") as fh:
        return _load_zip(fh, name, os.fstat(fh.fileno()).st_size)


def _check_map_location(where):
    if not isinstance(where, (str, devices.device)):
        return  # None, a dict or a function: every tensor lands on the CPU anyway
    kind = devices.device(where).type
    if kind == "cuda":
        raise RuntimeError("Attempting to deserialize object on a CUDA device but "
                           "chainrule.cuda.is_available() is False. If you are running on a "
                           "CPU-only machine, please use chainrule.load with "
                           "map_location=chainrule.device('cpu') to map your storages to the CPU.")
    if kind != "cpu":
        raise RuntimeError(f"load: map_location={str(where)!r}: chainrule computes on the CPU "
                           "only; use map_location='cpu'")


def _load_zip(fh, name, file_size):
    head = fh.read(8)
    if head[:8] == b"" or len(head) < 4:
        _refuse(name, f"file is empty or too short ({file_size} bytes)")
    _sniff(head, name)
    fh.seek(0)
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        _refuse(name, f"corrupt zip archive ({err})")
    with zf:
        return _load_members(zf, name, file_size)


def _load_members(zf, name, file_size):
    infos = zf.infolist()
    by_name = {}
    for info in infos:
        if info.filename in by_name:
            _refuse(name, f"duplicate entry {info.filename!r}")
        by_name[info.filename] = info
        if info.flag_bits & 0x1:
            _refuse(name, f"entry {info.filename!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            _refuse(name, f"entry {info.filename!r} uses an unsupported compression method")
    if TREE not in by_name:
        hint = " (it looks like a PyTorch checkpoint, which is pickle-based)" if any(
            n.endswith("data.pkl") for n in by_name) else ""
        _refuse(name, f"no {TREE} in the archive{hint}")
    tree_info = by_name[TREE]
    if tree_info.file_size > MAX_TREE_BYTES:
        _refuse(name, f"{TREE} declares {tree_info.file_size} bytes, over the "
                      f"{MAX_TREE_BYTES}-byte cap")
    try:
        tree = json.loads(_read_entry(zf, tree_info, MAX_TREE_BYTES, name).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        _refuse(name, f"{TREE} is not valid JSON ({err})")
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        _refuse(name, f"corrupt entry {TREE} ({err})")
    if not isinstance(tree, dict) or tree.get("format") != FORMAT or "root" not in tree:
        _refuse(name, f"{TREE} does not describe a {FORMAT} file")
    if tree.get("version") != VERSION:
        _refuse(name, f"format version {tree.get('version')!r} is not supported "
                      f"(this chainrule reads version {VERSION})")
    n_arrays = len(by_name) - 1
    allowed = {TREE} | {f"arrays/{i}.npy" for i in range(n_arrays)}
    for entry in by_name:  # also rules out absolute paths and '..' traversal
        if entry not in allowed:
            _refuse(name, f"unexpected entry {entry!r} in the archive")
    _check_node(tree["root"], name, n_arrays)
    try:
        specs = _array_specs(tree["root"], {})
    except UnsafeFileError as err:
        _refuse(name, str(err))
    if len(specs) != n_arrays:
        _refuse(name, f"the archive holds {n_arrays} arrays but the tree uses {len(specs)}")
    arrays = {}
    try:
        for idx, (dtype, shape) in specs.items():
            info = by_name[f"arrays/{idx}.npy"]
            arrays[idx] = _load_array(zf, info, dtype, shape, name, file_size)
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        _refuse(name, f"corrupt archive data ({err})")
    try:
        return _decode(tree["root"], arrays, {})
    except UnsafeFileError as err:
        _refuse(name, str(err))
