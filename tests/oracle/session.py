"""Referees a batch of templates: kmspolicy's verdicts, the referee's requests, one node run.

`run(items)` takes (path, parameters or None) pairs and returns a Report: every cell's
outcome, the disagreements with their scenario, and the counts `make oracle` prints.
Parameters without a value get one given to both sides (`given-<Name>`), so that a
template's parameters are made concrete the same way for kmspolicy and the referee.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import cells as cells_mod
from . import cfn_yaml, cross_account, equivalent, key_spec, kmspolicy_side, referee, sam, variants
from .compare import compare
from .model import build
from .resolve import Resolver
from .stack import ACCOUNT, Stack

ALTERNATE_ACCOUNT = "210987654321"
GIVEN_ACCOUNT = "777788889999"  # the value given to a parameter that names an account


@dataclass
class Report:
    templates: int = 0  # deployed variants (scenarios): one per template without Conditions
    sources: int = 0  # templates read
    requests: int = 0
    outcomes: Counter = field(default_factory=Counter)
    categories: Counter = field(default_factory=Counter)
    disagreements: list[dict] = field(default_factory=list)
    not_refereed: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # templates neither side could read
    cells: list[dict] | None = None  # every cell's outcome, when asked for (run(keep_cells=True))

    def merge(self, other: Report) -> None:
        self.templates += other.templates
        self.sources += other.sources
        self.requests += other.requests
        self.outcomes.update(other.outcomes)
        self.categories.update(other.categories)
        self.disagreements += other.disagreements
        self.not_refereed.update(other.not_refereed)
        self.failures += other.failures
        if other.cells is not None:
            self.cells = (self.cells or []) + other.cells


def given_parameters(document: dict, given: dict | None, variants_choose: bool = True) -> dict:
    """A value for every parameter with none, except those the Conditions read when the
    variants choose those (variants.py): an allowed value where AllowedValues lists some."""
    out = dict(given or {})
    chosen_by_variants = variants.condition_parameters(document) if variants_choose else set()
    for name, spec in (document.get("Parameters") or {}).items():
        if name in out or name in chosen_by_variants or not isinstance(spec, dict) or "Default" in spec:
            continue
        kind = str(spec.get("Type", "String"))
        pattern = str(spec.get("AllowedPattern", ""))
        allowed = spec.get("AllowedValues")
        if isinstance(allowed, list) and allowed and not isinstance(allowed[0], (dict, list)):
            out[name] = str(allowed[0])
        elif kind == "String" and ("{12}" in pattern or name.lower().endswith(("account", "accountid"))):
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


@dataclass
class Variant:
    """One deployable variant of one template, with both sides' view of it."""

    path: str
    label: str  # the scenario, e.g. "IsProd=true", or "" for a template without Conditions
    parameters: dict
    kside: dict
    cells: list
    account: str  # the account the referee deploys it into


def _label(scenario) -> str:
    return ", ".join(f"{n}={'true' if v else 'false'}" for n, v in scenario.conditions) if scenario else ""


def _prepare(path: str, given: dict | None, actions: list[str], report: Report) -> list[Variant]:
    """A Variant per scenario kmspolicy names, each deployed by the referee with values
    its own resolver confirms give that scenario."""
    try:
        document = cfn_yaml.load(path)
        if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
            return []
        params = given_parameters(document, given)
        found, merged = kmspolicy_side.scenarios_of(path, params)
        if found == [None]:  # no scenarios to choose them: every parameter gets a value
            params = given_parameters(document, given, variants_choose=False)
    except Exception as exc:  # noqa: BLE001 - a template neither side reads is reported
        report.failures.append(f"{path}: {type(exc).__name__}: {exc}")
        return []
    report.sources += 1
    if merged:
        report.not_refereed[f"kmspolicy merges the variants: {merged[:80]}"] += 1
        return []
    base = Stack(account=deploy_account(path, params), parameters=params)
    out = []
    for scenario in found:
        stack, values = base, params
        if scenario is not None:
            deployed = variants.realize(document, scenario.truth(),
                                        {n: v for n, v in scenario.parameters if v is not None}, params, base)
            if deployed is None:
                report.not_refereed[f"no parameter values give the scenario {_label(scenario)[:60]}"] += 1
                continue
            values, stack = deployed
        try:
            kside = kmspolicy_side.verdicts(path, values, scenario, stack.account)
        except Exception as exc:  # noqa: BLE001
            report.failures.append(f"{path} ({_label(scenario)}): {type(exc).__name__}: {exc}")
            continue
        model = build(document, stack)
        resolver = Resolver(sam.expand(document), stack)
        out.append(Variant(path, _label(scenario), values, kside, cells_mod.plan(model, resolver, kside, actions),
                           stack.account))
    return out


