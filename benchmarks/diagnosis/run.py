"""Measure chainrule's diagnosis on the labelled corpus (corpus.py): the confusion matrix
of verdicts, the false-alarm rate on healthy runs, fixes that repeat the run's own
settings, and, for each run repaired with its top fix, whether the validation metric
improved. Recipes held out from tuning are reported apart.

    python benchmarks/diagnosis/run.py                 # every recipe, 6 seeds, with repairs
    python benchmarks/diagnosis/run.py --split tuning  # only the recipes the rules were tuned on
    python benchmarks/diagnosis/run.py --seeds 2 --no-repair --recipe digits
"""
import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import corpus  # noqa: E402


def one_run(recipe, seed, repair):
    """(verdict, fixes, repeated keys, repair outcome or None) of one labelled run."""
    from chainrule.train import diagnose
    from chainrule.train.fixes import run_value
    from chainrule.train.repair import _better, _score, initial_settings, train_with
    build, train, val, fit_kwargs = corpus.prepare(recipe, seed)
    settings = initial_settings(build, fit_kwargs)
    with np.errstate(all="ignore"):
        model, history, seen_val = train_with(build, train, val, settings, fit_kwargs)
        d = diagnose(history)
        repeated = [k for fix in d.fixes for k, v in fix.items()
                    if run_value(history.params, k) is not None and v == run_value(history.params, k)]
        outcome = None
        if repair and d.fixes:
            metric, before = _score(model, history, seen_val, fit_kwargs)
            fixed_model, fixed, fixed_val = train_with(build, train, val,
                                                       dict(settings, **d.fixes[0]), fit_kwargs)
            _, after = _score(fixed_model, fixed, fixed_val, fit_kwargs)
            outcome = (metric, before, after, _better(metric, after, before), d.fixes[0])
    return d, repeated, outcome


def confusion(rows, labels):
    verdicts = list(corpus.VERDICTS)
    counts = Counter((r["label"], r["verdict"]) for r in rows)
    short = {v: "".join(w[0] for w in v.split()).upper() for v in verdicts}
    width = max(len(v) for v in verdicts)
    lines = [" " * (width + 2) + " ".join(f"{short[v]:>4s}" for v in verdicts) + "  correct"]
    for label in labels:
        total = sum(counts[(label, v)] for v in verdicts)
        if not total:
            continue
        cells = " ".join(f"{counts[(label, v)] or '.':>4}" for v in verdicts)
        lines.append(f"{label:>{width}s}  {cells}  {counts[(label, label)]}/{total}")
    lines.append("columns: " + ", ".join(f"{short[v]} = {v}" for v in verdicts))
    return "\n".join(lines)


def report(rows, title):
    if not rows:
        return
    correct = sum(r["label"] == r["verdict"] for r in rows)
    healthy = [r for r in rows if r["label"] == "good fit"]
    alarms = sum(r["verdict"] != "good fit" for r in healthy)
    print(f"\n== {title}: {len(rows)} runs ==")
    print(confusion(rows, corpus.VERDICTS))
    print(f"correct verdicts: {correct}/{len(rows)} = {correct / len(rows):.1%}")
    if healthy:
        print(f"false alarms on healthy runs: {alarms}/{len(healthy)} = "
              f"{alarms / len(healthy):.1%}")
    repeated = [r for r in rows if r["repeated"]]
    print(f"fixes that repeat the run's own settings: {len(repeated)}"
          + "".join(f"\n  {r['recipe']} seed {r['seed']}: {r['repeated']}" for r in repeated))
    repaired = [r for r in rows if r["repair"] is not None and r["label"] != "nothing to learn"]
    if repaired:
        better = sum(r["repair"][3] for r in repaired)
        print(f"repairs (top fix applied, fresh run) that improved the validation metric: "
              f"{better}/{len(repaired)} = {better / len(repaired):.1%}")
    shuffled = [r for r in rows if r["repair"] is not None and r["label"] == "nothing to learn"]
    if shuffled:
        better = sum(r["repair"][3] for r in shuffled)
        print(f"  (runs with nothing to learn, not counted: {better}/{len(shuffled)} "
              "improved; no setting can make shuffled labels predictable)")


def _show(score):
    return "/".join(f"{v:.3f}" for v in score) if isinstance(score, tuple) else f"{score:.3f}"


def details(rows):
    for r in rows:
        mark = "ok " if r["label"] == r["verdict"] else "MIS"
        rep = ""
        if r["repair"] is not None:
            metric, before, after, ok, fix = r["repair"]
            rep = f"  {fix} {metric} {_show(before)}->{_show(after)} {'better' if ok else 'WORSE'}"
        print(f"{mark} {r['recipe']:34s} s{r['seed']} {r['verdict']:22s}{rep}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--split", choices=("all", "tuning", "held-out"), default="all",
                    help="tuning: the recipes the rules were tuned on (held_out 0 and 1)")
    ap.add_argument("--recipe", default="", help="only recipes whose name contains this")
    ap.add_argument("--no-repair", action="store_true")
    ap.add_argument("--details", action="store_true", help="one line per run")
    args = ap.parse_args(argv)
    recipes = [r for r in corpus.RECIPES if args.recipe in r.name and
               (args.split == "all" or (r.held_out == 2) == (args.split == "held-out"))]
    rows, t0 = [], time.perf_counter()
    for recipe in recipes:
        for seed in range(recipe.first_seed, recipe.first_seed + args.seeds):
            d, repeated, outcome = one_run(recipe, seed, not args.no_repair)
            rows.append({"recipe": recipe.name, "seed": seed, "label": recipe.label,
                         "held_out": recipe.held_out, "verdict": d.verdict,
                         "repeated": repeated, "repair": outcome})
    seconds = time.perf_counter() - t0
    if args.details:
        details(rows)
    report([r for r in rows if r["held_out"] == 0], "recipes the rules were tuned on")
    report([r for r in rows if r["held_out"] == 1],
           "recipes held out at first, looked at once, then tuned on")
    report([r for r in rows if r["held_out"] == 2], "held-out recipes, never tuned on")
    report(rows, "all recipes")
    print(f"\n{len(rows)} runs from {len(recipes)} recipes x {args.seeds} seeds"
          f"{'' if args.no_repair else ' (+ one repair run each)'} in {seconds:.0f} s")


if __name__ == "__main__":
    main()
