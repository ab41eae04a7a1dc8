"""The safetensors format, written and read without the safetensors package.

File: 8-byte little-endian header length N, N bytes of UTF-8 JSON
`{name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__":
{str: str}}`, then the raw little-endian row-major data; offsets are relative to the
end of the header. Loading validates everything before reading data: header size cap,
JSON shape, known dtype names, sizes that match shapes, offsets in bounds, no overlaps
and no gaps (the format requires the data area to be covered exactly)."""
import json
import numbers
import os
import struct

import numpy as np

from .runtime.atomic_files import atomic_write
from .tensors.tensor import Tensor

MAX_HEADER_BYTES = 100 * 1024 * 1024   # as the reference implementation
ALIGN = 8

TO_NUMPY = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
            "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}
FROM_NUMPY = {np.dtype(v).newbyteorder("="): k for k, v in TO_NUMPY.items()}
# valid format names that chainrule cannot hold as they are
KNOWN_UNSUPPORTED = {"U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3",
                     "F6_E3M2", "C64", "E8M0"}
# bfloat16 has no NumPy dtype: it is widened to float32, which represents it exactly
BF16 = "BF16"


class SafetensorsError(ValueError):
    pass


def _array_of(name, value):
    if isinstance(value, Tensor):
        arr = value._data
    elif isinstance(value, np.ndarray):
        arr = value
    else:
        raise TypeError(f"save_safetensors: value of {name!r} is a {type(value).__name__}; "
                        "safetensors stores only tensors (use chainrule.save for other "
                        "objects)")
    if arr.dtype.newbyteorder("=") not in FROM_NUMPY:
        raise TypeError(f"save_safetensors: {name!r} has dtype {arr.dtype}, which "
                        "safetensors cannot store")
    return arr


def save_safetensors(tensors, path, metadata=None):
    """Write a flat dict {str: tensor} as a .safetensors file (atomically)."""
    if not isinstance(tensors, dict):
        raise TypeError(f"save_safetensors: expected a dict of name -> tensor, got "
                        f"{type(tensors).__name__}")
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError("save_safetensors: metadata must be a dict of str -> str")
    header, arrays, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = dict(metadata)
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save_safetensors: names must be strings, got {name!r}")
        if name == "__metadata__":
            raise ValueError("save_safetensors: '__metadata__' is reserved by the format")
        arr = np.require(_array_of(name, value), requirements="C")  # keeps 0-d arrays 0-d
        arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        header[name] = {"dtype": FROM_NUMPY[arr.dtype.newbyteorder("=")],
                        "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        arrays.append(arr)
        offset += arr.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % ALIGN)  # pad so the data starts 8-byte aligned

    def write(f):
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for arr in arrays:
            f.write(memoryview(arr.reshape(-1).view(np.uint8)))

    if hasattr(path, "write"):
        write(path)
    else:
        atomic_write(path, write)


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise SafetensorsError(f"duplicate key {k!r} in the header")
        out[k] = v
    return out


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def is_valid_shape(shape):
    """A list of non-negative ints NumPy can hold: the product of the sides (zeros counted
    as ones, so that 2**64 x 0 is refused too) must fit a signed 64-bit index."""
    if not (isinstance(shape, list) and all(_is_int(s) and s >= 0 for s in shape)):
        return False
    if len(shape) > 64:  # NumPy's limit on dimensions
        return False
    total = 1
    for s in shape:
        total *= max(s, 1)
    return total < 2 ** 63


def read_header(f, path, file_size):
    """Parse and validate the header; returns (entries sorted by offset, metadata, start)."""
    fail = lambda what: SafetensorsError(f"{path}: not a valid safetensors file: {what}")  # noqa: E731
    if file_size < 8:
        raise fail(f"only {file_size} bytes, too short for the 8-byte header length")
    (n,) = struct.unpack("<Q", f.read(8))
    if n > MAX_HEADER_BYTES:
        raise fail(f"header length {n} exceeds the {MAX_HEADER_BYTES}-byte cap")
    if n > file_size - 8:
        raise fail(f"header length {n} is larger than the rest of the file "
                   f"({file_size - 8} bytes)")
    raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except SafetensorsError as err:
        raise fail(str(err)) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise fail(f"header is not UTF-8 JSON ({err})") from None
    if not isinstance(header, dict):
        raise fail("header JSON is not an object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(v, str) for v in metadata.values())):
        raise fail("__metadata__ must map strings to strings")
    data_size = file_size - 8 - n
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise fail(f"entry {name!r} must have exactly dtype, shape and data_offsets")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype in KNOWN_UNSUPPORTED:
            raise fail(f"entry {name!r} has dtype {dtype}, which chainrule does not support")
        if dtype not in TO_NUMPY and dtype != BF16:
            raise fail(f"entry {name!r} has unknown dtype {dtype!r}")
        if not is_valid_shape(shape):
            raise fail(f"entry {name!r} has an invalid shape {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_int, offsets))
                and 0 <= offsets[0] <= offsets[1]):
            raise fail(f"entry {name!r} has invalid data_offsets {offsets!r}")
        itemsize = 2 if dtype == BF16 else np.dtype(TO_NUMPY[dtype]).itemsize
        nbytes = itemsize
        for s in shape:
            nbytes *= s
        if offsets[1] - offsets[0] != nbytes:
            raise fail(f"entry {name!r}: shape {shape} of {dtype} needs {nbytes} bytes but "
                       f"data_offsets {offsets} span {offsets[1] - offsets[0]}")
        if offsets[1] > data_size:
            raise fail(f"entry {name!r}: data_offsets {offsets} run past the end of the "
                       f"data ({data_size} bytes; file truncated?)")
        entries.append((offsets[0], offsets[1], name, dtype, tuple(shape)))
    entries.sort()
    end = 0
    for begin, stop, name, _, _ in entries:
        if begin != end:
            what = "overlaps the previous tensor" if begin < end else "leaves a gap before it"
            raise fail(f"entry {name!r} (data_offsets [{begin}, {stop}]) {what}")
        end = stop
    if end != data_size:
        raise fail(f"tensors cover {end} bytes of data but the file holds {data_size}")
    return entries, metadata, 8 + n


def _read_array(f, start, begin, stop, dtype, shape):
    f.seek(start + begin)
    raw_dtype = np.dtype("<u2" if dtype == BF16 else TO_NUMPY[dtype])
    arr = np.empty((stop - begin) // raw_dtype.itemsize, dtype=raw_dtype)
    if f.readinto(memoryview(arr.view(np.uint8))) != stop - begin:
        raise SafetensorsError(f"data of a {dtype} tensor of shape {shape} is truncated")
    if dtype == BF16:
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    else:
        arr = arr.astype(arr.dtype.newbyteorder("="), copy=False)
    return arr.reshape(shape)


def load_safetensors(path, with_metadata=False):
    """Read a .safetensors file into {name: Tensor} (in storage order); with
    `with_metadata=True`, return (tensors, metadata or {})."""
    if hasattr(path, "read"):
        import io
        f, name = io.BytesIO(path.read()), getattr(path, "name", "<stream>")
        return _load_open(f, name, len(f.getbuffer()), with_metadata)
    name = os.fspath(path)
    with open(name, "rb") as f:
        return _load_open(f, name, os.fstat(f.fileno()).st_size, with_metadata)


def _load_open(f, name, size, with_metadata):
    entries, metadata, start = read_header(f, name, size)
    out = {}
    for begin, stop, key, dtype, shape in entries:
        out[key] = Tensor._wrap(_read_array(f, start, begin, stop, dtype, shape))
    return (out, dict(metadata or {})) if with_metadata else out
