"""Who can use each key, and why: `kmspolicy access` and `explain`, read from the access model.

`AccessAnalyzer.report(path)` returns an `AccessReport` (per key, subject and capability:
the verdict and the statements deciding it, located); `explain(...)` an `Explanation` for
one key, subject and action (or every capability). Every deployable variant of the
template (bridge/scenarios.py) is analysed: what differs between them is shown per
scenario, and `scenario` (`--scenario IsProd=true`) narrows the variants analysed. The
evidence is the access model's (evidence.py); no Rego is evaluated here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import catalog, scenarios
from ..findings import FileError
from ..load import LoadedTemplate, TemplateError, load_template
from ..normalize import normalize_variant
from . import scenario_merge
from .errors import AccessError
from .evidence import SubjectEvidence
from .keytypes import supported_mask
from .located import CAPABILITIES, AccessReport, Explanation, KeyAccess, SubjectRow, class_actions
from .locator import Locator
from .principal_arg import principal_parser, resolve_principal, subject_of, subject_order

__all__ = ["CAPABILITIES", "AccessAnalyzer", "AccessError", "AccessReport", "Explanation"]


def _class_mask(capability: str) -> int:
    return catalog.class_mask(capability)


ACCOUNT_ID = re.compile(r"\d{12}")


@dataclass
class _Variant:
    """One deployable variant of the template, normalized with its access."""

    input: dict
    errors: list[FileError]
    normalizer: object  # bridge.normalize._Normalizer: resolves more principals
    locator: Locator


@dataclass
class _Analyzed:
    file: str
    variants: list[_Variant]
    scenarios: list[scenarios.Scenario]  # empty: one merged variant
    errors: list[FileError]
    notes: list[str]


NO_KEY = "no AWS::KMS::Key or AWS::KMS::ReplicaKey in this template"


class AccessAnalyzer:
    """Loads and normalizes every variant; `report` and `explain` read the model's answers."""

    def __init__(self, parameters: dict[str, str] | None = None, config: dict | None = None,
                 scenario: dict[str, bool] | None = None):
        self.parameters = parameters or {}
        self.config = config or {}
        self.scenario = scenario or {}

    # --- steps ---------------------------------------------------------------

    def analyze(self, path: str, display: str | None = None) -> _Analyzed:
        display = display or path
        template = read_template(path, display)
        document = template.document
        plan = scenarios.plan(document, self.parameters)
        chosen = plan.scenarios
        if self.scenario:
            try:
                chosen = scenarios.select(plan, self.scenario)
            except ValueError as exc:
                raise AccessError(f"{display}: {exc}") from None
        variants = [self._variant(template, display, s) for s in chosen or [None]]
        plan_errors = [_error(template, display, pointer, message) for pointer, message in plan.problems]
        errors = plan_errors + scenario_merge.errors([v.errors for v in variants], chosen)
        notes = ([plan.note] if plan.note else []) + _unlisted_account_notes(variants[0].input, self.config)
        if not errors and not any(v.input["keys"] for v in variants):  # unseen is not absent: errors say so
            notes.append(NO_KEY)
        return _Analyzed(variants[0].input["file"], variants, chosen, errors, notes)

    def _variant(self, template: LoadedTemplate, display: str,
                 scenario: scenarios.Scenario | None) -> _Variant:
        normalized, normalizer = normalize_variant(template.document, display, self.parameters,
                                                   self.config, scenario, keep_conditions=True)
        errors = [_error(template, display, pointer, message) for pointer, message in normalized.problems]
        return _Variant(normalized.input, errors, normalizer, Locator(template, normalized.input))

    # --- access --------------------------------------------------------------

    def report(self, path: str, display: str | None = None, key: str | None = None) -> AccessReport:
        analyzed = self.analyze(path, display)
        if key is not None:
            _check_key(analyzed, key)
        per_scenario = [[_key_access(v, kid) for kid in v.input["keys"] if key in (None, kid)]
                        for v in analyzed.variants]
        found = per_scenario[0] if len(per_scenario) == 1 else \
            scenario_merge.keys(per_scenario, analyzed.scenarios)
        return AccessReport(analyzed.file, found, analyzed.errors, analyzed.notes)

    # --- explain -------------------------------------------------------------

    def explain(self, path: str, key: str, principal: str, action: str | None = None,
                display: str | None = None) -> Explanation:
        analyzed = self.analyze(path, display)
        _check_key(analyzed, key)
        action = _canonical_action(action)
        targets = _targets(action)
        found: dict[int, Explanation] = {}
        failure: AccessError | None = None
        for i, v in enumerate(analyzed.variants):
            if key not in v.input["keys"]:
                continue
            try:
                sid = resolve_principal(principal, v.input["keys"][key], v.input,
                                        principal_parser(v.normalizer), self.config)
            except AccessError as exc:  # e.g. a role this variant does not create
                failure = failure or exc
                continue
            found[i] = _explanation(analyzed, v, key, sid, action, targets)
        if not found:
            raise failure or AccessError(f"unknown key '{key}'")
        return _one(found, analyzed)

    def explain_all(self, path: str, display: str | None = None) -> list[Explanation]:
        """Every key x subject of every variant, every capability."""
        analyzed = self.analyze(path, display)
        targets = _targets(None)
        pairs: dict[tuple[str, str], dict[int, Explanation]] = {}
        for i, v in enumerate(analyzed.variants):
            for kid, key in v.input["keys"].items():
                for sid in subject_order(key["subjects"]):
                    pairs.setdefault((kid, sid), {})[i] = _explanation(analyzed, v, kid, sid, None, targets)
        return [_one(found, analyzed) for found in pairs.values()]


