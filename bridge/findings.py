"""The result model every reporter reads: located findings, file errors, the summary.

The JSON output (`kmspolicy eval --format json`) is this model serialized by
`Result.to_json()`; its schema is `bridge/schema/output-v1.json` and it is a public contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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

    def to_json(self) -> dict:
        return {"file": self.file, "status": self.status, "keys": self.keys}


@dataclass
class Result:
    files: list[FileStatus] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def active_findings(self) -> list[Finding]:
        return [f for f in self.findings if not f.suppressed]

    def exit_code(self, fail_on: str = "low") -> int:
        """0 clean, 1 findings at or above `fail_on`, 2 any file that could not be analyzed."""
        if self.errors and fail_on != "never":
            return 2
        if any(severity_at_least(f.severity, fail_on) for f in self.active_findings()):
            return 1
        return 0

    def summary(self) -> dict:
        by_severity = {s: 0 for s in SEVERITIES}
        by_rule: dict[str, int] = {}
        for f in self.active_findings():
            by_severity[f.severity] = by_severity.get(f.severity, 0) + 1
            by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
        return {
            "files": len(self.files),
            "analyzed": sum(1 for f in self.files if f.status == "analyzed"),
            "errors": len(self.errors),
            "findings": len(self.active_findings()),
            "suppressed": sum(1 for f in self.findings if f.suppressed),
            "by_severity": by_severity,
            "by_rule": dict(sorted(by_rule.items())),
        }

    def to_json(self, tool_version: str) -> dict:
        return {
            "version": 1,
            "tool": {"name": "kmspolicy", "version": tool_version},
            "files": [f.to_json() for f in self.files],
            "findings": [f.to_json() for f in self.findings],
            "errors": [e.to_json() for e in self.errors],
            "summary": self.summary(),
        }
