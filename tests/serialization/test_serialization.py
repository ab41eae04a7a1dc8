"""chainrule.save/load and safetensors: round trips, interop with the safetensors package,
refusal of crafted files, atomic writes."""
import collections
import io
import json
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest

import chainrule
from chainrule import serialization
from chainrule.serialization import SafetensorsError
from chainrule.serialization import UnsafeFileError

from helpers import requires_torch, torch

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def sample(dtype, shape=(2, 3)):
    arr = (np.arange(int(np.prod(shape))) % 7 - 3).reshape(shape)
    return chainrule.from_numpy(arr.astype(dtype))


# ---- round trips --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (2, 3), (1, 2, 1, 2)])
def test_tensor_round_trip(tmp_path, dtype, shape):
    t = sample(dtype, shape)
    chainrule.save(t, tmp_path / "t.pt")
    out = chainrule.load(tmp_path / "t.pt")
    assert isinstance(out, chainrule.Tensor) and out.dtype == t.dtype and out.shape == t.shape
    np.testing.assert_array_equal(out.numpy(), t.numpy())
    out.add_(1) if dtype != "bool" else None  # loaded tensors are writable


def test_nested_containers_round_trip(tmp_path):
    sd = collections.OrderedDict([("0.weight", sample("float32")), ("0.bias", sample("int64", (3,)))])
    obj = {"state": sd, "epoch": 7, "lr": 0.1, "nan": float("nan"), "inf": float("-inf"),
           "flags": [True, False, None], "name": "run/1", "shape": (2, (3, "x")),
           5: "int key", (1, "a"): [], 2.5: {}, None: "none key", "np": np.arange(3)}
    chainrule.save(obj, tmp_path / "o.pt")
    out = chainrule.load(tmp_path / "o.pt")
    assert type(out["state"]) is collections.OrderedDict
    assert list(out["state"]) == ["0.weight", "0.bias"]
    np.testing.assert_array_equal(out["state"]["0.bias"].numpy(), sd["0.bias"].numpy())
    assert out["epoch"] == 7 and type(out["epoch"]) is int and out["lr"] == 0.1
    assert np.isnan(out["nan"]) and out["inf"] == float("-inf")
    assert out["flags"] == [True, False, None] and type(out["flags"][0]) is bool
    assert out["shape"] == (2, (3, "x")) and out[5] == "int key" and out[(1, "a")] == []
    assert out[2.5] == {} and out[None] == "none key" and out["name"] == "run/1"
    np.testing.assert_array_equal(out["np"], np.arange(3))


def test_shared_tensor_stored_once_and_requires_grad_kept(tmp_path):
    w = chainrule.ones(3, requires_grad=True)
    chainrule.save([w, w, chainrule.zeros(2)], tmp_path / "s.pt")
    a, b, c = chainrule.load(tmp_path / "s.pt")
    assert a is b and a.requires_grad and not c.requires_grad
    with zipfile.ZipFile(tmp_path / "s.pt") as zf:
        assert sorted(zf.namelist()) == ["arrays/0.npy", "arrays/1.npy", "tree.json"]


def test_file_objects_and_torch_load_kwargs(tmp_path):
    buf = io.BytesIO()
    chainrule.save({"x": sample("float32")}, buf)
    buf.seek(0)
    out = chainrule.load(buf, map_location="cpu", weights_only=True)
    np.testing.assert_array_equal(out["x"].numpy(), sample("float32").numpy())


def test_unsupported_objects_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot save an object of type set"):
        chainrule.save({1, 2}, tmp_path / "x")
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        chainrule.save(loop, tmp_path / "x")
    assert not os.path.exists(tmp_path / "x") and os.listdir(tmp_path) == []


