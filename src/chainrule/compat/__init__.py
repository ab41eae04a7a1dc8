"""PyTorch compatibility: PyTorch's public names, kept as data, and the error for a name
chainrule does not have."""
