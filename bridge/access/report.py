"""Who can use each key, and why: the access matrix read from the Rego library, located.

The semantics live in Rego (`policies/kmspolicy/lib/access.rego`); this module only asks
the engine and puts lines on its answer. `AccessAnalyzer.report(path)` evaluates
`data.kmspolicy.lib.matrix.matrix` (per key, subject and capability: the verdict and the
statements deciding it) and returns an `AccessReport`; `AccessAnalyzer.explain(...)`
evaluates `data.kmspolicy.lib.matrix.explain` for one key, subject and action (or every
capability) and returns an `Explanation`. Every JSON pointer the engine returns becomes a
`Location` (file, line, column) through the template's source map. `to_json()` gives the
`--format json` documents (schema `bridge/schema/access-v1.json`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from kmspolicy import __version__

from .. import catalog
from ..engines import EngineError
from ..engines.embedded import EmbeddedEngine
from ..findings import FileError
from ..intrinsics import IntrinsicError
from ..load import LoadedTemplate, TemplateError, load_template
from ..normalize import _Normalizer, with_access
from ..pipeline import _finding_span
from ..principals import PrincipalError, from_aws_value
from ..rules import builtin_policy_dir, read_policy_dir
from .model import add_subject

CAPABILITIES = ("use", "manage", "permissions", "read")
VERDICTS = ("allowed", "conditional", "reachable", "unknown", "denied")
MATRIX_QUERY = "data.kmspolicy.lib.matrix.matrix"
ACCOUNT_ID = re.compile(r"^\d{12}$")


class AccessError(ValueError):
    """Bad input for access/explain (unknown key, principal or action): exit code 2."""


@dataclass(frozen=True)
class Location:
    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    def to_json(self) -> dict:
        return {"path": self.path, "line": self.line, "column": self.column}


@dataclass
class Subject:
    id: str
    kind: str
    label: str
    account: str
    identity: str | None = None
    owner: str | None = None

    @property
    def name(self) -> str:
        """What to type after --principal for this subject."""
        if self.id == "account:self":
            return "account"
        return self.label

    def to_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "label": self.label, "account": self.account,
                "identity": self.identity, "owner": self.owner}


@dataclass
class Evidence:
    """One statement taking part in a decision.

    role: direct (the key policy names the subject or everyone), delegation (it names the
    subject's account), identity (the subject's identity policy completing a delegation),
    deny, unrelated (grants the actions to others only), incomplete (delegates to the
    subject's account, but nothing on the subject's side completes it).
    """

    role: str
    policy: str  # key | identity
    statement: int
    sid: str
    actions: list[str]
    principals: list[Location] = field(default_factory=list)
    patterns: list[Location] = field(default_factory=list)
    pattern_texts: list[str] = field(default_factory=list)
    condition: Location | None = None
    location: Location | None = None  # the statement itself
    identity: str | None = None  # whose identity policy
    origin: dict | None = None
    named: list[str] = field(default_factory=list)  # the principals a key statement names
    not_principal: bool = False  # ... as NotPrincipal: everyone but them

    @property
    def located_patterns(self) -> list[tuple[Location, str]]:
        """(where, the action pattern(s) written there)."""
        return list(zip(self.patterns, self.pattern_texts, strict=True))

    @property
    def anchor(self) -> Location | None:
        """The line that best shows this statement's part: its principal, else its actions."""
        for group in (self.principals, self.patterns):
            if group:
                return group[0]
        return self.location

    def to_json(self) -> dict:
        return {
            "role": self.role, "policy": self.policy, "statement": self.statement,
            "sid": self.sid, "identity": self.identity, "actions": self.actions,
            "line": self.anchor.line if self.anchor else None,
            "principals": [p.to_json() for p in self.principals],
            "patterns": [{**p.to_json(), "pattern": t} for p, t in self.located_patterns],
            "condition": self.condition.to_json() if self.condition else None,
            "origin": _origin_json(self.origin),
        }


@dataclass
class Escalation:
    action: str
    via: Evidence  # the statement (key or identity policy) allowing the escalation action
    delegation: Evidence | None  # for a bilateral path, the key statement delegating it
    gains: list[str]

    def to_json(self) -> dict:
        return {"action": self.action, "via": self.via.to_json(),
                "delegation": self.delegation.to_json() if self.delegation else None,
                "gains": self.gains}


