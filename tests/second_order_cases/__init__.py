"""Second-order cases kept beside their concept: each module here defines `CASES`, a dict
name -> (function of (M, F, L, *inputs), input specs), in the form of
tests/autograd/test_second_order.py, which merges them into its enumeration. Input specs are
("any", shape), ("pos", shape) or ("unit", shape)."""
import importlib
import pkgutil


def collected():
    merged = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        clash = set(merged) & set(module.CASES)
        assert not clash, f"second-order case names defined twice: {sorted(clash)}"
        merged.update(module.CASES)
    return merged