def _decide(pairs: list, answers: list[dict]) -> tuple[list[str], list[set]]:
    """The referee's decisions for (cell, simulation) pairs, with the rules it does not
    model applied, and per request the context keys iam-simulate ignored."""
    ignored = [set(k.lower() for k in (d.get("detail") or {}).get("ignoredContextKeys") or ()) for d in answers]
    return [key_spec.decide(sim["request"]["action"], *cell.key_type, cross_account.decide(sim, d["decision"]))
            for (cell, sim), d in zip(pairs, answers, strict=True)], ignored


def _encryption_context_keys(cell) -> set[str]:
    """The kms:EncryptionContext:<key> keys a cell's conditions test, where its action
    takes them (iam-data): iam-simulate ignores them whether or not a request set them."""
    if "kms:EncryptionContext:${EncryptionContextKey}" not in equivalent.condition_keys(cell.action):
        return set()
    return {k for k in cell.tested if k.startswith("kms:encryptioncontext:")}


def _read_direct(n: int, cells: list, decided: tuple[list[str], list[set]], direct: dict, grants: dict,
                 put: dict, owner: dict) -> None:
    """Variant n's direct decisions and self-grants read back into direct (id(cell) ->
    (decisions, ignored keys)), grants ((id(cell), caller) -> "Allowed" if a self-grant is
    allowed in some context) and put ((variant, key, subject, caller) -> PutKeyPolicy
    decision in some context)."""
    decisions, ignored = decided
    position = 0
    for cell in cells:
        owner[id(cell)] = n
        count = len(cell.requests)
        direct[id(cell)] = (decisions[position:position + count], set().union(*ignored[position:position + count]))
        position += count
    for cell in cells:
        for esc in cell.escalations:
            got = decisions[position:position + len(esc.grant)]
            position += len(esc.grant)
            grants[(id(cell), esc.caller)] = "Allowed" if "Allowed" in got else (got[0] if got else None)
    for cell in cells:
        if cell.action == "kms:PutKeyPolicy":
            for r, d in zip(cell.requests, direct[id(cell)][0], strict=True):
                slot = (n, cell.key, cell.subject, r["caller"])
                if put.get(slot) != "Allowed":
                    put[slot] = d


