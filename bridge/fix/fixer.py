"""One `kmspolicy fix` run: analyse, plan every key, write the patch, analyse the patched
template, and keep the patch only if the proof holds."""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import catalog
from ..access.errors import AccessError
from ..load import TemplateError
from ..pipeline import Analyzer, FileReport, PolicySet
from ..reading import ReadError, read_file
from .analysis import analyze, library_modules
from .emit import Edit, apply_edits, insert_key_policy_edit, key_policy_edit, metadata_edit
from .naming import NamingError, node_at
from .plan import KeyPlan, Overrides, Planner, intent_sets
from .proof import Verdict, prove


class FixError(ValueError):
    """The intent cannot be met or the input is bad: exit 2, no patch."""


@dataclass
class AccessChange:
    """One subject's actions of one capability that went from one verdict to another."""
    subject: str  # its label
    capability: str
    before: str  # allowed | conditional | reachable | unknown | none
    after: str
    actions: list[str]
    subject_id: str = ""
    kind: str = ""
    owner: str | None = None  # the function or state machine owning an identity


@dataclass
class FixResult:
    file: str
    original: str
    patched: str
    plans: list[KeyPlan]
    verdicts: dict[str, Verdict]
    before: FileReport
    after: FileReport
    edits: dict[str, list[Edit]] = field(default_factory=dict)
    changes: dict[str, list[AccessChange]] = field(default_factory=dict)
    before_format: str = "yaml"  # the template's format: yaml | json
    unchanged: list[str] = field(default_factory=list)  # keys whose policy has no finding to resolve

    @property
    def safe(self) -> bool:
        return all(v.safe for v in self.verdicts.values())

    def diff(self) -> str:
        return "".join(difflib.unified_diff(self.original.splitlines(keepends=True),
                                            self.patched.splitlines(keepends=True),
                                            fromfile=f"a/{self.file.lstrip('/')}",
                                            tofile=f"b/{self.file.lstrip('/')}"))


def fix(path: str, config: dict, parameters: dict[str, str], overrides: Overrides,
        key: str | None = None) -> FixResult:
    try:
        original = read_file(path, 5_000_000, "template").decode("utf-8-sig")
    except (ReadError, UnicodeDecodeError) as exc:
        raise FixError(f"{path}: {getattr(exc, 'message', exc)}") from None
    try:
        analyzed = analyze(path, parameters, config)
    except AccessError as exc:
        raise FixError(str(exc)) from None
    if analyzed.errors:
        e = analyzed.errors[0]
        raise FixError(f"{e.file}:{e.line}:{e.column}: {e.message} (fix needs the whole template read)")
    keys = list(analyzed.input["keys"])
    if key is not None and key not in keys:
        raise FixError(f"unknown key '{key}' (keys in {path}: {', '.join(keys)})")
    analyzer = Analyzer(PolicySet.builtin(config=config), parameters=parameters)
    before = analyzer.analyze(path)
    intents = intent_sets(analyzed, library_modules(), {"kmspolicy": {"config": config}})
    planner = Planner(analyzed, analyzed.template.document, config, overrides, intents)
    plans, unchanged = [], []
    chosen_intent = bool(overrides.admins or overrides.users or overrides.root)
    for kid in ([key] if key else keys):
        if not chosen_intent and not _policy_findings(before, analyzed.input["keys"][kid]):
            unchanged.append(kid)
            continue
        try:
            plans.append(planner.plan(kid))
        except NamingError as exc:
            raise FixError(f"{path}: {kid}: {exc}") from None
    edits: dict[str, list[Edit]] = {}
    for plan in plans:
        k = analyzed.input["keys"][plan.key_id]
        notes = [s.notes for s in plan.statements]
        if plan.inserted:
            policy = plan.policy(None)
            edit = insert_key_policy_edit(analyzed.template, f"{k['path']}/Properties", policy, notes)
            if edit is None:
                raise FixError(f"{path}: {plan.key_id}: its Properties are not a block fix can add KeyPolicy to")
        else:
            policy = plan.policy(node_at(analyzed.template.document, plan.policy_path))
            edit = key_policy_edit(analyzed.template, plan.policy_path, policy, notes)
        edits[plan.key_id] = [edit]
        if plan.metadata is not None:
            meta = metadata_edit(analyzed.template, k["path"], plan.metadata, plan.policy_path)
            if meta is not None:
                edits[plan.key_id].append(meta)
    if "\r\n" in original:  # the template's line endings, in the inserted text too
        edits = {kid: [replace(e, text=e.text.replace("\n", "\r\n")) for e in group] for kid, group in edits.items()}
    patched = apply_edits(original, [e for group in edits.values() for e in group])
    after = _analyze_text(analyzer, patched, path) if plans else before
    result = FixResult(path, original, patched, plans, prove(before, after, plans), before, after, edits,
                       before_format=analyzed.template.format, unchanged=unchanged)
    for plan in plans:
        result.changes[plan.key_id] = access_change(before, after, plan.key_id)
    return result


def _policy_findings(report: FileReport, key: dict) -> list:
    """The unsuppressed findings a new key policy may answer: every finding of the key but
    those on its other properties (rotation, the lockout bypass, ...); for a key without a
    KeyPolicy, those on the key itself too."""
    where, resource = key["policy_path"], key["path"]

    def answerable(path: str) -> bool:
        if where and (path == where or path.startswith(where + "/")):
            return True
        if path == resource:
            return not where
        return not path.startswith(resource + "/")

    return [f for f in report.findings if f.resource == key["id"] and not f.suppressed and answerable(f.path)]


def _analyze_text(analyzer: Analyzer, text: str, display: str) -> FileReport:
    suffix = Path(display).suffix or ".yaml"
    fd, tmp = tempfile.mkstemp(suffix=suffix, prefix="kmspolicy-fix-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        return analyzer.analyze(tmp, display=display)
    finally:
        os.unlink(tmp)


CAPABILITIES = ("use", "manage", "permissions", "read")


def access_change(before: FileReport, after: FileReport, kid: str) -> list[AccessChange]:
    """Per subject and capability, actions grouped by (verdict before, verdict after)."""
    old, new = before.input["keys"][kid], after.input["keys"][kid]
    out = []
    subjects = {**new["subjects"], **old["subjects"]}
    bits = catalog.key_action_bits()
    for sid, subject in subjects.items():
        for cap in CAPABILITIES:
            groups: dict[tuple[str, str], list[str]] = {}
            for action, bit in sorted(bits.items()):
                if catalog.action_class(action) != cap:
                    continue
                was, now = _verdict(old, sid, bit), _verdict(new, sid, bit)
                if was != "none" or now != "none":
                    groups.setdefault((was, now), []).append(action)
            owner = (before.input["identities"].get(subject.get("identity") or "") or {}).get("owner")
            out += [AccessChange(subject["label"], cap, was, now, actions, sid, subject["kind"], owner)
                    for (was, now), actions in groups.items()]
    return out


def _verdict(key: dict, sid: str, bit: int) -> str:
    cell = (key.get("access") or {}).get(sid) or {}
    for name in ("allowed", "conditional", "reachable", "unknown"):
        if cell.get(name, 0) & bit:
            return name
    return "none"


__all__ = ["FixError", "FixResult", "Overrides", "TemplateError", "fix"]
