"""The chainrule save file: its names, limits and the error for a file that is not one."""
import os

from ..tensors import dtypes

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
ARRAY_DTYPES = {d.name: d.np for d in dtypes.ALL}
GRAD_DTYPES = {d.name for d in dtypes.ALL if d.is_floating_point}


class UnsafeFileError(ValueError):
    """A file that is not a well-formed chainrule save file."""


def is_safetensors_path(f):
    return isinstance(f, (str, os.PathLike)) and os.fspath(f).endswith(".safetensors")
