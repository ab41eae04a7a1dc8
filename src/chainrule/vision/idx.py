"""Reader (and a small writer) for IDX files, the format of MNIST and Fashion-MNIST.

Layout: a 4-byte big-endian magic `0x00 0x00 <type> <ndim>`, then `ndim` big-endian
uint32 sizes, then the values, big-endian, row-major. Files may be gzip-compressed; the
compression is detected from the first bytes, not from the name.

The header is untrusted: before anything is allocated, the size it declares is checked
against the file (raw files) or bounded (gzip files: by the file size times DEFLATE's
maximum ratio and by `max_bytes`), and decompression stops at the declared size, so a
truncated, padded or bomb-like file is refused with a message naming the file."""
import gzip
import os
import struct
import zlib

import numpy as np

# IDX type code -> big-endian NumPy dtype
IDX_DTYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {np.dtype(d).newbyteorder("="): c for c, d in IDX_DTYPES.items()}
GZIP_MAGIC = b"\x1f\x8b"
MAX_NDIM = 16
DEFAULT_MAX_BYTES = 1 << 31   # 2 GiB: far above MNIST's 47 MB, far below a bomb's goal
DEFLATE_MAX_RATIO = 1032      # no DEFLATE stream expands more than this
_CHUNK = 1 << 20


class IDXError(ValueError):
    """A file that is not a well-formed IDX file."""


def _fail(path, what):
    raise IDXError(f"{path}: {what}")


def _read_exactly(stream, n, path, what):
    """Read n bytes or fail: short reads mean the file is truncated."""
    parts, got = [], 0
    while got < n:
        try:
            part = stream.read(min(_CHUNK, n - got))
        except (EOFError, OSError, zlib.error) as err:
            _fail(path, f"corrupt or truncated gzip data while reading the {what} ({err})")
        if not part:
            break
        parts.append(part)
        got += len(part)
    if got < n:
        _fail(path, f"truncated file: {n} bytes needed for the {what}, only {got} there")
    return b"".join(parts)


def _parse_header(stream, path):
    magic = _read_exactly(stream, 4, path, "4-byte magic number")
    if magic[0] != 0 or magic[1] != 0:
        _fail(path, f"not an IDX file: magic starts with {magic[:2].hex()}, expected 0000")
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        _fail(path, f"unknown IDX data type code 0x{code:02x} (known: "
                    f"{', '.join(f'0x{c:02x}' for c in IDX_DTYPES)})")
    if not 1 <= ndim <= MAX_NDIM:
        _fail(path, f"unsupported number of dimensions {ndim} (expected 1..{MAX_NDIM})")
    dims = struct.unpack(f">{ndim}I", _read_exactly(stream, 4 * ndim, path, "dimension sizes"))
    dtype = IDX_DTYPES[code]
    nbytes = dtype.itemsize
    for d in dims:  # Python ints: no overflow however large the header claims
        nbytes *= d
    return dtype, tuple(dims), 4 + 4 * ndim, nbytes


def _finish(payload, dtype, dims):
    arr = np.frombuffer(payload, dtype=dtype).reshape(dims)
    native = dtype.newbyteorder("=")
    # bytearray-backed arrays are writable; multi-byte types need a byte swap anyway
    return arr.astype(native) if dtype.itemsize > 1 else arr.view(native)


def read_idx(path, max_bytes=DEFAULT_MAX_BYTES):
    """Read an IDX file (raw or gzip) into a native-endian NumPy array."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        compressed = f.read(2) == GZIP_MAGIC
        f.seek(0)
        if not compressed:
            dtype, dims, header_len, nbytes = _parse_header(f, path)
            have = file_size - header_len
            if nbytes > have:
                _fail(path, f"header declares shape {dims} ({nbytes} bytes of data) but the "
                            f"file holds only {have} bytes after the header (truncated?)")
            if nbytes < have:
                _fail(path, f"header declares shape {dims} ({nbytes} bytes of data) but the "
                            f"file holds {have} bytes after the header (trailing data)")
            if nbytes > max_bytes:
                _fail(path, f"data of {nbytes} bytes exceeds max_bytes={max_bytes}")
            return _finish(bytearray(_read_exactly(f, nbytes, path, "data")), dtype, dims)
        try:
            with gzip.GzipFile(fileobj=f, mode="rb") as gz:
                return _read_gzip_body(gz, path, file_size, max_bytes)
        except (gzip.BadGzipFile, EOFError, zlib.error) as err:
            _fail(path, f"corrupt or truncated gzip data ({err})")


def _read_gzip_body(gz, path, file_size, max_bytes):
    dtype, dims, header_len, nbytes = _parse_header(gz, path)
    bound = file_size * DEFLATE_MAX_RATIO
    if nbytes + header_len > bound:
        _fail(path, f"header declares shape {dims} ({nbytes} bytes) but a {file_size}-byte "
                    "gzip file cannot decompress to that much (corrupt header)")
    if nbytes > max_bytes:
        _fail(path, f"header declares shape {dims} ({nbytes} bytes), more than "
                    f"max_bytes={max_bytes}; refusing to decompress")
    # grow the buffer as data really arrives, never beyond the declared size
    buf = bytearray()
    while len(buf) < nbytes:
        part = gz.read(min(_CHUNK, nbytes - len(buf)))
        if not part:
            break
        buf += part
    if len(buf) < nbytes:
        _fail(path, f"truncated file: header declares shape {dims} ({nbytes} bytes) but the "
                    f"compressed data holds only {len(buf)} bytes")
    if gz.read(1):
        _fail(path, f"header declares shape {dims} ({nbytes} bytes) but the compressed data "
                    "holds more (trailing data)")
    return _finish(buf, dtype, dims)


def write_idx(path, array, compress=None):
    """Write `array` as IDX (gzip when `compress` or when the name ends in .gz)."""
    path = os.fspath(path)
    arr = np.ascontiguousarray(array)
    native = arr.dtype.newbyteorder("=")
    if native not in _CODES:
        raise TypeError(f"write_idx: IDX cannot store dtype {arr.dtype} (supported: uint8, "
                        "int8, int16, int32, float32, float64)")
    if not 1 <= arr.ndim <= MAX_NDIM:
        raise ValueError(f"write_idx: IDX needs 1..{MAX_NDIM} dimensions, got {arr.ndim}")
    code = _CODES[native]
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    payload = header + arr.astype(IDX_DTYPES[code], copy=False).tobytes()
    if compress is None:
        compress = path.endswith(".gz")
    with open(path, "wb") as f:
        f.write(gzip.compress(payload, mtime=0) if compress else payload)