# ---- crafted bad files --------------------------------------------------------------------
def write_zip(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


def tree(root):
    return json.dumps({"format": "chainrule.save", "version": 1, "root": root})


def npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def tensor_node(dtype, shape):
    return {"t": "tensor", "array": 0, "dtype": dtype, "shape": list(shape)}


def test_pickle_renamed_refused(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"w": [1.0, 2.0]}))
    with pytest.raises(UnsafeFileError, match="model.pt: not a chainrule save file: it "
                                              "looks like a pickle"):
        chainrule.load(path)


@requires_torch
def test_torch_checkpoint_refused(tmp_path):
    path = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(UnsafeFileError, match="not a chainrule save file: no tree.json.*"
                                              "PyTorch checkpoint"):
        chainrule.load(path)


def test_garbage_and_empty_refused(tmp_path):
    (tmp_path / "g").write_bytes(b"hello world, not a zip")
    with pytest.raises(UnsafeFileError, match="not a chainrule save file: it is not a zip"):
        chainrule.load(tmp_path / "g")
    (tmp_path / "e").write_bytes(b"")
    with pytest.raises(UnsafeFileError, match="file is empty or too short"):
        chainrule.load(tmp_path / "e")


@pytest.mark.parametrize("bad_name", ["../evil.npy", "/etc/passwd", "arrays/../../x.npy",
                                      "arrays/7.npy", "extra.txt"])
def test_unexpected_entry_names_refused(tmp_path, bad_name):
    path = tmp_path / "bad.pt"
    write_zip(path, {"tree.json": tree({"t": "none"}), bad_name: b"x"})
    with pytest.raises(UnsafeFileError, match="unexpected entry"):
        chainrule.load(path)


