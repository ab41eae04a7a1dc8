"""The chunks of a batch that the chunked convolution kernels (conv_chunked.py,
conv_bands.py) walk: run one after another, or side by side on the worker threads of
`chainrule.threads` where cores are free. Each chunk has buffers of its own thread and
writes only its own slice of the output; sums over chunks are made afterwards, in chunk
order. So the bits are the same for any number of threads."""
import threading

from ..threads import map_parts


def run(n, m, fn):
    """[fn(n0, n1) for each chunk [n0, n1) of m images (the last may be shorter)]."""
    starts = range(0, n, m)
    return map_parts(lambda i: fn(starts[i], min(n, starts[i] + m)), len(starts))


class Buffers:
    """make(k)'s buffers for a chunk of k images, made once per chunk size and thread
    (with zeros_like/empty_like of an operand, so a compile recording follows them)."""

    def __init__(self, make):
        self.make, self.made = make, {}

    def __call__(self, k):
        key = (k, threading.get_ident())
        bufs = self.made.get(key)
        if bufs is None:
            bufs = self.made[key] = self.make(k)
        return bufs


def ordered_sum(parts, total):
    """total += each part, in chunk order."""
    for part in parts:
        total += part
    return total
