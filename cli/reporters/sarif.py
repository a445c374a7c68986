"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning and any SARIF viewer.

One run. `tool.driver.rules` is the rule catalog (`ReportContext.rules`, read from the
rules' METADATA), each rule with its title, description, help with the remediation, a
`defaultConfiguration.level` and `properties.security-severity` on GitHub's scale
(critical 9.5, high 7.5, medium 5.5, low 3.0; info rules have none and show as notes).
A finding whose severity differs from its rule's (it depends on intent: KP001, KP004 and
KP007 are high when the key declares its users, or on destructive actions) refers to a
variant of the rule, `<id>/<severity>` (SARIF's hierarchical rule ids), whose descriptor
carries that `security-severity`: GitHub code scanning reads `security-severity` from the
rule descriptor only, never from a result's properties (GitHub Docs, "SARIF support for
code scanning"). Each result also states its `security-severity` in its own properties.
Every finding is a result with `ruleId`/`ruleIndex`, a `level` from its own severity
(critical/high error, medium warning, low/info note), the template line (or the CDK app's
line, docs/cdk.md) as a physical location (uri relative to `%SRCROOT%`, the working
directory or `--root`; absolute paths outside it become file: URIs), its resource and, for
a CDK app, its construct as `logicalLocations` (the construct path as
`fullyQualifiedName`), its decision chain as `relatedLocations` linked from the message,
and `partialFingerprints` from `Finding.fingerprint`, which does not change when lines
shift. Suppressed findings carry `suppressions` with their justification. Files that could
not be analyzed are `invocations[0].toolExecutionNotifications` and make
`executionSuccessful` false.

GitHub's upload limits are kept: at most 25,000 results per run (the most severe are kept
and a notification says how many were left out) and 1,000 locations per result (related
locations beyond 100, the number GitHub shows, are left out and counted in the message).
Columns count Unicode code points (`columnKind`), as every kmspolicy column does.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath, PureWindowsPath
from typing import TextIO
from urllib.parse import quote

from kmspolicy.bridge.findings import SEVERITY_RANK, FileError, Finding, Result
from kmspolicy.bridge.rules import Rule
from kmspolicy.bridge.spool import Spool, sorted_items

from ..rule_docs import doc_url
from .base import ReportContext, StreamingReporter, report_rules
from .json_stream import Streamed, write_json
from .safe import json_line, safe_lines

SCHEMA_URI = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
              "sarif-schema-2.1.0.json")
INFORMATION_URI = "https://github.com/kmspolicy/kmspolicy"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "kmspolicyFingerprint/v1"

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub reads security-severity as a CVSS-like score: 9.0+ critical, 7.0-8.9 high,
# 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "7.5", "medium": "5.5", "low": "3.0"}
TAGS = ["security", "aws", "kms", "cloudformation"]

MAX_RESULTS = 25_000
MAX_RELATED = 100

_BRACKET = re.compile(r"[\[\]]")
_BACKSLASH_BEFORE_BRACKET = re.compile(r"\\(?=[\[\]])")


def plain(text: str) -> str:
    """Plain message text with literal brackets escaped, so no viewer reads them as the
    embedded links `[text](id)` of SARIF §3.11.6."""
    text = _BACKSLASH_BEFORE_BRACKET.sub(r"\\\\", text)
    return _BRACKET.sub(lambda m: "\\" + m.group(0), text)


def artifact_location(file: str) -> dict:
    """A relative path as a URI reference under %SRCROOT%; an absolute one as a file: URI."""
    for pure in (PurePosixPath, PureWindowsPath):
        path = pure(file)
        if path.is_absolute():
            return {"uri": path.as_uri()}
    return {"uri": quote(file.replace("\\", "/"), safe="/"), "uriBaseId": SRCROOT}


def region(line: int, column: int, end_line: int | None = None,
           end_column: int | None = None) -> dict:
    """1-based start (GitHub rejects a line below 1) and, when it is a valid span, the end
    (`endColumn` is exclusive, as in kmspolicy's own output)."""
    start_line, start_column = max(line, 1), max(column, 1)
    out = {"startLine": start_line, "startColumn": start_column}
    if end_line is not None and end_column is not None and end_column >= 1 and (
            end_line > start_line or (end_line == start_line and end_column >= start_column)):
        out["endLine"] = end_line
        out["endColumn"] = end_column
    return out