def test_zip_bomb_refused(tmp_path):
    # the tree says 4 bytes, the entry inflates to 50 MB of zeros
    path = tmp_path / "bomb.pt"
    write_zip(path, {"tree.json": tree(tensor_node("float32", [1])),
                     "arrays/0.npy": npy(np.zeros(1, np.float32)) + b"\0" * (50 << 20)},
              compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(UnsafeFileError, match=r"arrays/0.npy declares \d+ bytes but an array "
                                              r"of float32 \[1\] needs 4"):
        chainrule.load(path)


def test_tree_declaring_huge_shape_refused(tmp_path):
    path = tmp_path / "huge.pt"
    write_zip(path, {"tree.json": tree(tensor_node("float64", [10 ** 6, 10 ** 6])),
                     "arrays/0.npy": npy(np.zeros(2))})
    with pytest.raises(UnsafeFileError, match=r"declares \d+ bytes but an array of float64 "
                                              r"\[1000000, 1000000\] needs 8000000000000"):
        chainrule.load(path)


def npy_with_header(header, payload):
    """A version-1.0 .npy file with a hand-written header dict."""
    text = header.encode("latin1")
    text += b" " * (-(10 + len(text) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + payload


def test_npy_header_declaring_enormous_shape_refused(tmp_path):
    # tree and zip sizes agree with a 4-float array; the .npy header lies about its shape
    liar = npy_with_header("{'descr': '<f4', 'fortran_order': False, "
                           "'shape': (999999999999,), }", b"\0" * 16)
    path = tmp_path / "npy.pt"
    write_zip(path, {"tree.json": tree(tensor_node("float32", [4])), "arrays/0.npy": liar})
    with pytest.raises(UnsafeFileError, match=r"holds float32 \[999999999999\] but the tree "
                                              r"says float32 \[4\]"):
        chainrule.load(path)


def test_npy_payload_shorter_than_header_refused(tmp_path):
    short = npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
                            b"\0" * 12)
    path = tmp_path / "short.pt"
    write_zip(path, {"tree.json": tree(tensor_node("float32", [4])), "arrays/0.npy": short})
    with pytest.raises(UnsafeFileError, match="holds 12 bytes of data, expected 16"):
        chainrule.load(path)


def test_object_npy_refused(tmp_path):
    path = tmp_path / "obj.pt"
    obj = io.BytesIO()
    np.save(obj, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    write_zip(path, {"tree.json": tree(tensor_node("float32", [1])), "arrays/0.npy": obj.getvalue()})
    with pytest.raises(UnsafeFileError, match=r"obj.pt: .*holds object \[1\] but the tree"):
        chainrule.load(path)


@pytest.mark.parametrize("root,message", [
    ({"t": "exec", "v": "os.system"}, "unknown node type 'exec'"),
    ({"t": "tensor", "array": 3, "dtype": "float32", "shape": [1]}, "array 3, which is not"),
    ({"t": "tensor", "array": 0, "dtype": "object", "shape": [1]}, "unsupported dtype 'object'"),
    ({"t": "list", "items": "abc"}, "list node without a items list"),
    ({"t": "int", "v": "12"}, "int node holds str"),
])
def test_malformed_tree_refused(tmp_path, root, message):
    path = tmp_path / "tree.pt"
    extra = {"arrays/0.npy": npy(np.zeros(1, np.float32))} if root.get("array") == 0 else {}
    write_zip(path, {"tree.json": tree(root), **extra})
    with pytest.raises(UnsafeFileError, match=message):
        chainrule.load(path)


def test_wrong_format_tag_and_bad_json(tmp_path):
    write_zip(tmp_path / "a", {"tree.json": json.dumps({"format": "other", "root": None})})
    with pytest.raises(UnsafeFileError, match="does not describe a chainrule.save file"):
        chainrule.load(tmp_path / "a")
    write_zip(tmp_path / "b", {"tree.json": b"{not json"})
    with pytest.raises(UnsafeFileError, match="tree.json is not valid JSON"):
        chainrule.load(tmp_path / "b")


# ---- atomic writes ------------------------------------------------------------------------
def test_failed_save_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    chainrule.save({"v": chainrule.ones(3)}, path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(serialization.archive_write, "_npy_bytes", crash)  # dies after the zip started
    with pytest.raises(OSError, match="disk full"):
        chainrule.save({"v": chainrule.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # the temporary file is cleaned up
    np.testing.assert_array_equal(chainrule.load(path)["v"].numpy(), np.ones(3))


def test_crash_before_rename_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    chainrule.save_safetensors({"a": chainrule.ones(2)}, path)
    before = path.read_bytes()
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        chainrule.save_safetensors({"a": chainrule.zeros(5)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["w.safetensors"]


# ---- safetensors --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_safetensors_round_trip(tmp_path, dtype):
    tensors = {"a": sample(dtype), "empty": sample(dtype, (0, 2)), "scalar": sample(dtype, ())}
    chainrule.save_safetensors(tensors, tmp_path / "m.safetensors", metadata={"k": "v"})
    out, meta = serialization.load_safetensors(tmp_path / "m.safetensors", with_metadata=True)
    assert meta == {"k": "v"} and set(out) == set(tensors)
    for k, t in tensors.items():
        assert out[k].dtype == t.dtype and out[k].shape == t.shape
        np.testing.assert_array_equal(out[k].numpy(), t.numpy())


def test_save_dispatches_on_extension(tmp_path):
    chainrule.save({"w": chainrule.ones(2)}, tmp_path / "x.safetensors")
    assert struct.unpack("<Q", (tmp_path / "x.safetensors").read_bytes()[:8])[0] > 0
    np.testing.assert_array_equal(chainrule.load(tmp_path / "x.safetensors")["w"].numpy(),
                                  np.ones(2))
    with pytest.raises(TypeError, match="flat dict of name -> tensor"):
        chainrule.save({"w": [chainrule.ones(2)]}, tmp_path / "y.safetensors")


@requires_torch
def test_chainrule_file_loads_in_safetensors_torch(tmp_path):
    st = pytest.importorskip("safetensors.torch")
    lin = torch.nn.Linear(4, 3)
    ours = {k: chainrule.from_numpy(v.detach().numpy().copy()) for k, v in lin.state_dict().items()}
    chainrule.save_safetensors(ours, tmp_path / "lin.safetensors")
    loaded = st.load_file(str(tmp_path / "lin.safetensors"))
    fresh = torch.nn.Linear(4, 3)
    fresh.load_state_dict(loaded)
    for k, v in lin.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v)


@requires_torch
def test_safetensors_torch_file_loads_in_chainrule(tmp_path):
    st = pytest.importorskip("safetensors.torch")
    tensors = {"weight": torch.randn(3, 4), "bias": torch.randn(3), "ids": torch.arange(5),
               "half": torch.randn(2).half(), "mask": torch.tensor([True, False]),
               "bf": torch.tensor([1.5, -2.0], dtype=torch.bfloat16)}
    st.save_file(tensors, str(tmp_path / "t.safetensors"), metadata={"format": "pt"})
    out, meta = serialization.load_safetensors(tmp_path / "t.safetensors", with_metadata=True)
    assert meta == {"format": "pt"}
    for k, v in tensors.items():
        np.testing.assert_array_equal(out[k].numpy(), v.float().numpy() if k == "bf"
                                      else v.numpy())


def st_file(path, header, data=b"", raw_header=None):
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


@pytest.mark.parametrize("header,data,message", [
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4,
     "do not cover the data exactly .a truncated file"),
    ({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8,
     "need another number of bytes than its data_offsets span"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
      "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8,
     "overlap another tensor's.*invalid offset for tensor `b`"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8,
     "leave a gap before it.*invalid offset for tensor `a`"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 12,
     "do not cover the data exactly .* bytes that no tensor describes"),
    ({"a": {"dtype": "X99", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4,
     "not valid safetensors JSON.*unknown variant `X99`"),
    ({"a": {"dtype": "U32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4,
     "dtype U32, which chainrule does not support"),
    ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4,
     "not valid safetensors JSON.*integer `-1`"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}, b"\0" * 4,
     "run backwards.*invalid offset for tensor `a`"),
    ({"a": {"dtype": "F32", "shape": [1]}}, b"",
     "not valid safetensors JSON.*missing field `data_offsets`"),
    ({"__metadata__": {"k": 1}}, b"", "not valid safetensors JSON.*expected a string"),
    ({"a": {"dtype": "F32", "shape": [2 ** 62, 2 ** 62, 0], "data_offsets": [0, 0]}}, b"",
     "shape is invalid: its number of bytes overflows"),
    ({"a": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}, b"\0",
     "dtype F8_E4M3, which chainrule does not support"),
])
def test_bad_safetensors_refused(tmp_path, header, data, message):
    path = st_file(tmp_path / "bad.safetensors", header, data)
    with pytest.raises(SafetensorsError, match="bad.safetensors: not a valid safetensors "
                                               "file: .*" + message):
        chainrule.load_safetensors(path)


def test_bad_safetensors_headers(tmp_path):
    cases = [(struct.pack("<Q", 1 << 40), "exceeds the format's 100 MB cap"),
             (struct.pack("<Q", 500) + b"{}", "larger than the rest of the file"),
             (b"\1\2", "only 2 bytes, too short for the 8-byte header length"),
             (struct.pack("<Q", 4) + b'{"\xff"', "not UTF-8")]
    for i, (blob, message) in enumerate(cases):
        path = tmp_path / f"h{i}.safetensors"
        path.write_bytes(blob)
        with pytest.raises(SafetensorsError, match=message):
            chainrule.load_safetensors(path)
    bad_json = st_file(tmp_path / "j.safetensors", None, raw_header=b"[1, 2]   ")
    with pytest.raises(SafetensorsError, match="not valid safetensors JSON"):
        chainrule.load_safetensors(bad_json)
    # a name given twice keeps one entry, so the other's bytes are left uncovered
    dup = st_file(tmp_path / "d.safetensors", None, b"\0" * 8, raw_header=(
        b'{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},'
        b'"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}'))
    with pytest.raises(SafetensorsError, match="data_offsets"):
        chainrule.load_safetensors(dup)
