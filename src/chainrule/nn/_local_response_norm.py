"""F.local_response_norm (AlexNet's): each value divided by (k + alpha * the mean of the
squares over `size` neighbouring channels) ** beta, the window zero-padded at the edges.
Composed of differentiable ops (square, pad, a sliding window along the channels), so
every order of derivative comes with them."""
from ..tensors.tensor import Tensor
from ..ops.padding import pad


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    if not isinstance(input, Tensor):
        raise TypeError("local_response_norm(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.ndim < 3:
        raise ValueError("Expected 3D or higher dimensionality input (got "
                         f"{input.ndim} dimensions): local_response_norm normalises across "
                         f"dim 1 of an (N, C, ...) input, got shape {tuple(input.shape)}")
    if input.numel() == 0:
        return input
    # zeros before and after the channels (pad lists the last dimension first)
    widths = (0, 0) * (input.ndim - 2) + (size // 2, (size - 1) // 2)
    squares = pad(input * input, widths)
    window_mean = squares.unfold(1, size, 1).sum(-1) / size
    return input / (window_mean * alpha + k) ** beta
