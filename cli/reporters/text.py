"""`--format text` (the default): findings for humans, one block each, like ruff or rustc.

    KP001 [medium] examples/seed/template.yaml:23:13  KmsKey
      Key policy delegates to the whole account, not the root user
      arn:aws:iam::${AWS::AccountId}:root names the account: any IAM principal in it ...
        |
     22 |           Principal:
     23 |             AWS: !Sub arn:aws:iam::${AWS::AccountId}:root
        |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        |
      related: examples/seed/template.yaml:24  grants kms:*

    1 finding (1 medium) in 1 file; 0 errors

A finding of a CDK app names its construct after the resource: `KmsKey6AB29FA6
(construct DataStack/DataKey)`. Findings come in `Finding.sort_key` order; messages are printed as given (their own
line breaks kept, no wrapping). The code frame shows the line before the span
and the first line of the span, marked from `column` up to `end_column` (exclusive), or to
the end of the line when the span runs on; it is left out when `context.sources` has no
such line. Suppressed findings are shown only when verbose. Errors follow, one line each
(`error: file:line:col: message`), then one summary line. Quiet prints only errors and the
summary. Colour (ANSI) only when `context.color`. Control characters from templates or
messages are replaced, and no line can start a CI workflow command (reporters/safe.py),
so a template can drive neither the terminal nor the CI log.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterable, Iterator
from typing import TextIO

from kmspolicy.bridge.findings import SEVERITIES, FileError, Finding, Result
from kmspolicy.bridge.spool import Spool, sorted_items

from ..rule_docs import doc_url
from .base import ReportContext, StreamingReporter, split_lines
from .safe import clean, safe_lines, text_line

SEVERITY_COLORS = {
    "critical": "1;31",
    "high": "31",
    "medium": "33",
    "low": "36",
    "info": "34",
}
BOLD = "1"
MARKER = "31"
ERROR = "1;31"
DIM = "2"

def _width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _text_width(text: str) -> int:
    if text.isascii():  # control characters are replaced before (clean)
        return len(text)
    return sum(_width(ch) for ch in text)


def _pad(prefix: str) -> str:
    """Blank space as wide as `prefix` on screen, keeping its tabs so the marker lines up."""
    if prefix.isascii() and "\t" not in prefix:
        return " " * len(prefix)
    return "".join("\t" if ch == "\t" else " " * _width(ch) for ch in prefix)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str | None) -> str:
        if not self.enabled or not code or not text:
            return text
        return f"\x1b[{code}m{text}\x1b[0m"


class TextReporter(StreamingReporter):
    name = "text"

    def write(self, result: Result, context: ReportContext, stream: TextIO) -> None:
        with safe_lines(stream, text_line) as safe:
            self._write(result, context, safe)

    def _write(self, result: Result, context: ReportContext, stream: TextIO) -> None:
        paint = _Paint(context.color)
        if not context.quiet:
            for finding in in_report_order(result.findings):
                if finding.suppressed and not context.verbose:
                    continue
                stream.write("\n".join(self._finding(finding, context, paint)) + "\n\n")
        for error in sorted_items(result.errors, key=_error_key):
            stream.write(f"{paint('error', ERROR)}: {clean(str(error))}\n")
        for status in result.files:
            for note in status.notes:
                stream.write(f"note: {clean(status.file)}: {clean(note)}\n")
        stream.write(summary_line(result) + "\n")

    def _finding(self, f: Finding, context: ReportContext, paint: _Paint) -> list[str]:
        severity = paint(f"[{clean(f.severity)}]", SEVERITY_COLORS.get(f.severity))
        head = f"{paint(clean(f.rule), BOLD)} {severity} {clean(f.file)}:{f.line}:{f.column}"
        if f.resource:
            head += f"  {clean(f.resource)}"
        if f.construct:
            head += f"  (construct {clean(f.construct)})"
        lines = [head]
        if f.title:
            lines.append(f"  {clean(f.title)}")
        if f.message.strip():
            for part in split_lines(f.message):
                lines.append(f"  {clean(part, keep=chr(9))}".rstrip())
        if f.suppressed:
            reason = f.suppression_reason or "no reason given"
            lines.append("  " + paint(f"suppressed: {clean(reason)}", DIM))
        lines.extend(_code_frame(f, context.sources(f.file), paint))
        url = doc_url(f.rule) if context.verbose else None
        if url:
            lines.append(f"  docs: {url}")
        for rel in f.related:
            message = clean(" ".join(rel.message.split()))
            lines.append(f"  related: {clean(rel.file)}:{rel.line}  {message}".rstrip())
        return lines


def _finding_key(f: Finding) -> tuple:
    # sort_key first; the rest only breaks ties so that input order never shows
    return (f.sort_key(), f.severity, f.resource, f.path, f.fingerprint, f.suppressed)


def in_report_order(findings: Iterable[Finding]) -> Iterator[Finding]:
    """The findings sorted by `_finding_key`; a spool already sorted by `Finding.sort_key`
    (eval sorts its result so) is read once, each run of equal sort keys sorted alone."""
    if not (isinstance(findings, Spool) and findings.is_sorted_by(Finding.sort_key)):
        yield from sorted_items(findings, key=_finding_key)
        return
    for _, run in itertools.groupby(findings, key=Finding.sort_key):
        ties = list(run)
        yield from sorted(ties, key=_finding_key) if len(ties) > 1 else ties


def _error_key(error: FileError) -> tuple:
    return (error.file, error.line or 0, error.column or 0, error.message)


def _code_frame(f: Finding, source: list[str] | None, paint: _Paint) -> list[str]:
    if not source or not 1 <= f.line <= len(source):
        return []
    width = len(str(f.line))
    gutter = " " * width
    frame = [f" {gutter} |"]
    if f.line > 1:
        before = clean(source[f.line - 2], "\t").rstrip()
        frame.append(f" {f.line - 1:>{width}} | {before}".rstrip())
    line = clean(source[f.line - 1], "\t").rstrip()
    frame.append(f" {f.line} | {line}".rstrip())
    start = max(f.column, 1) - 1
    if f.end_line > f.line:  # a span that runs on is marked to the end of its first line
        stop = len(line)
    else:  # end_column is exclusive; an empty or inverted span still gets one caret
        stop = min(f.end_column - 1, len(line))
    span_width = _text_width(line[start:stop])
    pad = _pad(line[:start]) + " " * max(0, start - len(line))
    marker = paint("^" * max(1, span_width), MARKER)
    frame.append(f" {gutter} | {pad}{marker}")
    frame.append(f" {gutter} |")
    return frame


def summary_line(result: Result) -> str:
    """`3 findings (2 high, 1 medium) in 1 file; 0 errors`, or `No findings in 2 files.`

    Counts are those of `Result.summary()`: unsuppressed findings, files checked (whether
    or not they have findings), errors. Files that could not be analyzed are counted, so a
    run with errors never reads as clean.
    """
    summary = result.summary()
    files = _plural(summary["files"], "file")
    suppressed = summary["suppressed"]
    errors = _plural(summary["errors"], "error")
    not_analyzed = summary["files"] - summary["analyzed"]
    if not_analyzed:
        errors += f" ({_plural(not_analyzed, 'file')} not fully analyzed)"
    if summary["findings"]:
        counts = summary["by_severity"]
        ranked = [s for s in SEVERITIES if counts.get(s)] + sorted(
            s for s in counts if s not in SEVERITIES and counts[s]
        )
        breakdown = ", ".join(f"{counts[s]} {s}" for s in ranked)
        line = f"{_plural(summary['findings'], 'finding')} ({breakdown}) in {files}"
        if suppressed:
            line += f"; {suppressed} suppressed"
        return f"{line}; {errors}"
    line = f"No findings in {files}"
    if suppressed:
        line += f" ({suppressed} suppressed)"
    if summary["errors"] or not_analyzed:
        return f"{line}; {errors}"
    return line + "."


REPORTER = TextReporter()