def unwrap(text: str) -> str:
    """METADATA prose without its hard line wraps (paragraphs kept), for plain-text fields."""
    return "\n\n".join(" ".join(part.split()) for part in re.split(r"\n\s*\n", text.strip()))


def rule_descriptor(rule: Rule) -> dict:
    description = rule.description or rule.title
    help_text = unwrap(description)
    help_markdown = description
    if rule.remediation:
        help_text += f"\n\nRemediation: {unwrap(rule.remediation)}"
        help_markdown += f"\n\n**Remediation**\n\n{rule.remediation}"
    properties: dict = {"tags": TAGS, "severity": rule.severity}
    if rule.severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[rule.severity]
    descriptor: dict = {"id": rule.id}
    if rule.package:
        descriptor["name"] = "".join(part.capitalize() for part in rule.name.split("_"))
    url = doc_url(rule.id.split("/", 1)[0])
    if url:
        descriptor["helpUri"] = url
    descriptor.update({
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": unwrap(description)},
        "help": {"text": help_text, "markdown": help_markdown},
        "defaultConfiguration": {"level": LEVELS.get(rule.severity, "warning")},
        "properties": properties,
    })
    return descriptor


def logical_locations(f: Finding) -> list[dict]:
    """The resource (logical ID) and the CDK construct it comes from (its path)."""
    out = [{"name": f.resource, "kind": "resource"}] if f.resource else []
    if f.construct:
        out.append({"name": f.construct.rsplit("/", 1)[-1], "fullyQualifiedName": f.construct})
    return out


def sarif_result(f: Finding, rule_index: int, occurrence: int, rule_id: str | None = None) -> dict:
    related = f.related[:MAX_RELATED]
    text = plain(f.message)
    if related:
        links = "; ".join(f"[{plain(r.message or 'related')}]({i})"
                          for i, r in enumerate(related, start=1))
        text += f"\n\nRelated: {links}."
    if len(f.related) > len(related):
        text += f" ({len(f.related) - len(related)} more related locations not listed.)"
    out: dict = {
        "ruleId": rule_id or f.rule,
        "ruleIndex": rule_index,
        "level": LEVELS.get(f.severity, "warning"),
        "message": {"text": text},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": artifact_location(f.file),
                "region": region(f.line, f.column, f.end_line, f.end_column),
            },
            **({"logicalLocations": logical_locations(f)} if f.resource or f.construct else {}),
        }],
    }
    if related:
        out["relatedLocations"] = [{
            "id": i,
            "message": {"text": plain(r.message or "related")},
            "physicalLocation": {"artifactLocation": artifact_location(r.file),
                                 "region": region(r.line, r.column)},
        } for i, r in enumerate(related, start=1)]
    if f.fingerprint:
        value = f.fingerprint if occurrence == 1 else f"{f.fingerprint}:{occurrence}"
        out["partialFingerprints"] = {FINGERPRINT_KEY: value}
    if f.suppressed:
        suppression = {"kind": "inSource", "status": "accepted"}
        if f.suppression_reason:
            suppression["justification"] = f.suppression_reason
        out["suppressions"] = [suppression]
    out["properties"] = {"severity": f.severity, "resource": f.resource, "path": f.path}
    if f.construct:
        out["properties"]["construct"] = f.construct
    if f.severity in SECURITY_SEVERITY:
        out["properties"]["security-severity"] = SECURITY_SEVERITY[f.severity]
    return out


def error_notification(error: FileError) -> dict:
    location: dict = {"artifactLocation": artifact_location(error.file)}
    if error.line is not None:
        location["region"] = region(error.line, error.column or 1)
    return {
        "level": "error",
        "message": {"text": plain(error.message)},
        "locations": [{"physicalLocation": location}],
        "descriptor": {"id": f"{error.kind}-error"},
    }


def note(descriptor: str, text: str, level: str = "note") -> dict:
    return {"level": level, "message": {"text": text}, "descriptor": {"id": descriptor}}


def _report_order(f: Finding) -> tuple:
    return (f.sort_key(), f.fingerprint)


def _severity_order(f: Finding) -> tuple:
    return (-SEVERITY_RANK.get(f.severity, 0), f.suppressed, f.sort_key())


def _within_limit(findings: Iterable[Finding], count: int, kept: Spool[Finding]) -> Iterator[Finding]:
    """The MAX_RESULTS most severe of `count` findings (in report order), back in report
    order; `kept` holds them on the way when there are too many."""
    if count <= MAX_RESULTS:
        return iter(findings)
    kept.extend(itertools.islice(sorted_items(findings, key=_severity_order), MAX_RESULTS))
    return sorted_items(kept, key=Finding.sort_key)