@dataclass
class Cell:
    verdict: str
    actions: list[str]
    grants: list[Evidence]
    denies: list[Evidence]
    escalation: list[Escalation]
    unrelated: list[Evidence] = field(default_factory=list)
    incomplete: list[Evidence] = field(default_factory=list)

    @property
    def bilateral(self) -> bool:
        return any(g.role == "delegation" for g in self.grants)

    def lines(self) -> list[int]:
        """The lines deciding this cell, in order."""
        found = [e.anchor.line for e in self.grants + self.denies if e.anchor]
        for path in self.escalation:
            found += [p.line for p in path.via.patterns]
        return sorted(set(found))

    def to_json(self, *, explained: bool = False) -> dict:
        data = {"verdict": self.verdict, "actions": self.actions, "lines": self.lines(),
                "grants": [e.to_json() for e in self.grants],
                "denies": [e.to_json() for e in self.denies],
                "escalation": [e.to_json() for e in self.escalation]}
        if explained:
            data["unrelated"] = [e.to_json() for e in self.unrelated]
            data["incomplete"] = [e.to_json() for e in self.incomplete]
        return data


@dataclass
class SubjectRow:
    subject: Subject
    cells: dict[str, Cell]

    def to_json(self) -> dict:
        return {**self.subject.to_json(),
                "cells": {cap: self.cells[cap].to_json() for cap in CAPABILITIES}}


@dataclass
class KeyAccess:
    id: str
    location: Location
    rows: list[SubjectRow]

    def to_json(self) -> dict:
        return {"id": self.id, "line": self.location.line,
                "subjects": [row.to_json() for row in self.rows]}


def _tool() -> dict:
    return {"name": "kmspolicy", "version": __version__}


def _errors_json(errors: list[FileError]) -> list[dict]:
    return [{"file": e.file, "line": e.line, "column": e.column, "message": e.message}
            for e in errors]


@dataclass
class AccessReport:
    file: str
    keys: list[KeyAccess]
    errors: list[FileError] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"version": 1, "kind": "access", "tool": _tool(), "file": self.file,
                "capabilities": {cap: sorted(class_actions(cap)) for cap in CAPABILITIES},
                "keys": [k.to_json() for k in self.keys], "errors": _errors_json(self.errors)}


@dataclass
class Explanation:
    file: str
    key: str
    key_location: Location
    subject: Subject
    action: str | None  # None: every capability
    cells: dict[str, Cell]  # by action, or by capability
    errors: list[FileError] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"version": 1, "kind": "explain", "tool": _tool(), "file": self.file,
                "key": self.key, "key_line": self.key_location.line,
                "principal": self.subject.to_json(), "action": self.action,
                "cells": {name: cell.to_json(explained=True) for name, cell in self.cells.items()},
                "errors": _errors_json(self.errors)}


def class_actions(capability: str) -> list[str]:
    """The KMS actions of one capability (KMS-SEMANTICS.md §6), sorted."""
    return [a for a in catalog.ALL_ACTIONS if catalog.action_class(a) == capability]


def _origin_json(origin: dict | None) -> dict | None:
    if not origin:
        return None
    return {k: origin[k] for k in ("kind", "template", "group") if k in origin}


def library_modules() -> dict[str, str]:
    """The Rego library (policies/kmspolicy/lib, tests left out): all access needs."""
    root = builtin_policy_dir() / "kmspolicy"
    return {f"kmspolicy/{name}": source for name, source in read_policy_dir(root).items()
            if name.startswith("lib/")}


def _rego_string(text: str) -> str:
    return json.dumps(text)


@dataclass
class _Analyzed:
    template: LoadedTemplate
    input: dict
    errors: list[FileError]
    normalizer: _Normalizer
    config: dict


