"""What `kmspolicy access` and `explain` report, located: the verdicts of a key's
subjects with the statements deciding them, each at its file, line and column.

`AccessReport.to_json()` and `Explanation.to_json()` are the `--format json` documents
(schema `bridge/schema/access-v1.json`). A row, key or set of explained cells that holds in
some deployable variants only carries `when` ("only when IsProd is true").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kmspolicy import __version__

from .. import catalog
from ..findings import FileError

CAPABILITIES = ("use", "manage", "permissions", "read")


def class_actions(capability: str) -> list[str]:
    """The KMS actions of one capability (KMS-SEMANTICS.md §6), sorted."""
    return [a for a in catalog.ALL_ACTIONS if catalog.action_class(a) == capability]


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
    external: bool = False  # of another account: its own IAM policies must allow too

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
    also: dict[str, list[str]] = field(default_factory=dict)  # other actions by weaker verdict

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
        data = {"verdict": self.verdict, "actions": self.actions, "also": self.also, "lines": self.lines(),
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
    when: str | None = None  # the scenarios this row holds in, when not all

    def to_json(self) -> dict:
        data = {**self.subject.to_json(),
                "cells": {cap: self.cells[cap].to_json() for cap in CAPABILITIES}}
        if self.when:
            data["when"] = self.when
        return data


@dataclass
class KeyAccess:
    id: str
    location: Location
    rows: list[SubjectRow]
    capabilities: dict[str, list[str]]  # the actions of each capability this key supports
    when: str | None = None

    def to_json(self) -> dict:
        data = {"id": self.id, "line": self.location.line, "capabilities": self.capabilities,
                "subjects": [row.to_json() for row in self.rows]}
        if self.when:
            data["when"] = self.when
        return data


def _tool() -> dict:
    return {"name": "kmspolicy", "version": __version__}


def _errors_json(errors: list[FileError]) -> list[dict]:
    return [{"file": e.file, "line": e.line, "column": e.column, "message": e.message}
            for e in errors]


def _with_notes(data: dict, notes: list[str]) -> dict:
    if notes:
        data["notes"] = list(notes)
    return data


@dataclass
class AccessReport:
    file: str
    keys: list[KeyAccess]
    errors: list[FileError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. scenarios merged beyond the cap

    def to_json(self) -> dict:
        return _with_notes({"version": 1, "kind": "access", "tool": _tool(), "file": self.file,
                            "capabilities": {cap: sorted(class_actions(cap)) for cap in CAPABILITIES},
                            "keys": [k.to_json() for k in self.keys],
                            "errors": _errors_json(self.errors)}, self.notes)


@dataclass
class ScenarioCells:
    """Explained cells that differ between deployable variants: their value in some."""

    when: str
    cells: dict[str, Cell]

    def to_json(self) -> dict:
        return {"when": self.when,
                "cells": {name: cell.to_json(explained=True) for name, cell in self.cells.items()}}


@dataclass
class Explanation:
    file: str
    key: str
    key_location: Location
    subject: Subject
    action: str | None  # None: every capability
    cells: dict[str, Cell]  # by action, or by capability: those every scenario agrees on
    errors: list[FileError] = field(default_factory=list)
    scenarios: list[ScenarioCells] = field(default_factory=list)  # the cells that differ
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        data = {"version": 1, "kind": "explain", "tool": _tool(), "file": self.file,
                "key": self.key, "key_line": self.key_location.line,
                "principal": self.subject.to_json(), "action": self.action,
                "cells": {name: cell.to_json(explained=True) for name, cell in self.cells.items()},
                "errors": _errors_json(self.errors)}
        if self.scenarios:
            data["scenarios"] = [s.to_json() for s in self.scenarios]
        return _with_notes(data, self.notes)


def _origin_json(origin: dict | None) -> dict | None:
    if not origin:
        return None
    return {k: origin[k] for k in ("kind", "template", "group") if k in origin}