def _results(findings: Iterable[Finding], index: dict[str, int]) -> Iterator[dict]:
    seen: dict[str, int] = {}  # occurrences of each fingerprint in the file at hand
    file = None
    for f in findings:
        if f.file != file:
            file, seen = f.file, {}
        occurrence = seen[f.fingerprint] = seen.get(f.fingerprint, 0) + 1
        variant = _variant_id(f.rule, f.severity)
        if variant in index:
            yield sarif_result(f, index[variant], occurrence, variant)
        else:
            yield sarif_result(f, index[f.rule], occurrence)


def _variant_id(rule_id: str, severity: str) -> str:
    return f"{rule_id}/{severity}"


def _severity_variants(rules: list[Rule], findings: Iterable[Finding]) -> list[Rule]:
    """A rule per (rule, severity) that findings have and their rule's default does not."""
    by_id = {rule.id: rule for rule in rules}
    wanted = sorted({(f.rule, f.severity) for f in findings if f.severity != by_id[f.rule].severity})
    return [dataclasses.replace(by_id[rule_id], id=_variant_id(rule_id, severity), severity=severity)
            for rule_id, severity in wanted]


def _notifications(result: Result, context: ReportContext, left_out: int) -> Iterator[dict]:
    errors = sorted_items(result.errors, key=lambda e: (e.file, e.line or 0, e.column or 0, e.message))
    yield from (error_notification(e) for e in errors)
    for status in result.files:  # e.g. scenarios merged beyond the cap
        yield from (note("analysis-note", f"{status.file}: {text}", "warning")
                    for text in status.notes)
    if left_out:
        yield note("results-limit", f"{left_out} less severe results were left out: "
                   f"GitHub code scanning accepts at most {MAX_RESULTS} results per run.", "warning")
    if context.baseline_hidden:
        yield note("baseline", f"{context.baseline_hidden} known findings were hidden by the baseline.")


def sarif_document(result: Result, context: ReportContext, kept: Spool[Finding]) -> dict:
    """The SARIF log, its results and notifications `Streamed` (write it with write_json);
    `kept` is the spool `_within_limit` may fill, which the caller closes."""
    rules = report_rules(result, context)
    rules += _severity_variants(rules, result.findings)
    index = {rule.id: i for i, rule in enumerate(rules)}
    count = len(result.findings)
    findings = _within_limit(sorted_items(result.findings, key=_report_order), count, kept)
    left_out = max(0, count - MAX_RESULTS)
    invocation: dict = {"executionSuccessful": not result.errors}
    noted = any(status.notes for status in result.files)
    if result.errors or left_out or context.baseline_hidden or noted:
        invocation["toolExecutionNotifications"] = Streamed(_notifications(result, context, left_out))
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kmspolicy",
                "version": context.tool_version,
                "semanticVersion": context.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [rule_descriptor(rule) for rule in rules],
            }},
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "results": Streamed(_results(findings, index)),
        }],
    }


class SarifReporter(StreamingReporter):
    name = "sarif"

    def write(self, result: Result, context: ReportContext, stream: TextIO) -> None:
        with Spool() as kept, safe_lines(stream, json_line) as safe:  # reporters/safe.py
            write_json(safe, sarif_document(result, context, kept), ensure_ascii=False)
            safe.write("\n")


REPORTER = SarifReporter()


def sarif_fix(description: str, file: str, replacements: list[tuple[tuple[int, int, int, int], str]]) -> dict:
    """A SARIF `fix`: one artifact change replacing regions (line, column, end line, end column)."""
    return {"description": {"text": plain(description)},
            "artifactChanges": [{"artifactLocation": artifact_location(file), "replacements": [
                {"deletedRegion": region(*span), "insertedContent": {"text": text}}
                for span, text in replacements]}]}


def add_fixes(document: dict, fixes: dict[str, dict]) -> dict:
    """Attach `fixes[fingerprint]` to the results with that partial fingerprint."""
    for run in document.get("runs", []):
        for item in run.get("results", []):
            found = fixes.get((item.get("partialFingerprints") or {}).get(FINGERPRINT_KEY, ""))
            if found is not None:
                item["fixes"] = [found]
    return document
