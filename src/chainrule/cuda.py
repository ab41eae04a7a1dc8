"""`chainrule.cuda`, as `torch.cuda` behaves in PyTorch's CPU-only build: queries answer
"no GPU", seeding is a silent no-op (so seeding scripts run), and anything that needs a
GPU fails with the same error as placing a tensor on 'cuda'."""
from .tensors.devices import place

__all__ = ["is_available", "device_count", "is_initialized", "manual_seed",
           "manual_seed_all", "empty_cache", "current_device", "synchronize",
           "get_device_name", "set_device"]


def is_available():
    return False


def device_count():
    return 0


def is_initialized():
    return False


def manual_seed(seed):
    pass  # PyTorch defers CUDA seeding until a GPU is used; with none it never happens


def manual_seed_all(seed):
    pass


def empty_cache():
    pass


def _needs_gpu(name):
    def fn(*args, **kwargs):
        place("cuda", f"cuda.{name}")
    fn.__name__ = name
    return fn


current_device = _needs_gpu("current_device")
synchronize = _needs_gpu("synchronize")
get_device_name = _needs_gpu("get_device_name")
set_device = _needs_gpu("set_device")
