"""The infix comparisons of a Rego module (`<`, `>`, `<=`, `>=`) with their operands.

A comparison is a relation, the loosest of Rego's binary operators: its operands run,
either side, up to a bracket that holds the comparison, a `,` `;` `:` `=` or a line end
outside brackets, a comprehension's `|`, or a keyword (`if`, `not`, `with`...). Another
relation beside it (`a == b < c`, which OPA reads as `(a == b) < c`), or an operand on
another line, is refused (UnreadableComparison): parentheses make it readable."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .rego_scan import KEYWORDS, Scanned, bracket_pairs, top_level

OPERATOR = re.compile(r"<=|>=|<|>")
BOUNDARY = set(",;:\n")
WORD = re.compile(r"[A-Za-z_]\w*$")


class UnreadableComparison(ValueError):
    """A comparison whose operands cannot be told: beside another relation with no
    parentheses, or with an operand on another line."""

    def __init__(self, line: int, text: str, why: str):
        super().__init__(f"`{text}` {why}")
        self.line = line


@dataclass(frozen=True)
class Comparison:
    operator: str  # "<", ">", "<=", ">="
    left: tuple[int, int]  # operand spans in the module's source
    right: tuple[int, int]
    line: int


def comparisons(scanned: Scanned) -> list[Comparison]:
    masked = scanned.masked
    pairs = bracket_pairs(masked)
    closers = {close: open_at for open_at, close in pairs.items()}
    bars = _comprehension_bars(masked, pairs)
    out = []
    for match in OPERATOR.finditer(masked):
        start, end = match.span()
        left = _left_operand(masked, closers, bars, start)
        right = _right_operand(masked, pairs, bars, end)
        text = " ".join(scanned.source[left[0]:right[1]].split())
        if left[0] >= left[1] or right[0] >= right[1]:
            raise UnreadableComparison(scanned.line_of(start), text or match.group(),
                                       "has an operand that is not on its line: put the comparison in parentheses")
        before, after = masked[:left[0]].rstrip()[-2:], masked[right[1]:].lstrip()[:2]
        if before in ("==", "!=") or before.endswith(("<", ">")) or after.startswith(("==", "!=", "<", ">")):
            raise UnreadableComparison(scanned.line_of(start), text,
                                       "compares the result of a comparison: put one of them in parentheses")
        out.append(Comparison(match.group(), left, right, scanned.line_of(start)))
    return out


def _left_operand(masked: str, closers: dict[int, int], bars: set[int], operator: int) -> tuple[int, int]:
    end = len(masked[:operator].rstrip())
    i = end
    while i > 0:
        char = masked[i - 1]
        if char in ")]}" and (i - 1) in closers:
            i = closers[i - 1]
        elif char in "([{" or char in BOUNDARY or char in "=!<>" or (char == "|" and i - 1 in bars):
            break
        elif char.isalnum() or char == "_":
            word = WORD.search(masked, 0, i)
            if word and word.group() in KEYWORDS and not _member(masked, word.start()):
                break
            i = word.start() if word else i - 1
        else:
            i -= 1
    while i < end and masked[i] in " \t":
        i += 1
    return i, end


def _right_operand(masked: str, pairs: dict[int, int], bars: set[int], operator: int) -> tuple[int, int]:
    i = operator
    while i < len(masked) and masked[i] in " \t":
        i += 1
    start = i
    while i < len(masked):
        char = masked[i]
        if char in "([{" and i in pairs:
            i = pairs[i] + 1
        elif char in ")]}" or char in BOUNDARY or char in "=!<>" or (char == "|" and i in bars):
            break
        elif char.isalnum() or char == "_":
            word = re.match(r"[A-Za-z_]\w*", masked[i:])
            if word and word.group() in KEYWORDS and not _member(masked, i):
                break
            i += len(word.group()) if word else 1
        else:
            i += 1
    return start, len(masked[:i].rstrip())


def _member(masked: str, start: int) -> bool:
    """A word after a `.` is a reference's member (`input.some`), not a keyword."""
    return masked[:start].endswith(".")


def _comprehension_bars(masked: str, pairs: dict[int, int]) -> set[int]:
    """The `|` of every comprehension (the others are set unions)."""
    bars = (top_level(masked, pairs, open_at + 1, close, "|") for open_at, close in pairs.items()
            if masked[open_at] in "[{")
    return {bar for bar in bars if bar is not None}
