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
from .archive_format import UnsafeFileError
from .archive_read import load
from .archive_write import save
from .safetensors_files import SafetensorsError, load_safetensors, save_safetensors

__all__ = ["save", "load", "save_safetensors", "load_safetensors", "UnsafeFileError",
           "SafetensorsError"]
