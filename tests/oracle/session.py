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
from . import cfn_yaml, cross_account, key_spec, kmspolicy_side, referee, sam
from .compare import compare
from .model import build
from .resolve import Resolver
from .stack import ACCOUNT, Stack

CHUNK = 20000
ALTERNATE_ACCOUNT = "210987654321"
GIVEN_ACCOUNT = "777788889999"  # the value given to a parameter that names an account


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
        pattern = str(spec.get("AllowedPattern", ""))
        if kind == "String" and ("{12}" in pattern or name.lower().endswith(("account", "accountid"))):
            out[name] = GIVEN_ACCOUNT
        elif kind == "String" and name.lower().endswith("arn"):
            out[name] = f"arn:aws:iam::{GIVEN_ACCOUNT}:role/given-{name}"
        elif kind == "String":
            out[name] = f"given-{name}"
        elif kind == "Number":
            out[name] = "1"
    return out


def deploy_account(path: str, params: dict) -> str:
    """The referee's account, unless the template (or a given value) writes it literally:
    kmspolicy cannot know a literal account is the deploying one, and neither would AWS
    before deployment; the referee then deploys into ALTERNATE_ACCOUNT instead."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    if ACCOUNT in text or any(ACCOUNT in str(v) for v in params.values()):
        return ALTERNATE_ACCOUNT
    return ACCOUNT


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
    stack = Stack(account=deploy_account(path, params), parameters=params)
    model = build(document, stack)
    resolver = Resolver(sam.expand(document), stack)
    return path, params, kside, cells_mod.plan(model, resolver, kside, actions)


def run(items: list[tuple[str, dict | None]], explain_limit: int = 3) -> Report:
    actions = kmspolicy_side.key_actions()
    report = Report()
    prepared = [p for p in (_prepare(path, given, actions, report) for path, given in items) if p]
    report.templates = len(prepared)
    sims: list[dict] = []
    key_types: list[tuple[str, str]] = []  # the key's spec and usage, per simulation
    for _, _, _, cells in prepared:
        for cell in cells:
            before = len(sims)
            sims += [r["simulation"] for r in cell.requests]
            if cell.requests:
                for esc in cell.escalations:
                    sims += esc["grant"] + [esc["rewritten"], esc["granted"]]
            key_types += [cell.key_type] * (len(sims) - before)
    report.requests = len(sims)
    decisions = referee.simulate_unique(sims)
    ignored = [set(k.lower() for k in (d.get("detail") or {}).get("ignoredContextKeys") or ()) for d in decisions]
    decisions = [key_spec.decide(sim["request"]["action"], *kt, cross_account.decide(sim, d["decision"]))
                 for sim, d, kt in zip(sims, decisions, key_types, strict=True)]
    position = 0
    explained_per_category: Counter = Counter()
    for path, params, kside, cells in prepared:
        put = {}
        spans = []
        for cell in cells:
            n = len(cell.requests)
            got = decisions[position:position + n]
            # iam-simulate drops a key the action does not take, as AWS does, except the
            # variable kms:EncryptionContext:<key>, which KMS requests do carry (FINDINGS.md)
            dropped = {k for k in set().union(*ignored[position:position + n]) & cell.tested
                       if k.startswith("kms:encryptioncontext:")} if n else set()
            if dropped:
                cell.problems.append(f"iam-simulate ignores {', '.join(sorted(dropped))} for {cell.action}")
            escalation = {}
            position += n
            if n:
                for esc in cell.escalations:
                    grants = decisions[position:position + len(esc["grant"])]
                    position += len(esc["grant"])
                    escalation[esc["caller"]] = {
                        "assume": esc["assume"],
                        "grant": "Allowed" if "Allowed" in grants else grants[0],
                        "rewritten": decisions[position], "granted": decisions[position + 1]}
                    position += 2
            spans.append((got, escalation))
            if cell.action == "kms:PutKeyPolicy":  # escalation in some context is escalation
                for r, d in zip(cell.requests, got, strict=True):
                    slot = (cell.key, cell.subject, r["caller"])
                    if put.get(slot) != "Allowed":
                        put[slot] = d
        for cell, (got, escalation) in zip(cells, spans, strict=True):
            kverdict = kside["keys"][cell.key]["verdicts"][cell.subject][cell.action]
            if not cell.requests or cell.problems:
                outcome = compare(kverdict, None, cell.kind, cell.assumed)
                report.not_refereed.update(cell.problems[:1])
            else:
                for index, esc in escalation.items():
                    esc["put_policy"] = put.get((cell.key, cell.subject, index))
                rverdict = cells_mod.verdict(cell, got, escalation)
                outcome = compare(kverdict, rverdict, cell.kind, cell.assumed)
            report.outcomes[outcome.status] += 1
            if outcome.status in ("disagree", "referee-error"):
                report.categories[outcome.category] += 1
                entry = {"template": path, "parameters": params, "key": cell.key,
                         "subject": cell.subject, "action": cell.action,
                         "kmspolicy": outcome.kmspolicy, "referee": outcome.referee,
                         "category": outcome.category, "escalation": escalation,
                         "scenario": [{"caller": r["note"], "principal": r["simulation"]["request"]["principal"],
                                       "context": r["context"], "decision": d}
                                      for r, d in zip(cell.requests, got, strict=True)][:8]}
                if explained_per_category[outcome.category] < explain_limit:
                    explained_per_category[outcome.category] += 1
                    entry["explain"] = kmspolicy_side.explain(path, cell.key, cell.subject, cell.action, params)
                report.disagreements.append(entry)
    return report
