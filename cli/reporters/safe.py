"""What a template's text cannot do to the log or the terminal a report is printed on.

A template is untrusted text, and its strings reach every output: in messages, resource
names, file names and the text format's code frames. Printed in a GitHub Actions log, a
line whose first non-blank characters are `::` is a workflow command (`::stop-commands::`
turns annotations off, `::add-mask::` hides text) and `##[` anywhere on a line starts a
legacy one (`##[add-mask]…`); on a terminal, ESC, CSI, OSC and the other C0 and C1
controls drive the screen, and bidi overrides make text read other than it is.

So every line kmspolicy writes goes through one of these:

* human-readable text (the text format, stderr, GitHub annotation data): controls and
  bidi overrides become U+FFFD (`clean`), `##[` becomes `##\\[` and a leading `::`
  becomes `:\\:` (`text_line`): visible, and no longer a command;
* JSON and SARIF (`json_line`) and JUnit XML (`xml_line`): the same characters are
  escaped the way the format escapes characters (`\\u0023`, `&#35;`), so a parser reads
  exactly the value it would have read, and the printed line commands nothing.

`SafeLines` applies one of them to a stream line by line, whatever the writes' sizes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

# Bidirectional overrides, embeddings, isolates and marks (Trojan Source, CVE-2021-42574).
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
# C0 and C1 controls, DEL, bidi controls, the Unicode line and paragraph separators.
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI}]")
_LEGACY_COMMAND = "##["
_LEADING_COMMAND = re.compile(r"^(\s*):(?=:)")
_LATER_LEADING_COMMAND = re.compile(r"\n\s*::")  # on a line after the first
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f\u2028\u2029{BIDI}]")
_UNSAFE_IN_XML = re.compile(f"[\r\x7f-\x9f\u2028\u2029{BIDI}]")  # a raw CR ends a log line


def clean(text: str, keep: str = "") -> str:
    """`text` with every control and bidi character but those in `keep` as U+FFFD."""
    if text.isascii() and text.isprintable():  # nothing to replace: the common case
        return text
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else "\ufffd", text)


def text_line(line: str) -> str:
    """A line of human-readable output that starts no workflow command."""
    line = line.replace(_LEGACY_COMMAND, "##\\[")
    if "::" not in line:
        return line
    return _LEADING_COMMAND.sub(r"\1:\\", line, count=1)


def message(text: str) -> str:
    """Untrusted text as human-readable lines: cleaned, each line guarded."""
    return "\n".join(text_line(clean(line, keep="\t")) for line in text.split("\n"))


def json_line(line: str) -> str:
    """A line of JSON text (only strings can hold these characters): the same JSON value."""
    line = _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", line)
    return line.replace(_LEGACY_COMMAND, "#\\u0023[")


def xml_line(line: str) -> str:
    """A line of XML text or attribute values: the same document, read by a parser."""
    line = _UNSAFE_IN_XML.sub(lambda m: f"&#x{ord(m.group()):x};", line)
    line = line.replace(_LEGACY_COMMAND, "#&#35;[")
    return _LEADING_COMMAND.sub(r"\1&#58;", line, count=1)


def guarded(text: str, guard: Callable[[str], str]) -> str:
    """A whole rendered output, each of its lines through `guard` (a text no line of which
    text_line would change is returned as it is)."""
    if guard is text_line and not _commands_in(text):
        return text
    return "\n".join(guard(line) for line in text.split("\n"))


def _commands_in(text: str) -> bool:
    """Would text_line change any line of `text`?"""
    return (_LEGACY_COMMAND in text or text.lstrip().startswith("::")
            or _LATER_LEADING_COMMAND.search(text) is not None)


class SafeLines:
    """A text stream that passes each complete line through `guard` before `inner`."""

    def __init__(self, inner: TextIO, guard: Callable[[str], str]) -> None:
        self.inner = inner
        self.guard = guard
        self.pending = ""

    def write(self, text: str) -> int:
        text = self.pending + text
        head, newline, self.pending = text.rpartition("\n")
        if newline:
            self.inner.write(guarded(head, self.guard) + "\n")
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def finish(self) -> None:
        if self.pending:
            self.inner.write(self.guard(self.pending))
            self.pending = ""


@contextmanager
def safe_lines(stream: TextIO, guard: Callable[[str], str]) -> Iterator[SafeLines]:
    guarded = SafeLines(stream, guard)
    yield guarded
    guarded.finish()
