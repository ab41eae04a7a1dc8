"""Reading a chainrule save file while trusting nothing: only the expected names, sizes
that match the tree, .npy headers that agree with it, no pickle."""
import collections
import io
import json
import math
import numbers
import os
import zipfile

import numpy as np

from ..tensors import devices
from ..tensors.tensor import Tensor
from .archive_format import (ARRAY_DTYPES, COMPRESSED_FREE_BYTES, COMPRESSED_MAX_RATIO,
                             DEFLATE_MAX_RATIO, FORMAT, GRAD_DTYPES, MAX_DEPTH, MAX_NPY_HEADER,
                             MAX_TREE_BYTES, TREE, VERSION, UnsafeFileError, is_safetensors_path)
from .safetensors_files import load_safetensors


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
        if dt not in ARRAY_DTYPES:
            _refuse(name, f"array {idx} has unsupported dtype {dt!r}")
        if not is_valid_shape(shape):
            _refuse(name, f"array {idx} has an invalid shape {shape!r}")
        if node.get("requires_grad") is True and kind == "tensor" and dt not in GRAD_DTYPES:
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
    expected = np.dtype(ARRAY_DTYPES[dtype]).itemsize * math.prod(shape)
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
    want = np.dtype(ARRAY_DTYPES[dtype])
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
    if is_safetensors_path(f):
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