class AccessAnalyzer:
    """Loads, normalizes and asks the Rego library; `report` and `explain` locate."""

    def __init__(self, parameters: dict[str, str] | None = None, config: dict | None = None,
                 modules: dict[str, str] | None = None):
        self.parameters = parameters or {}
        self.modules = modules if modules is not None else library_modules()
        self.config = config or {}
        self.data = {"kmspolicy": {"config": self.config}}
        self._matrix_engine: EmbeddedEngine | None = None

    # --- steps ---------------------------------------------------------------

    def analyze(self, path: str, display: str | None = None) -> _Analyzed:
        display = display or path
        try:
            template = load_template(path)
        except TemplateError as exc:
            raise AccessError(str(exc)) from None
        document = template.document
        if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
            raise AccessError(f"{display}: not a CloudFormation or SAM template (no Resources mapping)")
        normalizer = _Normalizer(document, display, self.parameters, self.config)
        normalized = with_access(normalizer.run(), self.config, keep_conditions=True)
        errors = []
        for pointer, message in normalized.problems:
            span = locate(template, pointer)
            errors.append(FileError(display, message, span.line, span.column))
        if not normalized.input["keys"]:
            raise AccessError(f"{display}: no AWS::KMS::Key or AWS::KMS::ReplicaKey in this template")
        return _Analyzed(template, normalized.input, errors, normalizer, self.config)

    def matrix(self, input_doc: dict) -> dict:
        if self._matrix_engine is None:
            self._matrix_engine = EmbeddedEngine(self.modules, self.data, query=MATRIX_QUERY)
        return self._matrix_engine.evaluate(input_doc)

    # --- access --------------------------------------------------------------

    def report(self, path: str, display: str | None = None, key: str | None = None) -> AccessReport:
        analyzed = self.analyze(path, display)
        keys = analyzed.input["keys"]
        if key is not None:
            _check_key(analyzed, key)
        matrix = self.matrix(analyzed.input)
        locator = _Locator(analyzed.template, analyzed.input)
        out = []
        for kid in keys:
            if key is not None and kid != key:
                continue
            rows = [SubjectRow(subject_of(keys[kid], sid, analyzed.input),
                               {cap: locator.cell(kid, sid, matrix[kid][sid][cap]) for cap in CAPABILITIES})
                    for sid in _subject_order(keys[kid])]
            out.append(KeyAccess(kid, locator.at(keys[kid]["path"]), rows))
        return AccessReport(analyzed.input["file"], out, analyzed.errors)

    # --- explain -------------------------------------------------------------

    def explain(self, path: str, key: str, principal: str, action: str | None = None,
                display: str | None = None) -> Explanation:
        analyzed = self.analyze(path, display)
        _check_key(analyzed, key)
        sid = resolve_principal(principal, analyzed.input["keys"][key], analyzed)
        return self._explanations(analyzed, [(key, sid)], _canonical_action(action))[0]

    def explain_all(self, path: str, display: str | None = None) -> list[Explanation]:
        """Every key x subject, every capability, with one engine query."""
        analyzed = self.analyze(path, display)
        pairs = [(kid, sid) for kid, key in analyzed.input["keys"].items() for sid in _subject_order(key)]
        return self._explanations(analyzed, pairs, None)

    def _explanations(self, analyzed: _Analyzed, pairs: list[tuple[str, str]],
                      action: str | None) -> list[Explanation]:
        if action is not None:
            targets = {action: "{" + _rego_string(action) + "}"}
        else:
            targets = {cap: f"data.kmspolicy.lib.access.classes[{_rego_string(cap)}]" for cap in CAPABILITIES}
        calls = [f"data.kmspolicy.lib.matrix.explain({_rego_string(kid)}, {_rego_string(sid)}, {actions})"
                 for kid, sid in pairs for actions in targets.values()]
        raw = EmbeddedEngine(self.modules, self.data, query="[" + ", ".join(calls) + "]").evaluate(analyzed.input)
        locator = _Locator(analyzed.template, analyzed.input)
        out = []
        for n, (kid, sid) in enumerate(pairs):
            key_doc = analyzed.input["keys"][kid]
            cells = {name: locator.cell(kid, sid, raw[n * len(targets) + i], explained=True)
                     for i, name in enumerate(targets)}
            out.append(Explanation(analyzed.input["file"], kid, locator.at(key_doc["path"]),
                                   subject_of(key_doc, sid, analyzed.input), action, cells,
                                   analyzed.errors))
        return out


