"""The error for a PyTorch name chainrule does not have: `chainrule.fft` or `x.stft` say
"chainrule does not support torch.fft" rather than a bare AttributeError. It stays an
AttributeError, so hasattr() and getattr(obj, name, default) behave as usual."""
from . import torch_names as _torch_names


class UnsupportedError(AttributeError):
    pass


def missing(owner, name):
    """The error to raise for attribute `name` looked up on chainrule (`owner` "torch"),
    on a Tensor ("torch.Tensor"), or on chainrule.distributions, .nn or .nn.functional
    ("torch.distributions", ...)."""
    table = {"torch": _torch_names.TORCH, "torch.Tensor": _torch_names.TENSOR,
             "torch.distributions": _torch_names.DISTRIBUTIONS, "torch.nn": _torch_names.NN,
             "torch.nn.functional": _torch_names.NN_FUNCTIONAL}[owner]
    if name in table:
        return UnsupportedError(f"chainrule does not support {owner}.{name} (PyTorch has it; "
                                "chainrule implements only part of PyTorch's API)")
    where = ("'Tensor' object" if owner == "torch.Tensor" else
             f"module '{owner.replace('torch', 'chainrule', 1)}'")
    return AttributeError(f"{where} has no attribute {name!r}")


def tensor_getattr(self, name):
    # only reached when normal lookup fails: never for existing methods or attributes
    raise missing("torch.Tensor", name)
