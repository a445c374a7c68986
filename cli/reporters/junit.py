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

import heapq
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from operator import attrgetter, itemgetter
from typing import TextIO

from kmspolicy.bridge.findings import FileError, FileStatus, Finding, Result
from kmspolicy.bridge.rules import Rule
from kmspolicy.bridge.spool import Spool, sorted_items

from .base import ReportContext, StreamingReporter, report_rules
from .safe import safe_lines, xml_line

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


def _by_file(result: Result) -> Iterator[tuple[str, list[FileStatus], list[Finding], list[FileError]]]:
    """Each file any status, finding or error names, in order, with its own of each (sorted)."""
    statuses = sorted_items(result.files, key=attrgetter("file"))
    findings = sorted_items(result.findings, key=Finding.sort_key)
    errors = sorted_items(result.errors, key=lambda e: (e.file, e.line or 0, e.column or 0, e.message))

    def groups(items: Iterable, kind: int) -> Iterator[tuple[str, int, list]]:
        for file, group in itertools.groupby(items, key=attrgetter("file")):
            yield file, kind, list(group)

    merged = heapq.merge(groups(statuses, 0), groups(findings, 1), groups(errors, 2), key=itemgetter(0))
    for file, parts in itertools.groupby(merged, key=itemgetter(0)):
        of_file: tuple[list, list, list] = ([], [], [])
        for _, kind, items in parts:
            of_file[kind].extend(items)
        yield file, *of_file


def testsuite(file: str, statuses: list[FileStatus], findings: list[Finding], errors: list[FileError],
              rules: list[Rule]) -> tuple[ET.Element, _Counts]:
    """One file's suite: its keys (and other resources with findings) × every rule, then its
    errors; `findings` and `errors` in report order."""
    suite = ET.Element("testsuite", {"name": xml_text(file)})
    counts = _Counts()
    keys = statuses[-1].key_ids if statuses else ()
    grouped: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        grouped.setdefault((f.resource or NO_RESOURCE, f.rule), []).append(f)
    subjects = sorted(set(keys) | {subject for subject, _ in grouped})
    for subject in subjects:
        for rule in rules:
            _rule_case(suite, counts, file, subject, rule.id, rule.title,
                       grouped.get((subject, rule.id), []))
    for error in errors:
        _error_case(suite, counts, error)
    suite.attrib.update(counts.attributes())
    return suite, counts


class JunitReporter(StreamingReporter):
    """The suites are serialized one at a time (to a spool) while the totals, which the root
    element carries first, are counted; then written out as `ET.indent` would lay them out."""

    name = "junit"

    def write(self, result: Result, context: ReportContext, stream: TextIO) -> None:
        with safe_lines(stream, xml_line) as safe:
            self._write(result, context, safe)

    def _write(self, result: Result, context: ReportContext, stream: TextIO) -> None:
        rules = report_rules(result, context)
        total = _Counts()
        with Spool() as suites:
            for file, statuses, findings, errors in _by_file(result):
                suite, counts = testsuite(file, statuses, findings, errors, rules)
                ET.indent(suite, level=1)
                suites.append(ET.tostring(suite, encoding="unicode"))
                total.add(counts)
            root = ET.Element("testsuites", {"name": "kmspolicy", **total.attributes()})
            stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
            if not suites:
                stream.write(ET.tostring(root, encoding="unicode") + "\n")
                return
            root.text = "|"  # a mark to cut the root element into its start and end tags
            start, end = ET.tostring(root, encoding="unicode").split("|")
            stream.write(start)
            for suite_text in suites:
                stream.write("\n  " + suite_text)
            stream.write("\n" + end + "\n")


REPORTER = JunitReporter()
