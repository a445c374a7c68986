"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

    ::warning file=t.yaml,line=23,endLine=23,col=18,endColumn=58,title=KP001 [medium] Key…::message

Severity decides the command: critical/high `error`, medium `warning`, low/info `notice`.
`col`/`endColumn` are given only for a span on one line (GitHub ignores them otherwise).
The message is followed by the finding's CDK construct, if any, and its related lines. Data is escaped as the Actions
toolkit does (`%` → %25, CR → %0D, LF → %0A; properties also `:` → %3A, `,` → %2C), so a
template can neither end the command early nor start another. Files that could not be
analyzed are `::error` annotations too. Suppressed findings are annotated only when
verbose (as notices); quiet leaves out the findings' annotations. GitHub shows only 10
annotations of each kind per step, so the files not analyzed come first, then the findings
most severe first (a plain line says so when there are more). The last line is the plain
summary.

`append_step_summary` writes the markdown job summary (per file and rule, with links to
the lines when `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY` and `GITHUB_SHA` are set) to the
file named by `GITHUB_STEP_SUMMARY`; `eval` calls it when this format is chosen.
"""

from __future__ import annotations

import itertools
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import PurePosixPath, PureWindowsPath
from typing import TextIO
from urllib.parse import quote

from kmspolicy.bridge.findings import SEVERITY_RANK, FileError, Finding, Result
from kmspolicy.bridge.spool import sorted_items

from .base import ReportContext, StreamingReporter
from .safe import clean
from .text import summary_line

COMMANDS = {"critical": "error", "high": "error", "medium": "warning", "low": "notice",
            "info": "notice"}
# GitHub refuses a step summary over 1 MiB; stay well below it.
MAX_SUMMARY_BYTES = 900_000
# GitHub shows 10 annotations of each kind per step (50 per job) and drops the rest.
SHOWN_PER_KIND = 10


def escape_data(text: str) -> str:
    """Line breaks as the runner decodes them; controls and bidi characters replaced and
    `##[` broken (reporters/safe.py): an annotation shows text, commands nothing."""
    text = clean(text, keep="\r\n").replace("##[", "##\\[")
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, object], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items()
                     if value is not None and value != "")
    return f"::{name} {props}::{escape_data(message)}" if props else f"::{name}::{escape_data(message)}"


def finding_command(f: Finding) -> str:
    properties: dict[str, object] = {"file": f.file, "line": f.line, "endLine": f.end_line}
    if f.end_line == f.line:
        properties.update(col=f.column, endColumn=f.end_column)
    title = f"{f.rule} [{f.severity}] {f.title}".strip()
    if f.suppressed:
        title += " (suppressed)"
    properties["title"] = title
    message = f.message
    if f.construct:
        message += f"\nConstruct: {f.construct}"
    if f.suppressed:
        message += f"\nSuppressed: {f.suppression_reason or 'no reason given'}"
    for rel in f.related:
        message += f"\nRelated: {rel.file}:{rel.line}: {rel.message}"
    name = "notice" if f.suppressed else COMMANDS.get(f.severity, "warning")
    return command(name, properties, message)


def error_command(error: FileError) -> str:
    properties: dict[str, object] = {"file": error.file, "line": error.line, "col": error.column,
                                     "title": f"kmspolicy: {error.kind} error, not analyzed"}
    return command("error", properties, error.message)


class GithubReporter(StreamingReporter):
    name = "github"

    def write(self, result: Result, context: ReportContext, stream: TextIO) -> None:
        kinds: Counter[str] = Counter()
        for line in _annotations(result, context):
            kinds[line.split("::", 2)[1].split(" ", 1)[0]] += 1
            stream.write(line + "\n")
        if any(count > SHOWN_PER_KIND for count in kinds.values()):
            stream.write(f"kmspolicy: GitHub shows only {SHOWN_PER_KIND} annotations of each kind "
                         "per step; the job summary and the SARIF output list everything.\n")
        summary = summary_line(result)
        if context.baseline_hidden:
            summary += f" ({context.baseline_hidden} hidden by the baseline)"
        stream.write(summary + "\n")


def _annotations(result: Result, context: ReportContext) -> Iterator[str]:
    # what GitHub must not drop comes first: files not analyzed, then the most severe
    yield from (error_command(error) for error in sorted_items(result.errors, key=_error_key))
    for status in result.files:  # e.g. scenarios merged beyond the cap
        yield from (command("warning", {"file": status.file, "title": "kmspolicy: analysis note"},
                            note) for note in status.notes)
    if not context.quiet:
        shown = (f for f in result.findings if context.verbose or not f.suppressed)
        for f in sorted_items(shown, key=lambda f: (f.suppressed, -SEVERITY_RANK.get(f.severity, 0),
                                                    f.sort_key(), f.fingerprint)):
            yield finding_command(f)


def _error_key(error: FileError) -> tuple:
    return (error.file, error.line or 0, error.column or 0, error.message)


# --- job summary ----------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&])")


def md(text: str) -> str:
    """Text as literal markdown on one line: every markup character escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def line_url(file: str, line: int, end_line: int, environ: Mapping[str, str]) -> str | None:
    """A link to the lines on GitHub, for a path inside the repository (the working directory)."""
    server, repo, sha = (environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
                                                  "GITHUB_SHA"))
    if not (server and repo and sha):
        return None
    if PurePosixPath(file).is_absolute() or PureWindowsPath(file).is_absolute() \
            or file.startswith("../"):
        return None
    anchor = f"#L{line}" if end_line <= line else f"#L{line}-L{end_line}"
    return f"{server.rstrip('/')}/{repo}/blob/{sha}/{quote(file, safe='/')}{anchor}"


