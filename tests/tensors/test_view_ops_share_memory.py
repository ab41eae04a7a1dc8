"""PyTorch's list of view ops (docs: Tensor Views), each run on chainrule and PyTorch:
`_is_view()` must agree, and a write through the result must reach the base the same
way in both (values of the base compared after the write)."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

# name -> op on a (2, 3, 4) float tensor; each returns one tensor
VIEW_OPS = {
    "basic_slice": lambda m, x: x[1:, ::2],
    "basic_int": lambda m, x: x[1],
    "basic_none_ellipsis": lambda m, x: x[None, ..., 1],
    "as_strided_like_diagonal": lambda m, x: x.diagonal(0, 1, 2),
    "detach": lambda m, x: x.detach(),
    "diagonal": lambda m, x: m.diagonal(x, offset=1, dim1=0, dim2=2),
    "expand": lambda m, x: x[:, :1].expand(2, 5, 4),
    "expand_as": lambda m, x: x[:1].expand_as(x),
    "broadcast_to": lambda m, x: m.broadcast_to(x[:, :, :1], (2, 3, 4)),
    "movedim": lambda m, x: x.movedim(0, 2),
    "moveaxis": lambda m, x: m.moveaxis(x, 1, 0),
    "narrow": lambda m, x: x.narrow(2, 1, 2),
    "permute": lambda m, x: x.permute(2, 0, 1),
    "select": lambda m, x: x.select(1, 2),
    "squeeze": lambda m, x: x[:, :1].squeeze(1),
    "transpose": lambda m, x: x.transpose(0, 2),
    "swapaxes": lambda m, x: x.swapaxes(0, 1),
    "swapdims": lambda m, x: x.swapdims(1, 2),
    "t": lambda m, x: x[0].t(),
    "T": lambda m, x: x[0].T,
    "mT": lambda m, x: x.mT,
    "unflatten": lambda m, x: x.unflatten(2, (2, 2)),
    "unfold": lambda m, x: x.unfold(2, 2, 1),
    "unsqueeze": lambda m, x: x.unsqueeze(1),
    "view": lambda m, x: x.view(6, 4),
    "view_as": lambda m, x: x.view_as(m.zeros(4, 6)),
    "view_dtype": lambda m, x: x.view(m.int32),
    "reshape_contiguous": lambda m, x: x.reshape(3, 8),
    "flatten": lambda m, x: x.flatten(1),
    "ravel_contiguous": lambda m, x: x.ravel(),
    "split": lambda m, x: x.split(1, 0)[1],
    "split_sizes": lambda m, x: x.split([1, 3], 2)[1],
    "chunk": lambda m, x: x.chunk(2, 2)[1],
    "unbind": lambda m, x: x.unbind(1)[2],
    "tensor_split": lambda m, x: m.tensor_split(x, 2, dim=2)[0],
    "hsplit": lambda m, x: m.hsplit(x, 3)[1],
    "vsplit": lambda m, x: m.vsplit(x, 2)[0],
    "dsplit": lambda m, x: m.dsplit(x, 2)[1],
    "real": lambda m, x: x.real,
    # not views: the copies PyTorch makes
    "reshape_copy": lambda m, x: x.transpose(0, 1).reshape(-1),
    "flatten_copy": lambda m, x: x.transpose(0, 2).flatten(),
    "advanced_index": lambda m, x: x[[0, 1]],
    "flip": lambda m, x: x.flip(0),
    "clone": lambda m, x: x.clone(),
    "contiguous_copy": lambda m, x: x.transpose(0, 1).contiguous(),
}


def _run(m, name):
    base = m.tensor(np.arange(24.0, dtype=np.float32).reshape(2, 3, 4))
    out = VIEW_OPS[name](m, base)
    is_view = out._is_view()
    with m.no_grad():
        out[(0,) * out.ndim] = -7 if out.dtype.is_floating_point else 7
    return is_view, base.numpy().copy()


@pytest.mark.parametrize("name", sorted(VIEW_OPS))
def test_view_op_shares_memory_as_in_torch(name):
    ours_view, ours_base = _run(cr, name)
    ref_view, ref_base = _run(torch, name)
    assert ours_view == ref_view
    np.testing.assert_array_equal(ours_base, ref_base)
