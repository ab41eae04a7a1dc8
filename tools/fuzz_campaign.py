"""Unbounded differential-fuzzing campaign: random op graphs in chainrule and PyTorch
until the time is up. Each distinct failure is shrunk (steps dropped while it still
fails) and written as a plain pytest file under tests/regressions/. With --compiled MODE
each graph's compiled replays are compared with eager instead, bit for bit
(tests/fuzz/fuzz_compile.py; failures are reported, not written).

    python tools/fuzz_campaign.py --minutes 10 --seed 1
    python tools/fuzz_campaign.py --minutes 5 --compiled max-autotune --no-write
"""
import argparse
import os
import re
from collections import Counter
import sys
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "fuzz"))

from fuzz_check import COUNTER, Mismatch, check_recipe, regression_source  # noqa: E402
import fuzz_compile  # noqa: E402
from fuzz_gen import COMPILED_ONLY, PROFILES, RandomChooser, generate  # noqa: E402
from fuzz_known import SEEN  # noqa: E402


_CHECK = [check_recipe]  # what a graph is checked with (--compiled: compiled vs eager)


def _fails(recipe):
    try:
        _CHECK[0](recipe)
    except Mismatch as err:
        return err
    except Exception as err:  # noqa: BLE001 - a crash in the checker is a finding too
        return err
    return None


_WHERE = re.compile(r"^(value|grad of leaf|second-order grad of leaf|only \w+ raised at step) "
                    r"\d+ \('(\w+)', (?:'(\w+)'|\(.*?\), '(\w+)')")


def _signature(err):
    """Group failures by what differs (a value: its op; a gradient: its leaf's dtype) and
    how, numbers stripped: 'values differ' in a float16 gradient and in a var are two."""
    line = str(err).splitlines()[0] if str(err) else type(err).__name__
    where = _WHERE.match(line)
    head = " ".join(p for p in where.groups() if p) if where else ""
    how = "".join(ch for ch in line.split(":")[-1] if not ch.isdigit())
    return f"{head}:{how}"[:160] + type(err).__name__


def _drop(recipe, k):
    """The recipe without step k (later references renumbered); None if k is used."""
    def uses(step):
        return any(isinstance(x, int) and not isinstance(x, bool) and x == k for x in _refs(step))
    if any(uses(s) for s in recipe[k + 1:]):
        return None
    shift = lambda i: i - 1 if i > k else i  # noqa: E731
    return [_renumber(s, shift) for s in recipe[:k]] + [_renumber(s, shift) for s in recipe[k + 1:]]


# positions of value references in each step kind (the rest are parameters)
_REF_SLOTS = {"unary": (2,), "binary": (2, 3), "scalar": (2,), "reduce": (2,), "matmul": (1, 2),
              "reshape": (1,), "transpose": (1,), "permute": (1,), "expand": (1,),
              "squeeze": (1,), "unsqueeze": (1,), "flatten": (1,), "flip": (1,), "cat": (1,),
              "stack": (1,), "split": (1,), "chunk": (1,), "unbind": (1,), "index": (1,),
              "index_by": (1, 2), "masked_fill": (1, 2), "gather": (1,), "where": (1, 2, 3),
              "inplace": (2,), "clone": (1,), "leaf": (), "second_order": (),
              "view_of": (1,), "inplace_grad": (2,), "flatcat": (1,),
              "reduce_dtype": (2,), "loss": (2, 3),
              "int_leaf": (), "int_unary": (2,), "int_binary": (2, 3), "int_inplace": (2, 3)}
_LISTS = ("cat", "stack", "flatcat")  # steps whose reference slot holds a tuple
_VALUE_ARG = ("inplace", "inplace_grad")  # steps whose argument may be ("__value__", j, ...)


def _refs(step):
    out = []
    for slot in _REF_SLOTS[step[0]]:
        v = step[slot]
        if isinstance(v, tuple) and step[0] in _LISTS:
            out.extend(v)
        elif isinstance(v, int) and not isinstance(v, bool):
            out.append(v)
    if step[0] in _VALUE_ARG and step[3] and step[3][0] == "__value__":
        out.append(step[3][1])
    return out


