"""`chainrule.accelerator`, as `torch.accelerator` answers on a machine without one:
chainrule computes on the CPU, so code that picks "the accelerator if any" picks the CPU."""
__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index"]


def is_available():
    return False


def current_accelerator(check_available=False):
    return None


def device_count():
    return 0


def current_device_index():
    raise RuntimeError("Cannot access accelerator device when none is available.")
