"""Referees a batch of templates: kmspolicy's verdicts, the referee's requests, one node run.

`run(items)` takes (path, parameters or None) pairs and returns a Report: every cell's
outcome, the disagreements with their scenario, and the counts `make oracle` prints.
Parameters without a value get one given to both sides (`given-<Name>`), so that a
template's parameters are made concrete the same way for kmspolicy and the referee.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from . import cells as cells_mod
from . import cfn_yaml, kmspolicy_side, referee, sam
from .compare import compare
from .model import build
from .resolve import Resolver
from .stack import Stack

CHUNK = 20000


@dataclass
class Report:
    templates: int = 0
    requests: int = 0
    outcomes: Counter = field(default_factory=Counter)
    categories: Counter = field(default_factory=Counter)
    disagreements: list[dict] = field(default_factory=list)
    not_refereed: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # templates neither side could read

    def merge(self, other: Report) -> None:
        self.templates += other.templates
        self.requests += other.requests
        self.outcomes.update(other.outcomes)
        self.categories.update(other.categories)
        self.disagreements += other.disagreements
        self.not_refereed.update(other.not_refereed)
        self.failures += other.failures


def given_parameters(document: dict, given: dict | None) -> dict:
    out = dict(given or {})
    for name, spec in (document.get("Parameters") or {}).items():
        if name in out or not isinstance(spec, dict) or "Default" in spec:
            continue
        kind = str(spec.get("Type", "String"))
        if kind == "String":
            out[name] = f"given-{name}"
        elif kind == "Number":
            out[name] = "1"
    return out


def _prepare(path: str, given: dict | None, actions: list[str], report: Report):
    try:
        document = cfn_yaml.load(path)
        if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
            return None
        params = given_parameters(document, given)
        kside = kmspolicy_side.verdicts(path, params)
    except Exception as exc:  # noqa: BLE001 - a template neither side reads is reported
        report.failures.append(f"{path}: {type(exc).__name__}: {exc}")
        return None
    stack = Stack(parameters=params)
    model = build(document, stack)
    resolver = Resolver(sam.expand(document), stack)
    return path, params, kside, cells_mod.plan(model, resolver, kside, actions)


def run(items: list[tuple[str, dict | None]], explain_limit: int = 3) -> Report:
    actions = kmspolicy_side.key_actions()
    report = Report()
    prepared = [p for p in (_prepare(path, given, actions, report) for path, given in items) if p]
    report.templates = len(prepared)
    sims: list[dict] = []
    for _, _, _, cells in prepared:
        for cell in cells:
            sims += [r["simulation"] for r in cell.requests]
            if cell.requests:
                sims += [cell.grant, cell.rewritten]
    report.requests = len(sims)
    decisions = []
    for start in range(0, len(sims), CHUNK):
        decisions += [d["decision"] for d in referee.simulate(sims[start:start + CHUNK])]
    position = 0
    explained_per_category: Counter = Counter()
    for path, params, kside, cells in prepared:
        base_put = {}
        spans = []
        for cell in cells:
            n = len(cell.requests)
            spans.append((position, n))
            if cell.action == "kms:PutKeyPolicy" and n:
                base_put[(cell.key, cell.subject)] = decisions[position]
            position += n + (2 if n else 0)
        for cell, (start, n) in zip(cells, spans, strict=True):
            kverdict = kside["keys"][cell.key]["verdicts"][cell.subject][cell.action]
            if not n:
                outcome = compare(kverdict, None, cell.kind, cell.assumed)
                report.not_refereed.update(cell.problems[:1])
            else:
                got = decisions[start:start + n]
                rverdict = cells_mod.verdict(cell, got, base_put.get((cell.key, cell.subject)),
                                             decisions[start + n] if cell.grant_counts else None,
                                             decisions[start + n + 1])
                outcome = compare(kverdict, rverdict, cell.kind, cell.assumed)
            report.outcomes[outcome.status] += 1
            if outcome.status in ("disagree", "referee-error"):
                report.categories[outcome.category] += 1
                entry = {"template": path, "parameters": params, "key": cell.key,
                         "subject": cell.subject, "action": cell.action,
                         "kmspolicy": outcome.kmspolicy, "referee": outcome.referee,
                         "category": outcome.category,
                         "scenario": [{"caller": r["note"], "principal": r["simulation"]["request"]["principal"],
                                       "context": r["context"], "decision": d}
                                      for r, d in zip(cell.requests, decisions[start:start + n], strict=True)][:8]}
                if explained_per_category[outcome.category] < explain_limit:
                    explained_per_category[outcome.category] += 1
                    entry["explain"] = kmspolicy_side.explain(path, cell.key, cell.subject, cell.action, params)
                report.disagreements.append(entry)
    return report
