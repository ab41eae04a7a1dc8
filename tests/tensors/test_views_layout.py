"""Memory layout as PyTorch reports and decides it: strides, storage offsets, data_ptr,
_base, which calls copy and which give views, and which writes to shared memory are
refused (expanded tensors, read-only memory)."""
import numpy as np
import pytest

import chainrule as cr
from helpers import requires_torch, torch
from test_views_inplace import error_of

pytestmark = requires_torch


# ---- copies and views, as PyTorch decides them -----------------------------------------
def test_transpose_contiguous_is_a_copy():
    for m in (cr, torch):
        x = m.arange(12.0).reshape(3, 4)
        y = x.t().contiguous()
        y[0, 0] = 100.0
        assert x[0, 0].item() == 0.0
        assert y.is_contiguous() and not x.t().is_contiguous()
        assert x.contiguous() is x


def test_view_of_transposed_tensor_raises_pytorchs_error():
    ours, theirs = error_of(lambda m: m.arange(12.0).reshape(3, 4).t().view(12))
    assert ours == theirs


def test_reshape_copies_only_when_it_must():
    for m in (cr, torch):
        x = m.arange(12.0).reshape(3, 4)
        assert x.reshape(4, 3).data_ptr() == x.data_ptr()
        r = x.t().reshape(12)
        assert r.data_ptr() != x.data_ptr() and not r._is_view()
        r[0] = -1.0
        assert x[0, 0].item() == 0.0


def test_strides_offsets_and_storage_match_pytorch():
    def layout(m):
        b = m.zeros(24)
        x = b.view(4, 6)
        out = []
        for v in (x, x.t(), x[1:, ::2], x[2], x[:, 3], x.expand(2, 4, 6), x[1:3].reshape(12),
                  x.permute(1, 0)[2:], b[5:].view(-1, 19)):
            out.append((tuple(v.stride()), v.storage_offset(), v.is_contiguous(), v._is_view(),
                        v._base is b, v.data_ptr() - b.data_ptr(),
                        v.untyped_storage().nbytes(),
                        v.untyped_storage().data_ptr() == b.data_ptr()))
        out.append((x.stride(1), x.stride(-2), b._base, b.storage_offset()))
        return out
    assert layout(cr) == layout(torch)


def test_clone_lays_out_memory_as_pytorch():
    def strides(m):
        x, y = m.zeros(4, 1, 4), m.zeros(3, 4)
        out = [x.expand(4, 2, 4).permute(*p).clone().stride()
               for p in ((1, 2, 0), (0, 1, 2), (2, 1, 0), (1, 0, 2), (2, 0, 1))]
        out += [y.t().clone().stride(), y[:, ::2].clone().stride(), y.t().contiguous().stride()]
        return [tuple(s) for s in out]
    assert strides(cr) == strides(torch)


def test_data_ptr_answers_memory_sharing_questions():
    for m in (cr, torch):
        x = m.arange(6.0)
        assert x.view(2, 3).data_ptr() == x.data_ptr()
        assert x[2:].data_ptr() == x.data_ptr() + 2 * x.element_size()
        assert x.clone().data_ptr() != x.data_ptr()
        assert x.detach().data_ptr() == x.data_ptr()
        z = m.zeros(6)
        before = z.data_ptr()
        z[:] = x + 1
        assert z.data_ptr() == before


def test_expand_then_contiguous_then_iadd_works():
    out = []
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0, 3.0, 4.0])
        y = x.expand(3, 4).contiguous()
        y += 1
        out.append((y.tolist(), x.tolist()))
    assert out[0] == out[1]


# ---- writing memory that is shared ----------------------------------------------------
def test_inplace_on_expanded_view_writing_one_element_twice_is_refused():
    def f(m):
        y = m.tensor([1.0, 2.0]).expand(3, 2)
        y += 1
    ours, theirs = error_of(f)
    assert ours.startswith("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location")
    assert theirs.startswith(ours[:90])

    def g(m):
        m.zeros(1).expand(4).copy_(m.ones(4))
    ours, theirs = error_of(g)
    assert ours == theirs


def test_out_argument_writes_through_views_and_refuses_expanded_ones():
    out = []
    for m in (cr, torch):
        base = m.zeros(2, 3)
        m.mul(m.ones(3, 2), 5, out=base.t())
        m.add(m.ones(2), 1, out=base[:, 1])
        with pytest.raises(RuntimeError) as info:
            m.add(m.ones(3, 4), 1, out=m.zeros(4).expand(3, 4))
        out.append((base.tolist(), str(info.value)[:100]))
    assert out[0] == out[1]


def test_inplace_write_into_read_only_memory_is_a_clear_error():
    t = cr.from_numpy(np.frombuffer(bytes(16), dtype=np.float32))
    for write in (lambda: t.add_(1), lambda: t.__setitem__(0, 1.0), lambda: t[1:].fill_(2)):
        with pytest.raises(RuntimeError, match="memory is read-only.*clone"):
            write()


def test_fill_on_expanded_view_writes_the_one_value():
    out = []
    for m in (cr, torch):
        x = m.zeros(2)
        x.expand(3, 2)[1:].fill_(2.0)
        out.append(x.tolist())
    assert out[0] == out[1] == [2.0, 2.0]
