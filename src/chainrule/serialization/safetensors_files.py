"""`.safetensors` files through the `safetensors` package: it writes the format and
validates every file it reads (header size cap, JSON, dtype names, sizes that match
shapes, offsets in bounds, data covered exactly); chainrule turns its NumPy-level results
into tensors and its errors into a message that names the file and what is wrong.
Writes go through the one atomic write (temporary file, fsync, rename)."""
import json
import os
import struct

import numpy as np

from ..runtime.atomic_files import atomic_write
from ..tensors.tensor import Tensor

TO_NUMPY = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
            "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}
SAVABLE = {np.dtype(v).newbyteorder("=") for v in TO_NUMPY.values()}
# bfloat16 has no NumPy dtype: it is widened to float32, which represents it exactly
BF16 = "BF16"

# the library's error kinds (current wording, then the older Debug names) -> what they mean
_MEANINGS = [
    (("header too large", "HeaderTooLarge"),
     "the header length in its first 8 bytes exceeds the format's 100 MB cap"),
    (("header too small", "HeaderTooSmall"),
     "too short for the 8-byte header length"),
    (("invalid header length", "InvalidHeaderLength"),
     "the header length in its first 8 bytes is larger than the rest of the file"),
    (("not fully covered", "MetadataIncompleteBuffer"),
     "the tensors' data_offsets do not cover the data exactly (a truncated file, or bytes "
     "that no tensor describes)"),
    (("invalid offset", "InvalidOffset"),
     "a tensor's data_offsets overlap another tensor's, leave a gap before it or run "
     "backwards"),
    (("invalid shape, data type, or offset", "TensorInvalidInfo"),
     "a tensor's shape and dtype need another number of bytes than its data_offsets span"),
    (("overflow", "ValidationOverflow"),
     "a tensor's shape is invalid: its number of bytes overflows"),
    (("invalid JSON", "InvalidHeaderDeserialization"),
     "the header is not valid safetensors JSON"),
    (("InvalidHeaderStart",), "the header does not start with '{'"),
    (("UTF-8", "InvalidHeader"), "the header is not UTF-8 JSON"),
]


class SafetensorsError(ValueError):
    pass


def _library():
    try:
        import safetensors.numpy
    except ImportError:
        raise ModuleNotFoundError("reading and writing .safetensors files needs the "
                                  "safetensors package (a dependency of chainrule): "
                                  "pip install safetensors") from None
    return safetensors


def _array_of(name, value):
    if isinstance(value, Tensor):
        arr = value._data
    elif isinstance(value, np.ndarray):
        arr = value
    else:
        raise TypeError(f"save_safetensors: value of {name!r} is a {type(value).__name__}; "
                        "safetensors stores only tensors (use chainrule.save for other "
                        "objects)")
    if arr.dtype.newbyteorder("=") not in SAVABLE:
        raise TypeError(f"save_safetensors: {name!r} has dtype {arr.dtype}, which "
                        "safetensors cannot store")
    return np.require(arr, requirements="C")  # np.require keeps 0-d arrays 0-d


def save_safetensors(tensors, path, metadata=None):
    """Write a flat dict {str: tensor} as a .safetensors file (atomically)."""
    if not isinstance(tensors, dict):
        raise TypeError(f"save_safetensors: expected a dict of name -> tensor, got "
                        f"{type(tensors).__name__}")
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError("save_safetensors: metadata must be a dict of str -> str")
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save_safetensors: names must be strings, got {name!r}")
        if name == "__metadata__":
            raise ValueError("save_safetensors: '__metadata__' is reserved by the format")
        arrays[name] = _array_of(name, value)
    data = _library().numpy.save(arrays, metadata=dict(metadata) if metadata else None)
    if hasattr(path, "write"):
        path.write(data)
    else:
        atomic_write(path, lambda f: f.write(data))


def _refusal(name, size, err):
    text = str(err).removeprefix("Error while deserializing header: ").removeprefix(
        "Error while deserializing: ")
    meaning = next((m for keys, m in _MEANINGS if any(k in text for k in keys)), None)
    if meaning is None:
        return SafetensorsError(f"{name}: not a valid safetensors file: {text}")
    if meaning.startswith("too short"):
        meaning = f"only {size} bytes, {meaning}"
    return SafetensorsError(f"{name}: not a valid safetensors file: {meaning} "
                            f"(safetensors says: {text})")


def _to_array(name, path, dtype, shape, raw):
    if dtype == BF16:  # the upper half of a float32's bits
        arr = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
    elif dtype in TO_NUMPY:
        stored = np.dtype(TO_NUMPY[dtype])
        arr = np.frombuffer(raw, stored).astype(stored.newbyteorder("="))  # a writable copy
    else:
        raise SafetensorsError(f"{path}: not a valid safetensors file: entry {name!r} has "
                               f"dtype {dtype}, which chainrule does not support")
    return arr.reshape(shape)


def load_safetensors(path, with_metadata=False):
    """Read a .safetensors file into {name: Tensor}; with `with_metadata=True`, return
    (tensors, metadata or {})."""
    if hasattr(path, "read"):
        data, name = path.read(), getattr(path, "name", "<stream>")
    else:
        name = os.fspath(path)
        with open(name, "rb") as f:
            data = f.read()
    library = _library()
    try:
        entries = library.deserialize(data)
    except library.SafetensorError as err:
        raise _refusal(name, len(data), err) from None
    out = {key: Tensor._wrap(_to_array(key, name, info["dtype"], info["shape"], info["data"]))
           for key, info in entries}
    if not with_metadata:
        return out
    # the library checked the header already; only its metadata is read here
    (n,) = struct.unpack("<Q", data[:8])
    return out, dict(json.loads(data[8:8 + n]).get("__metadata__") or {})