def _check_key(analyzed: _Analyzed, key: str) -> None:
    keys = analyzed.input["keys"]
    if key not in keys:
        raise AccessError(f"unknown key '{key}' (keys in {analyzed.input['file']}: {', '.join(keys)})")


def _canonical_action(action: str | None) -> str | None:
    if action is None:
        return None
    canonical = catalog.canonical(action if ":" in action else f"kms:{action}")
    if canonical is None or catalog.action_class(canonical) not in CAPABILITIES:
        raise AccessError(f"'{action}' is not a KMS action on a key (e.g. kms:Decrypt, "
                          "kms:Encrypt, kms:PutKeyPolicy)")
    return canonical


# --- subjects -----------------------------------------------------------------------

_KIND_ORDER = {"identity": 0, "account": 1, "any": 2}


def _subject_order(key: dict) -> list[str]:
    """Template identities first (by label), then accounts, everyone, other principals."""
    subjects = key["subjects"]
    return sorted(subjects, key=lambda sid: (_KIND_ORDER.get(subjects[sid]["kind"], 3),
                                             subjects[sid]["account"] != "self",
                                             subjects[sid]["label"], sid))


def subject_of(key: dict, sid: str, input_doc: dict) -> Subject:
    raw = key["subjects"][sid]
    owner = None
    if raw.get("identity"):
        owner = input_doc["identities"].get(raw["identity"], {}).get("owner")
    return Subject(sid, raw["kind"], raw["label"], raw["account"], raw.get("identity"), owner)


def resolve_principal(text: str, key: dict, analyzed: _Analyzed) -> str:
    """The subject id `--principal text` designates, adding one to the key if needed.

    Accepted: `account`, `*`, a subject id or label, a logical ID (a role, user or
    function: a function means its execution role), or a principal ARN / account ID
    (resolved like the normalizer resolves a key policy's principals, so
    `arn:aws:iam::${AWS::AccountId}:user/${KeyUser}` and `!GetAtt`-linked roles match).
    """
    subjects = key["subjects"]
    identities = analyzed.input["identities"]
    if text == "account":
        return "account:self"
    if text in subjects:
        return text
    for sid, subject in subjects.items():
        if subject["label"] == text and (subject["kind"] != "identity" or subject["identity"] == text
                                         or identities[subject["identity"]]["owner"] == text):
            return sid
    if f"identity:{text}" in subjects:
        return f"identity:{text}"
    owned = [iid for iid, identity in identities.items() if identity.get("owner") == text]
    if owned and f"identity:{owned[0]}" in subjects:
        return f"identity:{owned[0]}"
    if text == "*" or text.startswith("arn:") or ACCOUNT_ID.match(text):
        principal = _parse_principal(text, analyzed)
        if principal["id"] not in subjects:
            add_subject(analyzed.input, key["id"], {
                "id": principal["id"], "kind": principal["kind"], "account": principal["account"],
                "label": principal["raw"] if principal["kind"] != "account"
                else f"any IAM principal of account {principal['account']}",
                "identity": principal["identity"],
            }, analyzed.config)
        return principal["id"]
    names = sorted({subject_of(key, sid, analyzed.input).name for sid in subjects} | {"*"})
    raise AccessError(f"unknown principal '{text}' for key {key['id']} (valid: {', '.join(names)}, "
                      "or a principal ARN)")


def _parse_principal(text: str, analyzed: _Analyzed) -> dict:
    value: Any = {"Fn::Sub": text} if "${" in text else text
    try:
        alternatives = analyzed.normalizer.resolver.strings(value)
        return from_aws_value(alternatives[0], "", analyzed.normalizer.link)
    except (IntrinsicError, PrincipalError, IndexError) as exc:
        raise AccessError(f"--principal {text}: {exc}") from None


# --- locating -----------------------------------------------------------------------

# The span of a pointer as findings have it: for a value spanning several lines, its key.
locate = _finding_span