def run(items: list[tuple[str, dict | None]], explain_limit: int = 3, keep_cells: bool = False) -> Report:
    """Two referee batches: first every direct request and self-grant, then, only for the
    callers that can rewrite the key policy or grant themselves the action, the request
    after that escalation (most callers have neither path, and those need no such request)."""
    actions = kmspolicy_side.key_actions()
    report = Report(cells=[] if keep_cells else None)
    with referee.Referee() as judge:
        prepared, asked = [], []  # per variant: its direct requests and self-grants, and their numbers
        for path, given in items:
            for variant in _prepare(path, given, actions, report):
                cells = [cell for cell in variant.cells if cell.requests]
                pairs = [(cell, r["simulation"]) for cell in cells for r in cell.requests]
                pairs += [(cell, sim) for cell in cells for esc in cell.escalations for sim in esc.grant]
                prepared.append(variant)
                asked.append((cells, pairs, judge.ask([sim for _, sim in pairs])))  # node starts on them
        direct, grants, put, owner = {}, {}, {}, {}
        for n, (cells, pairs, numbers) in enumerate(asked):
            _read_direct(n, cells, _decide(pairs, judge.answers(numbers)), direct, grants, put, owner)
        second, slots = [], []
        for cells, _, _ in asked:
            for cell in cells:
                for esc in cell.escalations:
                    if put.get((owner[id(cell)], cell.key, cell.subject, esc.caller)) == "Allowed":
                        rewritten = esc.rewritten()
                        second += [(cell, sim) for sim in rewritten]
                        slots += [(id(cell), esc.caller, "rewritten")] * len(rewritten)
                    if cell.grant_counts and grants[(id(cell), esc.caller)] == "Allowed":
                        granted = esc.granted()
                        second += [(cell, sim) for sim in granted]
                        slots += [(id(cell), esc.caller, "granted")] * len(granted)
        second_decided = _decide(second, judge.answers(judge.ask([sim for _, sim in second])))[0] if second else []
    report.templates = len(prepared)
    after: dict = {}  # slot -> "Allowed" if allowed in some context once escalated
    for slot, decision in zip(slots, second_decided, strict=True):
        if after.get(slot) != "Allowed":
            after[slot] = decision
    report.requests = sum(len(pairs) for _, pairs, _ in asked) + len(second)
    explained_per_category: Counter = Counter()
    for variant in prepared:
        path, params, kside = variant.path, variant.parameters, variant.kside
        for cell in variant.cells:
            got, dropped_keys = direct.get(id(cell), ([], set()))
            # iam-simulate drops a key the action does not take, as AWS does, except the
            # variable kms:EncryptionContext:<key>, which KMS requests do carry (FINDINGS.md)
            dropped = {k for k in (dropped_keys | _encryption_context_keys(cell)) & cell.tested
                       if k.startswith("kms:encryptioncontext:")}
            if dropped:
                cell.problems.append(f"iam-simulate ignores {', '.join(sorted(dropped))} for {cell.action}")
            escalation = {esc.caller: {"assume": esc.assume, "grant": grants.get((id(cell), esc.caller)),
                                       "put_policy": put.get((owner[id(cell)], cell.key, cell.subject, esc.caller)),
                                       "rewritten": after.get((id(cell), esc.caller, "rewritten")),
                                       "granted": after.get((id(cell), esc.caller, "granted"))}
                          for esc in cell.escalations} if cell.requests else {}
            kverdict = kside["keys"][cell.key]["verdicts"][cell.subject][cell.action]
            if not cell.requests or cell.problems:
                outcome = compare(kverdict, None, cell.kind, cell.assumed)
                report.not_refereed.update(cell.problems[:1])
            else:
                rverdict = cells_mod.verdict(cell, got, escalation)
                outcome = compare(kverdict, rverdict, cell.kind, cell.assumed)
            report.outcomes[outcome.status] += 1
            if report.cells is not None:
                report.cells.append({"template": Path(path).name, "variant": variant.label, "key": cell.key,
                                     "subject": cell.subject, "action": cell.action, "status": outcome.status,
                                     "kmspolicy": outcome.kmspolicy, "referee": outcome.referee,
                                     "requests": len(cell.requests)})
            if outcome.status in ("disagree", "referee-error"):
                report.categories[outcome.category] += 1
                entry = {"template": path, "variant": variant.label, "parameters": params, "key": cell.key,
                         "subject": cell.subject, "action": cell.action,
                         "kmspolicy": outcome.kmspolicy, "referee": outcome.referee,
                         "category": outcome.category, "escalation": escalation,
                         "scenario": [{"caller": r["note"], "principal": r["simulation"]["request"]["principal"],
                                       "context": r["context"], "decision": d}
                                      for r, d in zip(cell.requests, got, strict=True)][:8]}
                if explained_per_category[outcome.category] < explain_limit:
                    explained_per_category[outcome.category] += 1
                    entry["explain"] = kmspolicy_side.explain(path, cell.key, cell.subject, cell.action, params,
                                                              variant.account)
                report.disagreements.append(entry)
    return report