def _renumber(step, shift):
    step = list(step)
    for slot in _REF_SLOTS[step[0]]:
        v = step[slot]
        if isinstance(v, tuple) and step[0] in _LISTS:
            step[slot] = tuple(shift(i) for i in v)
        elif isinstance(v, int) and not isinstance(v, bool):
            step[slot] = shift(v)
    if step[0] in _VALUE_ARG and step[3] and step[3][0] == "__value__":
        step[3] = ("__value__", shift(step[3][1])) + tuple(step[3][2:])
    return tuple(step)


def shrink(recipe, signature):
    changed = True
    while changed:
        changed = False
        for k in range(len(recipe) - 1, -1, -1):
            smaller = _drop(recipe, k)
            if smaller:
                err = _fails(smaller)
                if err is not None and _signature(err) == signature:
                    recipe, changed = smaller, True
                    break
    return recipe


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-steps", type=int, default=12)
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "regressions"))
    parser.add_argument("--no-write", action="store_true", help="report failures only")
    parser.add_argument("--profiles", default="", help="comma-separated profiles (default all)")
    parser.add_argument("--graphs", type=int, default=0, help="stop after this many graphs")
    parser.add_argument("--compiled", metavar="MODE", choices=("default", "max-autotune"),
                        help="compare chainrule.compile's replays in this mode with eager")
    args = parser.parse_args(argv)
    if args.compiled:
        mode = None if args.compiled == "default" else args.compiled
        # every other graph: the two recordings see the same values, the replays new ones
        _CHECK[0] = lambda recipe: fuzz_compile.check_compiled(
            recipe, mode, repeat_first=len(recipe) % 2 == 0)
        args.no_write = True  # a compiled failure is no PyTorch regression file
    warnings.simplefilter("ignore")
    deadline = time.monotonic() + args.minutes * 60
    every = [p for p in PROFILES if args.compiled or p not in COMPILED_ONLY]
    profiles = sorted(args.profiles.split(",")) if args.profiles else sorted(every)
    per_profile = {p: [0, 0] for p in profiles}  # graphs, failing
    seen, graphs, failures, excused = {}, 0, 0, Counter()
    conditioned = COUNTER["conditioned"]
    case = 0
    while time.monotonic() < deadline and not (args.graphs and graphs >= args.graphs):
        case_seed = args.seed * 1_000_003 + case
        profile = profiles[case % len(profiles)]
        case += 1
        recipe = generate(RandomChooser(case_seed), profile, args.max_steps)
        graphs += 1
        per_profile[profile][0] += 1
        before = dict(SEEN)
        err = _fails(recipe)
        excused.update(op for op, n in SEEN.items() if n > before.get(op, 0))
        if err is None:
            continue
        failures += 1
        per_profile[profile][1] += 1
        sig = _signature(err)
        if sig in seen:
            continue
        small = shrink(recipe, sig)
        seen[sig] = small
        message = _fails(small) or err
        print(f"[{graphs}] {type(message).__name__}: {str(message).splitlines()[0]}", flush=True)
        if not args.no_write:
            name = f"fuzz_seed{args.seed}_case{case_seed}"
            path = os.path.join(args.out, f"test_{name}.py")
            with open(path, "w") as f:
                f.write(regression_source(name, small, f"tools/fuzz_campaign.py --seed "
                                          f"{args.seed} ({profile} graph)", message))
            print(f"    wrote {os.path.relpath(path, ROOT)}", flush=True)
    print(f"fuzz campaign: {graphs} graphs run, {failures} failing, {len(seen)} distinct "
          f"failures (seed {args.seed}); {sum(excused.values())} cut short at an intended "
          f"difference (tests/fuzz/fuzz_known.py: {dict(excused) or 'none'}); "
          f"{COUNTER['conditioned'] - conditioned} comparisons passed only within what a "
          f"rounding at every step moves PyTorch's answer (tests/fuzz/fuzz_condition.py)")
    if args.compiled:
        c = fuzz_compile.COUNTER
        print(f"  compiled ({args.compiled}): {c['replayed']} graphs replayed bit for bit, "
              f"{c['eager']} ran eagerly (with a warning), {c['fused']} with fused loops; "
              f"{c['nan_sign']} values differed from eager only in a NaN's sign")
    for p, (n, bad) in per_profile.items():
        print(f"  {p}: {n} graphs, {bad} failing")
    return 1 if seen else 0


if __name__ == "__main__":
    sys.exit(main())