class _Locator:
    """Turns the engine's cells (statement indexes, JSON pointers) into located evidence."""

    def __init__(self, template: LoadedTemplate, input_doc: dict):
        self.template = template
        self.input = input_doc

    def at(self, pointer: str, *, item: bool = False) -> Location:
        """`item`: a statement expanded from a SAM policy template is shown at the
        template's name in `Policies` (the key), not at its parameters."""
        try:
            span = self.template.source_map.key_span(pointer) if item else None
            span = span or locate(self.template, pointer)
        except (ValueError, LookupError):
            raise EngineError(f"the access library returned an unknown location {pointer!r}") from None
        return Location(pointer, span.line, span.column, span.end_line, span.end_column)

    def cell(self, kid: str, sid: str, raw: dict, *, explained: bool = False) -> Cell:
        key = self.input["keys"][kid]
        identity = key["subjects"][sid].get("identity")
        cell = Cell(
            verdict=raw["verdict"], actions=list(raw["actions"]),
            grants=[self.evidence(key, identity, g) for g in raw["grants"]],
            denies=[self.evidence(key, identity, d) for d in raw["denies"]],
            escalation=[self.escalation(key, identity, e) for e in raw["escalation"]],
        )
        if explained:
            cell.unrelated = [self.bare(key, u["index"], "unrelated", u["actions"])
                              for u in raw["unrelated"]]
            cell.incomplete = [self.bare(key, u["index"], "incomplete", u["actions"])
                               for u in raw["incomplete"]]
        return cell

    def _statement(self, key: dict, policy: str, identity: str | None, index: int) -> dict:
        if policy == "key":
            return key["statements"][index]
        return self.input["identities"][identity]["statements"][index]

    def evidence(self, key: dict, identity: str | None, raw: dict) -> Evidence:
        policy = raw["policy"]
        st = self._statement(key, policy, identity, raw["index"])
        patterns = sorted(raw["patterns"])
        item = (st.get("origin") or {}).get("kind") == "sam-policy-template"
        return Evidence(
            role=raw["how"], policy=policy, statement=raw["index"], sid=st["sid"],
            actions=list(raw["actions"]),
            principals=[self.at(p) for p in raw["principals"]],
            patterns=[self.at(p, item=item) for p in patterns],
            pattern_texts=[_pattern_text(st, p, set(raw["actions"])) for p in patterns],
            condition=self.at(raw["condition"]) if raw.get("condition") else None,
            location=self.at(st["path"], item=item),
            identity=identity if policy == "identity" else None,
            origin=st.get("origin"),
            named=[p["raw"] for p in st.get("principals") or []],
        )

    def bare(self, key: dict, index: int, role: str, actions: list[str] | None = None) -> Evidence:
        """A key-policy statement shown by its principal line only."""
        st = key["statements"][index]
        return Evidence(
            role=role, policy="key", statement=index, sid=st["sid"], actions=list(actions or []),
            principals=[self.at(p["path"]) for p in st["principals"]][:1],
            location=self.at(st["path"]), named=[p["raw"] for p in st["principals"]],
            origin=st.get("origin"), not_principal=st.get("principal_mode") == "NotPrincipal",
        )

    def escalation(self, key: dict, identity: str | None, raw: dict) -> Escalation:
        key_st = key["statements"][raw["key_statement"]]
        if raw["identity_statement"] is None:
            via_raw = {"policy": "key", "how": "direct", "index": raw["key_statement"],
                       "actions": [raw["action"]], "principals": [], "patterns": raw["patterns"],
                       "condition": key_st["condition"]["path"]}
            delegation = None
        else:
            via_raw = {"policy": "identity", "how": "identity", "index": raw["identity_statement"],
                       "actions": [raw["action"]], "principals": [], "patterns": raw["patterns"],
                       "condition": None}
            delegation = self.bare(key, raw["key_statement"], "delegation")
        return Escalation(raw["action"], self.evidence(key, identity, via_raw), delegation,
                          list(raw["gains"]))


def _pattern_text(st: dict, pointer: str, actions: set[str]) -> str:
    """The action patterns written at `pointer` that match some of `actions`."""
    if st["action_mode"] == "NotAction":
        return "NotAction: " + ", ".join(p["pattern"] for p in st["patterns"])
    return ", ".join(p["pattern"] for p in st["patterns"]
                     if p["path"] == pointer and actions & set(p["actions"]))
