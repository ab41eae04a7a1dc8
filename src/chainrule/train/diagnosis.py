"""Read a training run the way a teacher would: too few epochs, unscaled inputs,
exploding or vanishing gradients, dead ReLUs, divergence, a learning rate too high,
nothing to learn, overfitting, not converged, underfitting, or a good fit. Every verdict
comes with the numbers behind it and concrete fixes: changes to the run's settings that
the run does not already have (Dive into Deep Learning ch. 3.6-3.7, 4.8, 5.4-5.6)."""
import math
from dataclasses import dataclass, field

from ..runtime.i18n import _
from .diagnosis_rules import RULES
from .evidence import RunFacts
from .fixes import describe_fix, higher, lower, novel

__all__ = ["Diagnosis", "diagnose", "VERDICTS"]

VERDICTS = tuple(name for name, _ in RULES)


@dataclass
class Diagnosis:
    verdict: str
    reason: str
    evidence: dict = field(default_factory=dict)
    fixes: list = field(default_factory=list)
    remedies: list = field(default_factory=list)

    def __str__(self):
        nums = ", ".join(f"{k}={_fmt(v)}" for k, v in self.evidence.items() if v is not None)
        lines = [_("Diagnosis: {verdict} - {reason}").format(verdict=_(self.verdict).upper(),
                                                             reason=self.reason),
                 _("  evidence: {numbers}").format(numbers=nums)]
        if self.remedies:
            lines.append(_("  try: {remedies}").format(remedies=_("; ").join(self.remedies)))
        return "\n".join(lines)

    def to_dict(self):
        return {"verdict": self.verdict, "reason": self.reason, "evidence": dict(self.evidence),
                "fixes": [dict(f) for f in self.fixes], "remedies": list(self.remedies)}


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _fallback_fixes(facts):
    """Changes that differ from any run: used when every fix a rule proposed is already
    what the run does."""
    fixes = [{"lr": lower(facts.lr, 3)}] if facts.lr else []
    epochs = facts.params.get("epochs") or facts.n
    bs = facts.params.get("batch_size")
    fixes.append({"epochs": 2 * max(int(epochs), facts.n)})
    if isinstance(bs, int):
        fixes.append({"batch_size": 2 * bs})
    if facts.lr:
        fixes.append({"lr": higher(facts.lr, 3)})
    return fixes


def _keep_novel(fixes, facts, verdict):
    kept = []
    for fix in fixes:
        fix = novel(fix, facts.params)
        if fix is not None and fix not in kept:
            kept.append(fix)
    if not kept and verdict != "good fit":
        kept = [f for f in (novel(f, facts.params) for f in _fallback_fixes(facts)) if f][:1]
    return kept


def diagnose(history, *, initial_loss=None):
    """Diagnose a History from fit (or a dict of per-epoch lists with 'loss' and maybe
    'val_loss', 'accuracy', 'lr'). The rules (train.diagnosis_rules.RULES) are tried in
    order and the first that matches gives the verdict; fit's recorded signals
    (history.signals) let the rules name causes (inputs, initialisation, activations),
    the curves alone give the symptoms. `fixes` are dicts of changed settings, best
    first; `remedies` say the same in words."""
    if history is None:  # what d2l.train_ch3 returns, as in the book
        raise TypeError("diagnose got None: d2l.train_ch3 returns None, as d2l's does; "
                        "diagnose(d2l.last_history()) reads the curves of its latest run")
    facts = RunFacts(history, initial_loss)
    for verdict, rule in RULES:
        with _quiet():
            finding = rule(facts)
        if finding is None:
            continue
        evidence = {"epochs": facts.n, "final_loss": facts.final, **finding.evidence}
        evidence = {k: v for k, v in evidence.items()
                    if v is not None and not (isinstance(v, float) and math.isnan(v))}
        fixes = _keep_novel(finding.fixes, facts, verdict)
        remedies = [describe_fix(f, facts.params) for f in fixes]
        if verdict == "good fit":
            remedies = [_("nothing urgent; evaluate once on the held-out test set")]
        return Diagnosis(verdict, finding.reason, evidence, fixes, remedies)
    raise AssertionError("the last rule always matches")


def _quiet():
    import numpy as np
    return np.errstate(all="ignore")
