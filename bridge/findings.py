"""The result model every reporter reads: located findings, file errors, the summary.

The JSON output (`kmspolicy eval --format json`) is this model serialized by
`Result.to_json()`; its schema is `bridge/schema/output-v1.json` and it is a public contract.
A scan's Result keeps its lists in spools (`Result.spooled()`, bridge/spool.py), so the
memory of a scan does not grow with its files; readers only iterate them, and change them
through `keep_findings` and `sort`, which both kinds of list have.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields

from .spool import Spool

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK = {name: rank for rank, name in enumerate(reversed(SEVERITIES))}


def severity_at_least(severity: str, threshold: str) -> bool:
    """True when `severity` is as severe as `threshold` or more ("never" is never reached)."""
    if threshold == "never":
        return False
    return SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK[threshold]


@dataclass
class Related:
    file: str
    line: int
    column: int
    path: str
    message: str

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.column,
                "path": self.path, "message": self.message}


@dataclass
class Finding:
    rule: str
    severity: str
    title: str
    message: str
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    resource: str
    path: str
    related: list[Related] = field(default_factory=list)
    suppressed: bool = False
    suppression_reason: str | None = None
    fingerprint: str = ""
    construct: str | None = None  # the CDK construct path (bridge/cdk/annotate.py)

    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.rule, self.message)

    def to_json(self) -> dict:
        data = {
            "rule": self.rule, "severity": self.severity, "title": self.title,
            "message": self.message, "file": self.file, "line": self.line,
            "column": self.column, "end_line": self.end_line, "end_column": self.end_column,
            "resource": self.resource, "path": self.path,
            "related": [r.to_json() for r in self.related],
            "suppressed": self.suppressed, "fingerprint": self.fingerprint,
        }
        if self.suppressed:
            data["suppression_reason"] = self.suppression_reason
        if self.construct:
            data["construct"] = self.construct
        return data


@dataclass
class FileError:
    """A file (or part of one) that could not be analyzed: never reported as clean."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None
    kind: str = "input"  # input | engine | internal

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.column,
                "kind": self.kind, "message": self.message}

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


@dataclass
class FileStatus:
    file: str
    status: str  # analyzed | error
    keys: int = 0
    # the keys' logical IDs, for reports that list every key (JUnit); not in the JSON output
    key_ids: tuple[str, ...] = ()
    # what the analysis of this file did not do per scenario (an optional field of v1)
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict:
        data = {"file": self.file, "status": self.status, "keys": self.keys}
        if self.notes:
            data["notes"] = list(self.notes)
        return data


@dataclass
class Result:
    files: list[FileStatus] | Spool[FileStatus] = field(default_factory=list)
    findings: list[Finding] | Spool[Finding] = field(default_factory=list)
    errors: list[FileError] | Spool[FileError] = field(default_factory=list)
    skipped: list[str] | Spool[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._summary: tuple[tuple[int, ...], dict] | None = None  # (revisions, summary)

    @classmethod
    def spooled(cls) -> Result:
        """An empty Result whose lists are spools: for a whole scan; `close()` it after."""
        return cls(Spool(), Spool(), Spool(), Spool())

    def close(self) -> None:
        """Drop the spools' temporary files (lists are left as they are)."""
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Spool):
                value.close()

    def __enter__(self) -> Result:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def active_findings(self) -> Iterator[Finding]:
        return (f for f in self.findings if not f.suppressed)

    def keep_findings(self, keep: Callable[[Finding], bool]) -> None:
        """Drop the findings `keep` refuses (asked once each, in order); a spool stays a spool."""
        kept = (f for f in self.findings if keep(f))
        if isinstance(self.findings, Spool):
            spool = Spool(kept)
            self.findings.close()
            self.findings = spool
        else:
            self.findings = list(kept)

    def exit_code(self, fail_on: str = "low") -> int:
        """0 clean, 1 findings at or above `fail_on`, 2 any file that could not be analyzed."""
        summary = self.summary()
        if summary["errors"] and fail_on != "never":
            return 2
        if any(count and severity_at_least(severity, fail_on)
               for severity, count in summary["by_severity"].items()):
            return 1
        return 0

    def summary(self) -> dict:
        """The counts of the JSON output's `summary`, in one pass over the findings and files
        (remembered while the spools do not change: reporters ask for it more than once)."""
        revisions = self._revisions()
        if revisions is not None and self._summary is not None and self._summary[0] == revisions:
            return copy.deepcopy(self._summary[1])
        summary = _summary(self.files, self.findings, len(self.errors))
        if revisions is not None:
            self._summary = (revisions, copy.deepcopy(summary))
        return summary

    def _revisions(self) -> tuple[int, ...] | None:
        """The spools' revisions; None when a list is among them (its content may change)."""
        lists = [getattr(self, item.name) for item in fields(self)]
        if all(isinstance(value, Spool) for value in lists):
            return tuple(value.revision for value in lists)
        return None

    def to_json(self, tool_version: str, array: Callable[[Iterable], object] = list) -> dict:
        """The JSON output; `array` makes its long arrays (a Streamed, to write them item by
        item: cli/reporters/json_stream.py)."""
        return {
            "version": 1,
            "tool": {"name": "kmspolicy", "version": tool_version},
            "files": array(f.to_json() for f in self.files),
            "findings": array(f.to_json() for f in self.findings),
            "errors": array(e.to_json() for e in self.errors),
            "summary": self.summary(),
        }


def _summary(files: Iterable[FileStatus], findings: Iterable[Finding], errors: int) -> dict:
    by_severity = {s: 0 for s in SEVERITIES}
    by_rule: dict[str, int] = {}
    active = suppressed = 0
    for f in findings:
        if f.suppressed:
            suppressed += 1
            continue
        active += 1
        by_severity[f.severity] = by_severity.get(f.severity, 0) + 1
        by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
    checked = analyzed = 0
    for status in files:
        checked += 1
        analyzed += status.status == "analyzed"
    return {
        "files": checked,
        "analyzed": analyzed,
        "errors": errors,
        "findings": active,
        "suppressed": suppressed,
        "by_severity": by_severity,
        "by_rule": dict(sorted(by_rule.items())),
    }
