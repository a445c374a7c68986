"""`--format junit`: JUnit XML, as GitLab, Jenkins and Azure DevOps render test reports.

One `<testsuite>` per template (named by its path), one `<testcase>` per KMS key × rule,
so rules that pass are test cases too: the rules are the catalog (`ReportContext.rules`)
plus any rule a finding names, the keys are the file's keys plus any other resource a
finding is on. A case with findings has one `<failure>` whose `message` is the first
finding's location and message and whose text lists every finding with its related
lines; a case whose findings are all suppressed is `<skipped>` with the reason. Each
error (a file or part of one that could not be analyzed) is a test case with an
`<error>`, so a broken template never passes. Text that XML 1.0 cannot hold (control
characters from a template) is replaced by U+FFFD.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from kmspolicy.bridge.findings import FileError, Finding, Result

from .base import ReportContext, report_rules

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
NO_RESOURCE = "(template)"


def xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def describe(f: Finding) -> str:
    lines = [f"{f.file}:{f.line}:{f.column} [{f.severity}] {f.rule} {f.title}".rstrip(), f.message]
    if f.suppressed:
        lines.append(f"suppressed: {f.suppression_reason or 'no reason given'}")
    lines.extend(f"related: {r.file}:{r.line}: {r.message}" for r in f.related)
    return "\n".join(lines)


class _Counts:
    def __init__(self) -> None:
        self.tests = self.failures = self.errors = self.skipped = 0

    def attributes(self) -> dict[str, str]:
        return {"tests": str(self.tests), "failures": str(self.failures),
                "errors": str(self.errors), "skipped": str(self.skipped)}

    def add(self, other: _Counts) -> None:
        self.tests += other.tests
        self.failures += other.failures
        self.errors += other.errors
        self.skipped += other.skipped


def _case(suite: ET.Element, file: str, name: str, line: int | None = None) -> ET.Element:
    attributes = {"classname": xml_text(file), "name": xml_text(name), "file": xml_text(file)}
    if line is not None:
        attributes["line"] = str(line)
    return ET.SubElement(suite, "testcase", attributes)


def _rule_case(suite: ET.Element, counts: _Counts, file: str, subject: str, rule_id: str,
               title: str, findings: list[Finding]) -> None:
    active = [f for f in findings if not f.suppressed]
    first = (active or findings)[0] if findings else None
    case = _case(suite, file, f"{subject}: {rule_id} {title}".rstrip(),
                 first.line if first else None)
    counts.tests += 1
    if active:
        counts.failures += 1
        message = f"{first.file}:{first.line}:{first.column}: {first.message}"
        if len(active) > 1:
            message = f"{len(active)} findings; first at {message}"
        failure = ET.SubElement(case, "failure", {"message": xml_text(message),
                                                  "type": xml_text(f"{rule_id} {first.severity}")})
        failure.text = xml_text("\n\n".join(describe(f) for f in active))
    elif findings:
        counts.skipped += 1
        reasons = sorted({f.suppression_reason or "no reason given" for f in findings})
        ET.SubElement(case, "skipped", {"message": xml_text("suppressed: " + "; ".join(reasons))})


def _error_case(suite: ET.Element, counts: _Counts, error: FileError) -> None:
    case = _case(suite, error.file, f"analysis ({error.kind} error)", error.line)
    counts.tests += 1
    counts.errors += 1
    element = ET.SubElement(case, "error", {"message": xml_text(error.message),
                                            "type": xml_text(error.kind)})
    element.text = xml_text(str(error))


def junit_tree(result: Result, context: ReportContext) -> ET.Element:
    rules = report_rules(result, context)
    keys = {status.file: status.key_ids for status in result.files}
    files = sorted(set(keys) | {f.file for f in result.findings} | {e.file for e in result.errors})
    root = ET.Element("testsuites", {"name": "kmspolicy"})
    total = _Counts()
    for file in files:
        suite = ET.SubElement(root, "testsuite", {"name": xml_text(file)})
        counts = _Counts()
        findings = sorted((f for f in result.findings if f.file == file), key=Finding.sort_key)
        grouped: dict[tuple[str, str], list[Finding]] = {}
        for f in findings:
            grouped.setdefault((f.resource or NO_RESOURCE, f.rule), []).append(f)
        subjects = sorted(set(keys.get(file, ())) | {subject for subject, _ in grouped})
        for subject in subjects:
            for rule in rules:
                _rule_case(suite, counts, file, subject, rule.id, rule.title,
                           grouped.get((subject, rule.id), []))
        for error in sorted((e for e in result.errors if e.file == file),
                            key=lambda e: (e.line or 0, e.column or 0, e.message)):
            _error_case(suite, counts, error)
        suite.attrib.update(counts.attributes())
        total.add(counts)
    root.attrib.update(total.attributes())
    return root


class JunitReporter:
    name = "junit"

    def render(self, result: Result, context: ReportContext) -> str:
        root = junit_tree(result, context)
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


REPORTER = JunitReporter()