def read_template(path: str, display: str) -> LoadedTemplate:
    """The template at `path`, or an AccessError naming it (unreadable, or no Resources)."""
    try:
        template = load_template(path)
    except TemplateError as exc:
        raise AccessError(str(exc)) from None
    document = template.document
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise AccessError(f"{display}: not a CloudFormation or SAM template (no Resources mapping)")
    return template


def _unlisted_account_notes(input_doc: dict, config: dict | None) -> list[str]:
    """Literal account IDs the key policies name while the config lists no accounts of the
    stack's: they may be its own, so what they give the stack's principals is unknown."""
    own = {str(a) for a in (config or {}).get("accounts") or []} | set(input_doc.get("accounts") or [])
    if own:  # listed: every other account is another account's
        return []
    found = sorted({p["account"] for key in input_doc["keys"].values() for st in key["statements"]
                    if st.get("principal_mode") == "Principal"
                    for p in st.get("principals") or [] if p["kind"] == "account"
                    and ACCOUNT_ID.fullmatch(p["account"] or "") and p["account"] not in own})
    return [f"account {account} is named in a key policy and the config lists no `accounts`: it may be "
            "the stack's own, so what it gives the stack's principals is unknown (list the stack's accounts "
            "there: any other is then another account)" for account in found]


def _one(found: dict[int, Explanation], analyzed: _Analyzed) -> Explanation:
    if len(analyzed.variants) == 1:
        return found[0]
    return scenario_merge.explanation(found, analyzed.scenarios)


def _key_access(variant: _Variant, kid: str) -> KeyAccess:
    key = variant.input["keys"][kid]
    supported = supported_mask(key)
    rows = []
    for sid in subject_order(key["subjects"]):
        evidence = SubjectEvidence(key, key["subjects"][sid], variant.input["identities"])
        rows.append(SubjectRow(subject_of(key, sid, variant.input),
                               {cap: variant.locator.cell(kid, sid, evidence.cell(_class_mask(cap)))
                                for cap in CAPABILITIES}))
    capabilities = {cap: [a for a in class_actions(cap) if catalog.action_mask([a]) & supported]
                    for cap in CAPABILITIES}
    return KeyAccess(kid, variant.locator.at(key["path"]), rows, capabilities)


def _targets(action: str | None) -> dict[str, int]:
    """The cells to explain: one action, or every capability."""
    if action is not None:
        return {action: catalog.action_mask([action])}
    return {cap: _class_mask(cap) for cap in CAPABILITIES}


def _explanation(analyzed: _Analyzed, variant: _Variant, kid: str, sid: str, action: str | None,
                 targets: dict[str, int]) -> Explanation:
    key = variant.input["keys"][kid]
    evidence = SubjectEvidence(key, key["subjects"][sid], variant.input["identities"])
    cells = {name: variant.locator.cell(kid, sid, evidence.cell(mask, explained=True))
             for name, mask in targets.items()}
    notes = analyzed.notes
    if action is not None and not catalog.action_mask([action]) & supported_mask(key):
        notes = [*notes, f"{action} is not an operation of {kid} (KeySpec {key.get('key_spec')}, KeyUsage "
                         f"{key.get('key_usage')}): AWS refuses it whatever the policies say"]
    return Explanation(analyzed.file, kid, variant.locator.at(key["path"]), subject_of(key, sid, variant.input),
                       action, cells, analyzed.errors, notes=notes)


def _error(template: LoadedTemplate, display: str, pointer: str, message: str) -> FileError:
    span, _ = template.source_map.locate(pointer)  # where `eval` puts the same error
    return FileError(display, message, span.line, span.column)


def _check_key(analyzed: _Analyzed, key: str) -> None:
    every = list(dict.fromkeys(kid for v in analyzed.variants for kid in v.input["keys"]))
    if not every and not analyzed.errors:
        raise AccessError(f"{analyzed.file}: {NO_KEY}")
    if key not in every:
        raise AccessError(f"unknown key '{key}' (keys in {analyzed.file}: {', '.join(every)})")


def _canonical_action(action: str | None) -> str | None:
    if action is None:
        return None
    canonical = catalog.canonical(action if ":" in action else f"kms:{action}")
    if canonical is None or catalog.action_class(canonical) not in CAPABILITIES:
        raise AccessError(f"'{action}' is not a KMS action on a key (e.g. kms:Decrypt, "
                          "kms:Encrypt, kms:PutKeyPolicy)")
    return canonical