def step_summary(result: Result, context: ReportContext, environ: Mapping[str, str]) -> str:
    """The job summary in markdown: the summary line, then per file and rule each finding
    with a link to its lines, then what could not be analyzed."""
    head = [f"## kmspolicy\n\n{md(summary_line(result))}\n"]
    if context.baseline_hidden:
        head.append(f"{context.baseline_hidden} known findings hidden by the baseline.\n")
    return _bounded("\n".join(head) + "\n", _summary_sections(result, context, environ))


def _summary_sections(result: Result, context: ReportContext,
                      environ: Mapping[str, str]) -> Iterator[str]:
    shown = sorted_items((f for f in result.findings if context.verbose or not f.suppressed),
                         key=lambda f: (f.file, f.rule, f.line, f.column, f.message))
    for file, in_file in itertools.groupby(shown, key=lambda f: f.file):
        yield f"### {md(file)}\n"
        for _, findings in itertools.groupby(in_file, key=lambda f: f.rule):
            first = next(findings)
            yield f"**{md(first.rule)}** {md(first.title)} ({md(first.severity)})\n"
            for f in itertools.chain([first], findings):
                url = line_url(f.file, f.line, f.end_line, environ)
                where = f"[line {f.line}]({url})" if url else f"line {f.line}"
                item = f"- {where}"
                if f.resource:
                    item += f" {md(f.resource)}"
                if f.construct:
                    item += f" (construct {md(f.construct)})"
                item += f": {md(f.message)}"
                if f.suppressed:
                    item += f" *(suppressed: {md(f.suppression_reason or 'no reason given')})*"
                yield item
            yield ""
    if result.errors:
        yield "### Not analyzed\n"
        for error in sorted_items(result.errors, key=_error_key):
            yield f"- {md(str(error))}"
        yield ""


def _bounded(head: str, sections: Iterable[str]) -> str:
    out, size = [head], len(head.encode("utf-8"))
    sections = iter(sections)
    for part in sections:
        size += len(part.encode("utf-8")) + 1
        if size > MAX_SUMMARY_BYTES:
            left = sum(1 for p in itertools.chain([part], sections) if p.startswith("- "))
            out.append(f"\n*{left} more lines left out (GitHub limits a job summary to 1 MiB); "
                       "see the SARIF or JSON output.*\n")
            break
        out.append(part + "\n")
    return "".join(out)


def append_step_summary(result: Result, context: ReportContext,
                        environ: Mapping[str, str] = os.environ) -> str | None:
    """Append the job summary to $GITHUB_STEP_SUMMARY when it is set; return that path."""
    path = environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return None
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(step_summary(result, context, environ))
    return path


REPORTER = GithubReporter()
