"""Crafted files never run code and never make the loaders allocate without bound: each
is refused with a message naming the problem, the pickle's marker file never appears,
and every load runs in a subprocess whose address space is capped."""
import gzip
import io
import json
import os
import pickle
import re
import struct
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # starts processes or runs long work: `-m "not slow"` skips it

MEMORY_CAP = 1536 * 1024 * 1024   # far below what any of these files claims to need

LOADER = textwrap.dedent("""
    import resource, sys
    cap = int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    import chainrule as torch
    from chainrule.vision.idx import read_idx
    load = read_idx if sys.argv[1] == "idx" else torch.load
    try:
        load(sys.argv[2])
    except MemoryError:
        print("MEMORY"); sys.exit(3)
    except Exception as err:
        print(type(err).__name__ + ": " + str(err)); sys.exit(0)
    print("LOADED"); sys.exit(4)
""")


class _Payload:
    """Unpickling this creates the marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _pickle_bytes(marker):
    return pickle.dumps({"weights": _Payload(marker)})


def _tree(root):
    return json.dumps({"format": "chainrule.save", "version": 1, "root": root})


def _npy_header(shape, descr="<f4"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members:
            zf.writestr(name, data)


def _safetensors(path, header, data=b""):
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)


def _build(tmp, case, marker):
    """Write the crafted file for `case`; return (loader kind, path)."""
    pk = _pickle_bytes(marker)
    if case.startswith("pickle-as-"):
        path = tmp / ("payload" + case[len("pickle-as"):].replace("-", "."))
        path.write_bytes(pk)
        return "load", path
    if case == "pickle-inside-zip":       # PyTorch's own layout: data.pkl in a zip
        path = tmp / "torch_style.pt"
        _zip(path, [("archive/data.pkl", pk), ("archive/version", b"3")])
        return "load", path
    if case == "pickle-in-array-entry":   # a pickle where an .npy entry should be
        path = tmp / "entry.pt"
        root = {"t": "tensor", "array": 0, "dtype": "float32", "shape": [2]}
        _zip(path, [("tree.json", _tree(root)), ("arrays/0.npy", pk)])
        return "load", path
    if case == "npy-object-dtype":
        path = tmp / "objects.npy"
        np.save(path, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
        return "load", path
    if case == "object-dtype-inside-zip":  # an allow_pickle .npy as the array entry
        path = tmp / "objects.pt"
        buf = io.BytesIO()
        np.save(buf, np.array([_Payload(marker), 1], dtype=object), allow_pickle=True)
        root = {"t": "tensor", "array": 0, "dtype": "float32", "shape": [2]}
        _zip(path, [("tree.json", _tree(root)), ("arrays/0.npy", buf.getvalue())])
        return "load", path
    if case == "zip-path-traversal":
        path = tmp / "traversal.pt"
        _zip(path, [("tree.json", _tree({"t": "none"})), ("../../escaped.txt", b"x"),
                    ("/etc/owned", b"x")])
        return "load", path
    if case == "zip-bomb":                 # 2 GiB of zeros, 2 MB on disk
        path = tmp / "bomb.pt"
        n = 2 ** 29
        root = {"t": "tensor", "array": 0, "dtype": "float32", "shape": [n]}
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.writestr("tree.json", _tree(root))
            with zf.open("arrays/0.npy", "w", force_zip64=True) as member:
                member.write(_npy_header((n,)))
                zeros = bytes(1 << 24)
                for _ in range(4 * n // len(zeros)):
                    member.write(zeros)
        return "load", path
    if case == "zip-lying-sizes":          # directory claims 8 bytes, data inflates to 64 MB
        path = tmp / "liar.pt"
        root = {"t": "tensor", "array": 0, "dtype": "float32", "shape": [2]}
        payload = _npy_header((2,)) + bytes(8)
        _zip(path, [("tree.json", _tree(root)), ("arrays/0.npy", payload + bytes(1 << 26))],
             zipfile.ZIP_DEFLATED)
        raw = bytearray(path.read_bytes())
        true_size = struct.pack("<I", len(payload) + (1 << 26))
        fake_size = struct.pack("<I", len(payload))
        raw = raw.replace(true_size, fake_size)  # local and central directory sizes
        path.write_bytes(bytes(raw))
        return "load", path
    if case == "save-tree-huge-shape":     # tree and .npy header both claim 2**62 floats
        path = tmp / "huge.pt"
        root = {"t": "tensor", "array": 0, "dtype": "float32", "shape": [2 ** 31, 2 ** 31]}
        _zip(path, [("tree.json", _tree(root)),
                    ("arrays/0.npy", _npy_header((2 ** 31, 2 ** 31)) + bytes(16))])
        return "load", path
    if case == "safetensors-huge-shape":
        path = tmp / "huge.safetensors"
        _safetensors(path, {"w": {"dtype": "F32", "shape": [2 ** 40, 2 ** 20],
                                  "data_offsets": [0, 2 ** 62]}}, bytes(16))
        return "load", path
    if case == "save-tree-overflowing-empty-shape":  # 2**64 x 0: no bytes, no valid shape
        path = tmp / "overflow.pt"
        root = {"t": "tensor", "array": 0, "dtype": "float32", "shape": [2 ** 64, 0]}
        header = _npy_header((2 ** 63 - 1, 0)).replace(
            str(2 ** 63 - 1).encode(), str(2 ** 64).encode().ljust(19))
        _zip(path, [("tree.json", _tree(root)), ("arrays/0.npy", header)])
        return "load", path
    if case == "safetensors-overflowing-empty-shape":
        path = tmp / "overflow.safetensors"
        _safetensors(path, {"w": {"dtype": "F32", "shape": [2 ** 64, 0],
                                  "data_offsets": [0, 0]}})
        return "load", path
    if case == "safetensors-shape-product-overflows":  # each side fits, the product not
        path = tmp / "product.safetensors"
        _safetensors(path, {"w": {"dtype": "F32", "shape": [2 ** 62, 2 ** 62, 0],
                                  "data_offsets": [0, 0]}})
        return "load", path
    if case == "save-tree-int-requires-grad":
        path = tmp / "intgrad.pt"
        root = {"t": "tensor", "array": 0, "dtype": "int64", "shape": [2],
                "requires_grad": True}
        _zip(path, [("tree.json", _tree(root)),
                    ("arrays/0.npy", _npy_header((2,), "<i8") + bytes(16))])
        return "load", path
    if case == "safetensors-huge-header":
        path = tmp / "header.safetensors"
        path.write_bytes(struct.pack("<Q", 2 ** 60) + b"{}")
        return "load", path
    if case == "idx-huge-shape":
        path = tmp / "huge-idx"
        path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", 2 ** 31, 2 ** 31, 2 ** 31))
        return "idx", path
    if case == "idx-gzip-huge-shape":
        path = tmp / "huge-idx.gz"
        path.write_bytes(gzip.compress(bytes([0, 0, 8, 2]) + struct.pack(">2I", 2 ** 20, 2 ** 12)))
        return "idx", path
    if case == "idx-gzip-bomb":            # honest header, 2 GiB of zeros behind it
        path = tmp / "bomb-idx.gz"
        n = 2 ** 31
        with gzip.open(path, "wb", compresslevel=1) as gz:
            gz.write(bytes([0, 0, 8, 1]) + struct.pack(">I", n))
            zeros = bytes(1 << 24)
            for _ in range(n // len(zeros)):
                gz.write(zeros)
        return "idx", path
    raise AssertionError(case)


# (case, regex the refusal must match)
CASES = [
    ("pickle-as-.pt", r"looks like a pickle, which chainrule never loads"),
    ("pickle-as-.pth", r"looks like a pickle"),
    ("pickle-as-.safetensors", r"not a valid safetensors file: the header length .* exceeds"),
    ("pickle-as-.npz", r"looks like a pickle"),
    ("pickle-as-.npy", r"looks like a pickle"),
    ("pickle-inside-zip", r"no tree.json.*PyTorch checkpoint, which is pickle-based"),
    ("pickle-in-array-entry", r"arrays/0.npy (declares \d+ bytes|is not a valid \.npy)"),
    ("npy-object-dtype", r"not a zip archive \(starts with b'\\x93NUMPY"),
    ("object-dtype-inside-zip", r"arrays/0.npy (declares|holds|is not a valid)"),
    ("zip-path-traversal", r"unexpected entry '\.\./\.\./escaped\.txt'"),
    ("zip-bomb", r"expands \d+ compressed bytes to \d+.*zip bomb"),
    ("zip-lying-sizes", r"decompresses to \d+ bytes, not the \d+ it declares|corrupt"),
    ("save-tree-huge-shape", r"declares \d+ bytes but an array of float32 \[2147483648, "),
    ("safetensors-huge-shape", r"shape is invalid: its number of bytes overflows"),
    ("save-tree-overflowing-empty-shape", r"array 0 has an invalid shape \[18446744073709551616, 0\]"),
    ("safetensors-overflowing-empty-shape", r"not valid safetensors JSON.*expected usize"),
    ("safetensors-shape-product-overflows", r"shape is invalid: its number of bytes overflows"),
    ("save-tree-int-requires-grad", r"int64 tensor marked requires_grad"),
    ("safetensors-huge-header", r"header length in its first 8 bytes exceeds the format's 100 MB cap"),
    ("idx-huge-shape", r"declares shape \(2147483648, 2147483648, 2147483648\).*truncated"),
    ("idx-gzip-huge-shape", r"gzip file cannot decompress to that much"),
    ("idx-gzip-bomb", r"more than max_bytes=\d+; refusing to decompress"),
]


@pytest.fixture(scope="module")
def loader_script(tmp_path_factory):
    path = tmp_path_factory.mktemp("loader") / "load.py"
    path.write_text(LOADER)
    return path


@pytest.mark.parametrize("case, pattern", CASES, ids=[c[0] for c in CASES])
def test_crafted_file_is_refused(tmp_path, loader_script, case, pattern):
    marker = tmp_path / "CODE_RAN"
    kind, path = _build(tmp_path, case, str(marker))
    if case == "idx-gzip-bomb":
        # the default cap (2 GiB) is above our memory cap: lower it as a caller would
        script = loader_script.read_text().replace(
            "load = read_idx", "load = lambda p: read_idx(p, max_bytes=2**28); read_idx")
        loader = tmp_path / "load_capped.py"
        loader.write_text(script)
    else:
        loader = loader_script
    result = subprocess.run([sys.executable, str(loader), kind, str(path), str(MEMORY_CAP)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    assert not marker.exists(), "loading the file ran code"
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert str(path.name) in result.stdout or kind == "load" and "<stream>" in result.stdout
    assert re.search(pattern, result.stdout), result.stdout


def test_plain_numpy_would_have_run_the_payload(tmp_path):
    # guards the marker mechanism itself: the same bytes through pickle do create it
    marker = tmp_path / "CODE_RAN"
    pickle.loads(_pickle_bytes(str(marker)))
    assert marker.exists()
    os.remove(marker)
