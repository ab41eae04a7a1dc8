"""Writing into a tensor in place: the checks PyTorch makes first (a leaf that requires
grad, a view's base, overlapping operands, shapes, the result's dtype), the cast of the
result into the tensor's dtype, and the version bump that catches a saved tensor changed
afterwards."""
import numpy as np

from ..autograd import grad_mode
from ..autograd.function import TensorBase
from . import dtypes, views
from . import tensor as tensor_module  # the Tensor class, defined after this mixin


class InPlaceWrites:
    __slots__ = ()
    def _check_inplace(self, opname):
        if not grad_mode._state[0]:
            return
        if self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"a leaf Variable that requires grad is being used in an in-place operation "
                f"({opname}). Wrap the update in `with chainrule.no_grad():` or use an "
                "out-of-place op.")
        if self._view is not None:
            views.check_inplace(self, opname)

    def _inplace(self, fn, *args, opname, overlap_ok=False):
        """Replace this tensor's values by `fn(self, *args)` keeping id, storage and views.
        When autograd records, the result's graph is grafted onto this tensor (onto its
        base through a CopySlices node when it is a view; see views.py)."""
        self._check_inplace(opname)
        for a in args:
            if isinstance(a, TensorBase):
                views.check_partial_overlap(self._data, a._data)
        if len(args) == 1 and isinstance(args[0], (TensorBase, bool, int, float)):
            self._check_result_type(args[0], opname)
        if grad_mode._state[0] and (self.requires_grad or any(
                getattr(a, "requires_grad", False) for a in args)):
            old = tensor_module.Tensor._wrap(self._data.copy())
            old.requires_grad, old.grad_fn = self.requires_grad, self.grad_fn
            result = fn(old, *args)
            self._assign(result._data, opname, overlap_ok)
            views.record_inplace(self, result)
        else:
            with grad_mode.no_grad():
                result = fn(self, *args)
            self._assign(result._data, opname, overlap_ok)
        return self

    def _check_inplace_shape(self, other, opname):
        """PyTorch checks shapes before dtypes: uint8 (3,) &= float32 (2, 3) is a shape
        error, not bitwise_and's refusal of floats."""
        mine, theirs = self._data.shape, other._data.shape
        if theirs == mine:
            return
        try:
            shape = np.broadcast_shapes(mine, theirs)
        except ValueError:
            raise RuntimeError(f"{opname}: the shape {tuple(theirs)} of the other operand can't "
                               f"be broadcast to this tensor's shape {tuple(mine)}") from None
        if shape != mine:
            raise RuntimeError(f"{opname}: output with shape {tuple(mine)} doesn't match the "
                               f"broadcast shape {tuple(shape)}")

    def _check_result_type(self, other, opname):
        """PyTorch refuses before computing: x.bitwise_and_(2.5) on an int tensor is a
        cast error (a float result), not bitwise_and's own refusal of floats."""
        from ..ops.core import promote
        want = promote(self, other)
        if not dtypes.can_cast_inplace(want, self._data.dtype):
            raise RuntimeError(f"{opname}: result type {dtypes._BY_NP[want]} can't be cast to "
                               f"the desired output type {self.dtype}")

    def _assign(self, values, opname, overlap_ok=False):
        """The op computed in the promoted dtype; its result cast into self as PyTorch
        casts: integers wrap around (uint8 250 + int8 10 is 4), but never a float result
        into an integer tensor, nor a non-bool into a bool one."""
        if values.dtype != self._data.dtype and not dtypes.can_cast_inplace(values.dtype,
                                                                           self._data.dtype):
            raise RuntimeError(f"{opname}: result type {dtypes._BY_NP[values.dtype]} can't be "
                               f"cast to the desired output type {self.dtype}")
        try:
            with np.errstate(over="ignore"):  # float64 past 65,504 is inf in float16
                np.copyto(views.writable(self._data, overlap_ok), values, casting="unsafe")
        except ValueError:
            raise RuntimeError(f"{opname}: output with shape {tuple(self._data.shape)} doesn't "
                               f"match the broadcast shape {tuple(values.shape)}") from None
        self._version[0] += 1
