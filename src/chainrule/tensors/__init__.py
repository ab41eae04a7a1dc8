"""The Tensor and everything bound to it: dtypes and devices, creation, methods,
views, printing, the `out=` wrapper and the torch.f(x) spellings of methods."""
