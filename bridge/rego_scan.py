"""A lexical view of a Rego module for the pack checks: its string literals, and its text
with comments removed and string contents blanked, so that calls and keywords can be
found by position (and line) without being fooled by what a string or a comment says."""

from __future__ import annotations

import re
from dataclasses import dataclass

CALL = re.compile(r"(?<![\w.\]\)])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\(")
HEAD = re.compile(r"^([A-Za-z_]\w*)\s*\(", re.MULTILINE)  # a function head, at column 0
IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w.\[\]\"]+)(?:[ \t]+as[ \t]+(\w+))?", re.MULTILINE)
KEYWORDS = frozenset({"if", "not", "contains", "every", "some", "in", "with", "as", "else",
                      "default", "import", "package"})


@dataclass(frozen=True)
class Literal:
    start: int  # offset of the opening quote
    end: int  # offset after the closing quote
    raw: bool  # a backquoted string
    text: str  # what is between the quotes, as written


@dataclass
class Scanned:
    source: str
    masked: str
    literals: list[Literal]

    def line_of(self, offset: int) -> int:
        return self.source.count("\n", 0, offset) + 1

    def calls(self):
        """(name, offset of the name, offset after the opening parenthesis) of every call."""
        for match in CALL.finditer(self.masked):
            if match.group(1) not in KEYWORDS:
                yield match.group(1), match.start(1), match.end()

    def literal_at(self, offset: int) -> Literal | None:
        """The string literal starting at `offset` after any blanks."""
        while offset < len(self.masked) and self.masked[offset] in " \t\r\n":
            offset += 1
        return next((lit for lit in self.literals if lit.start == offset), None)

    def argument(self, after: int, index: int) -> str | None:
        """The text of argument `index` of the call whose `(` ends just before `after`."""
        span = self.argument_span(after, index)
        return self.masked[span[0]:span[1]] if span else None

    def argument_span(self, after: int, index: int) -> tuple[int, int] | None:
        """(start, end) of argument `index` of the call whose `(` ends just before `after`,
        without the blanks around it."""
        depth, start, current = 0, after, 0
        for i in range(after, len(self.masked)):
            char = self.masked[i]
            if char in "([{":
                depth += 1
            elif char in ")]}" and depth > 0:
                depth -= 1
            elif (char == "," or char in ")]}") and depth == 0:
                if current == index:
                    return self._stripped(start, i)
                if char != ",":
                    return None
                current, start = current + 1, i + 1
        return None

    def _stripped(self, start: int, end: int) -> tuple[int, int]:
        while start < end and self.masked[start] in " \t\r\n":
            start += 1
        while end > start and self.masked[end - 1] in " \t\r\n":
            end -= 1
        return start, end

    def enclosing_call(self, offset: int) -> str | None:
        """The name of the call whose parentheses hold `offset`, if any."""
        return self.position_in_call(offset)[0]

    def position_in_call(self, offset: int) -> tuple[str | None, int]:
        """(the call whose parentheses hold `offset`, the index of the argument there)."""
        depth, commas = 0, 0
        for i in range(offset - 1, -1, -1):
            char = self.masked[i]
            if char in ")]}":
                depth += 1
            elif char in "([{":
                if depth == 0:
                    if char != "(":
                        return None, 0
                    match = re.search(r"([A-Za-z_][\w.]*)\s*$", self.masked[:i])
                    return (match.group(1) if match else None), commas
                depth -= 1
            elif char == "," and depth == 0:
                commas += 1
        return None, 0

    def local_functions(self) -> set[str]:
        return set(HEAD.findall(self.masked))

    def import_aliases(self) -> set[str]:
        out = set()
        for path, alias in IMPORT.findall(self.masked):
            if path.startswith(("data.", "input")):
                out.add(alias or re.split(r"[.\[]", path)[-1])
        return out


def bracket_pairs(masked: str) -> dict[int, int]:
    """The offset of every opening bracket of a masked text and of the one closing it."""
    pairs, stack = {}, []
    for i, char in enumerate(masked):
        if char in "([{":
            stack.append(i)
        elif char in ")]}" and stack:
            pairs[stack.pop()] = i
    return pairs


def top_level(masked: str, pairs: dict[int, int], start: int, end: int, char: str) -> int | None:
    """The offset of the first `char` between start and end outside any bracket there."""
    i = start
    while i < end:
        if masked[i] in "([{" and i in pairs:
            i = pairs[i] + 1
            continue
        if masked[i] == char:
            return i
        i += 1
    return None


def scan(source: str) -> Scanned:
    masked: list[str] = []
    literals: list[Literal] = []
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char == "#":
            end = source.find("\n", i)
            end = n if end < 0 else end
            masked.append(" " * (end - i))
            i = end
        elif char in "\"`":
            end = _string_end(source, i)
            literals.append(Literal(i, end, char == "`", source[i + 1:end - 1]))
            masked.append(char + "".join(c if c == "\n" else " " for c in source[i + 1:end - 1])
                          + char)
            i = end
        else:
            masked.append(char)
            i += 1
    return Scanned(source, "".join(masked), literals)


def _string_end(source: str, start: int) -> int:
    quote, i = source[start], start + 1
    while i < len(source):
        if quote == '"' and source[i] == "\\":
            i += 2
            continue
        if source[i] == quote or (quote == '"' and source[i] == "\n"):
            return i + 1
        i += 1
    return len(source)
