"""DistributedDataParallel: every rank holds the whole model and a share of each batch.

Rank 0's parameters and buffers are broadcast at construction so all replicas start
equal. Each forward notes which parameters its output depends on; when backward has
accumulated all of their gradients (the post-accumulate-grad hooks), the gradients are
packed into flat contiguous buckets, summed with one non-blocking allreduce per bucket
(all buckets in flight together, as Horovod's tensor fusion) and divided by the world
size. Replicas that start equal and apply equal averaged gradients stay equal."""
import contextlib

import numpy as np

from ... import distributed as dist
from ...autograd import grad_mode
from ...autograd.function import Node
from ...distributed.process_group import _comm, _mpi, _wait, _wire, broadcast_array
from ...tensors.tensor import Tensor
from ..module import Module
from ..tables import set_plainly


def _leaves(outputs):
    """ids of the leaf tensors the autograd graph of `outputs` reaches."""
    stack, seen, found = [], set(), set()

    def add(obj):
        if isinstance(obj, Tensor):
            if obj.grad_fn is not None:
                stack.append(obj.grad_fn)
            elif obj.requires_grad:
                found.add(id(obj))
        elif isinstance(obj, (list, tuple)):
            for o in obj:
                add(o)
        elif isinstance(obj, dict):
            for o in obj.values():
                add(o)
    add(outputs)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for e in node.edges:
            if isinstance(e, Node):
                stack.append(e)
            elif e is not None:
                found.add(id(e))
    return found


def _buckets(params, cap_bytes):
    """Consecutive parameters of one dtype, each group at most cap_bytes (or one
    parameter); the same split on every rank because parameter order is the same."""
    out, cur, size = [], [], 0
    for p in params:
        nbytes = p._data.nbytes
        if cur and (size + nbytes > cap_bytes or p._data.dtype != cur[0]._data.dtype):
            out.append(cur)
            cur, size = [], 0
        cur.append(p)
        size += nbytes
    if cur:
        out.append(cur)
    return out


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=25,
                 find_unused_parameters=False, gradient_as_bucket_view=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a chainrule nn.Module, got "
                            f"{type(module).__name__}")
        if not dist.is_initialized():
            raise RuntimeError("DistributedDataParallel: the default process group has not "
                               "been initialized; call chainrule.distributed."
                               "init_process_group() first")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got "
                             f"{bucket_cap_mb!r}")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = bucket_cap_mb
        object.__setattr__(self, "_sync", True)
        object.__setattr__(self, "_expected", set())  # ids still owed a gradient
        object.__setattr__(self, "_ready", [])
        params = [p for p in module.parameters() if p.requires_grad]
        object.__setattr__(self, "_params", params)
        object.__setattr__(self, "_bucket_list", _buckets(params, bucket_cap_mb * 2 ** 20))
        object.__setattr__(self, "_handles",
                           [p.register_post_accumulate_grad_hook(self._grad_ready)
                            for p in params])
        self._broadcast_state(list(module.parameters()) + list(module.buffers()))

    # ---- parameters and buffers from rank 0 -----------------------------------------
    @staticmethod
    def _broadcast_state(tensors):
        tensors = [t for t in tensors if t._data.size]
        for group in _buckets(tensors, float("inf")):  # one broadcast per dtype
            flat = np.concatenate([_wire(t._data).ravel() for t in group])
            broadcast_array(flat, 0, "DistributedDataParallel")
            offset = 0
            for t in group:
                n = t._data.size
                t._data[...] = flat[offset:offset + n].reshape(t._data.shape)
                t._version[0] += 1
                offset += n

    def forward(self, *args, **kwargs):
        if self.broadcast_buffers and self.training:
            buffers = list(self.module.buffers())
            if buffers:
                self._broadcast_state(buffers)
        out = self.module(*args, **kwargs)
        if self._sync and grad_mode.is_grad_enabled():
            if self._ready:
                raise RuntimeError(
                    "DistributedDataParallel: the previous backward did not produce "
                    "gradients for every parameter the forward used, so they were not "
                    "averaged across ranks; make every such parameter take part in the loss")
            mine = {id(p) for p in self._params}
            set_plainly(self, "_expected", self._expected | (_leaves(out) & mine))
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Gradients of backward passes whose forward ran inside stay local and keep
        accumulating; the first synchronised backward after it averages their sum."""
        old = self._sync
        set_plainly(self, "_sync", False)
        try:
            yield
        finally:
            set_plainly(self, "_sync", old)

    # ---- gradient averaging ---------------------------------------------------------
    def _grad_ready(self, param):
        if id(param) not in self._expected:
            return
        self._ready.append(id(param))
        if len(self._ready) == len(self._expected):
            self._expected.clear()
            self._ready.clear()
            self._allreduce_grads()

    def _allreduce_grads(self):
        comm = _comm("DistributedDataParallel")
        size = comm.Get_size()
        if size == 1:
            return
        MPI = _mpi()
        pending = []
        for group in self._bucket_list:
            with_grad = [p for p in group if p.grad is not None]
            if not with_grad:
                continue
            flat = np.concatenate([_wire(p.grad._data).ravel() for p in with_grad])
            pending.append((with_grad, flat, comm.Iallreduce(MPI.IN_PLACE, flat, op=MPI.SUM)))
        for with_grad, flat, request in pending:
            _wait(request, "DistributedDataParallel gradient allreduce", flat.nbytes)
            flat /= size
            offset = 0
            for p in with_grad:
                g = p.grad
                n = g._data.size
                g._data[...] = flat[offset:offset + n].reshape(g._data.shape)
                g._version[0] += 1
                offset += n
