"""The reporter interface: one `Reporter` per output format, one `ReportContext` per run.

A reporter turns a finished `Result` into the text written to stdout. It decides nothing
else: the caller decides colour (TTY and `NO_COLOR`), verbosity and the exit code
(`Result.exit_code(fail_on)`); the reporter only obeys what `ReportContext` says.
Reporters are pure: the same result and context always give the same string.
A reporter writes its output piece by piece (`write`): a scan's Result is spooled on disk
and the output of 10,000 templates is never one string; `render` is the same as a string.
What must be sorted is sorted with `sorted_items` (bridge/spool.py), never in one list.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO, runtime_checkable

from kmspolicy import __version__
from kmspolicy.bridge.findings import Result
from kmspolicy.bridge.rules import Rule

SourceLines = Callable[[str], list[str] | None]
SOURCE_CACHE_FILES = 8

# The line breaks the YAML loader counts (PyYAML's), so line N here is line N there.
# str.splitlines() would also split on \v, \f and \x1c-\x1e and shift every later line.
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_BREAKS_BUT_NEWLINE = "\r\x85\u2028\u2029"


def split_lines(text: str) -> list[str]:
    """Split source text into lines exactly where the template loader counts lines."""
    if any(char in text for char in _BREAKS_BUT_NEWLINE):
        lines = _LINE_BREAK.split(text)
    else:  # the same lines, ten times faster
        lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def no_sources(_file: str) -> list[str] | None:
    """A `ReportContext.sources` that never has a file: reporters print no code frames."""
    return None


def file_sources(root: str | Path | None = None) -> SourceLines:
    """A caching `ReportContext.sources` that reads files (relative to `root`) as UTF-8.

    It keeps the last `SOURCE_CACHE_FILES` files read: reports go file by file, and keeping
    every file would grow with the scan (hundreds of MB at 10,000 templates).
    A file that cannot be read gives None, so the reporter skips its code frame.
    """

    @functools.lru_cache(maxsize=SOURCE_CACHE_FILES)
    def read(file: str) -> list[str] | None:
        path = Path(root, file) if root is not None else Path(file)
        try:
            return split_lines(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return None

    return read


@dataclass(frozen=True)
class ReportContext:
    color: bool = False
    verbose: bool = False
    quiet: bool = False
    sources: SourceLines = field(default=no_sources)
    tool_version: str = __version__
    fail_on: str = "low"
    # The rules that ran ({id: Rule}, severity overrides applied), for formats that list
    # every rule (SARIF's catalog, JUnit's passing test cases); None when unknown.
    rules: Mapping[str, Rule] | None = None
    # Findings left out of the result because `--baseline` already knows them.
    baseline_hidden: int = 0


def report_rules(result: Result, context: ReportContext) -> list[Rule]:
    """Every rule a report lists, by id: `context.rules`, plus any rule a finding names that
    the catalog lacks (described from the finding), so every finding has its rule."""
    rules = dict(context.rules or {})
    for f in result.findings:
        if f.rule not in rules:
            rules[f.rule] = Rule(id=f.rule, package="", title=f.title, description="",
                                 severity=f.severity, remediation="", file="")
    return [rules[rule_id] for rule_id in sorted(rules)]


@runtime_checkable
class Reporter(Protocol):
    name: str

    def write(self, result: Result, context: ReportContext, stream: TextIO) -> None:
        """Write the complete output for `result`, ending with a newline, to `stream`."""
        ...

    def render(self, result: Result, context: ReportContext) -> str:
        """The complete output for `result`, ending with a newline."""
        ...


class StreamingReporter:
    """A reporter defined by its `write`; `render` is what it writes, as one string."""

    name: str

    def write(self, result: Result, context: ReportContext, stream: TextIO) -> None:
        raise NotImplementedError

    def render(self, result: Result, context: ReportContext) -> str:
        out = io.StringIO()
        self.write(result, context, out)
        return out.getvalue()
