"""Array comprehensions whose order the embedded engine would get wrong.

OPA iterates a set, and an object's keys, in sorted order; regopy 1.5 iterates them in
the order their elements were inserted (the catalog idioms `set-iteration-order`,
`object-iteration-order`). Only an array comprehension makes that order visible: the
array it builds. For every place an array comprehension of a pack iterates a collection
(`some v in E`, `some k, v in E`, `E[_]`, `E[k]` with `k` unbound), OPA's type checker
says what E is (rego_types); a set, an object, or a value that may be one of them is
refused on the embedded engine. Not checked (they are JSON, never sets, and the engine
receives their objects with sorted keys): collections read from `input`, and values OPA
cannot type (`any`, `???`: read from input or data, or a function's argument, whose calls
iterated_arguments.py checks).
An array comprehension passed directly to count() or sort() is not checked: its order
is not observed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .rego_scan import Scanned, bracket_pairs, top_level
from .rego_types import Expression

ORDER_FREE_USERS = ("count", "sort")
SOME_IN = re.compile(r"\bsome\b[^;\n|\]]*?\bin\b")
ITERATION_BRACKET = re.compile(r"(?<=[\w\])}])\[[ \t]*(_|[A-Za-z_]\w*)[ \t]*\]")
EVERY_BODY = re.compile(r"\bevery\b[^{;\n]*\{")


@dataclass(frozen=True)
class Site:
    """A collection an array comprehension iterates."""
    expression: Expression
    text: str
    line: int


def iteration_sites(name: str, scanned: Scanned, known_names: set[str]) -> list[Site]:
    """Where the array comprehensions of the module iterate something that may be a set or
    an object (input-rooted collections and array literals are left out)."""
    masked = scanned.masked
    pairs = bracket_pairs(masked)
    scopes = _scopes(masked, pairs)
    sites: list[Site] = []
    for open_at, bar, close in scopes:
        if masked[open_at] != "[" or _order_free(scanned, open_at, close):
            continue
        body = (bar + 1, close)
        elsewhere = _blank(masked, [(o, c) for o, _, c in scopes if not o < bar < c])
        for start, end in _collections(elsewhere, pairs, body, known_names):
            if _innermost(scopes, start) != (open_at, bar, close):
                continue
            text = scanned.source[start:end]
            if re.match(r"input\b", text) or text.startswith("["):
                continue
            sites.append(Site(Expression(name, start, end), " ".join(text.split()),
                              scanned.line_of(start)))
    return sites


def _blank(masked: str, spans: list[tuple[int, int]]) -> str:
    """`masked` with the spans blanked (except newlines): the variables other scopes bind."""
    chars = list(masked)
    for open_at, close in spans:
        for i in range(open_at + 1, close):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def may_be_unordered(type_text: str) -> bool:
    """A set or an object, or a union holding one (`any<number, set[number]>`)."""
    members = _union_members(type_text) if type_text.startswith("any<") else [type_text]
    return any(m.startswith(("set", "object")) for m in members)


def _union_members(type_text: str) -> list[str]:
    inner, out, depth, start = type_text[4:-1], [], 0, 0
    for i, char in enumerate(inner):
        if char in "<[(":
            depth += 1
        elif char in ">])":
            depth -= 1
        elif char == "," and depth == 0:
            out.append(inner[start:i].strip())
            start = i + 1
    out.append(inner[start:].strip())
    return out


def _scopes(masked: str, pairs: dict[int, int]) -> list[tuple[int, int, int]]:
    """(open, bar, close) of every comprehension, and (open, open, close) of every `every`
    body: the places whose iterations do not make the enclosing comprehension's elements."""
    out = []
    for open_at, close in pairs.items():
        if masked[open_at] not in "[{":
            continue
        bar = top_level(masked, pairs, open_at + 1, close, "|")
        if bar is not None:
            out.append((open_at, bar, close))
    for match in EVERY_BODY.finditer(masked):
        brace = match.end() - 1
        if brace in pairs:
            out.append((brace, brace, pairs[brace]))
    return out


def _innermost(scopes: list[tuple[int, int, int]], offset: int) -> tuple[int, int, int] | None:
    holding = [s for s in scopes if s[1] < offset < s[2]]
    return min(holding, key=lambda s: s[2] - s[0]) if holding else None


def _order_free(scanned: Scanned, open_at: int, close: int) -> bool:
    """Passed as a whole argument to count() or sort()."""
    masked = scanned.masked
    before = masked[:open_at].rstrip()[-1:]
    after = masked[close + 1:].lstrip()[:1]
    return (before in ("(", ",") and after in (")", ",")
            and scanned.enclosing_call(open_at) in ORDER_FREE_USERS)


def _collections(masked: str, pairs: dict[int, int], body: tuple[int, int],
                 known_names: set[str]):
    """(start, end) of each collection iterated in the body: after `some … in`, and before
    an iteration bracket (`[_]`, or a variable the rule does not bind)."""
    start, end = body
    for match in SOME_IN.finditer(masked, start, end):
        expr_start = match.end()
        expr_end = _expression_end(masked, pairs, expr_start, end)
        text_start = expr_start + len(masked[expr_start:expr_end]) - len(masked[expr_start:expr_end].lstrip())
        if text_start < expr_end:
            yield text_start, expr_end
    for match in ITERATION_BRACKET.finditer(masked, start, end):
        variable = match.group(1)
        if variable != "_" and (variable in known_names
                                or _bound_in_statement(masked, match.start(), variable)):
            continue
        ref_start = _ref_start(masked, pairs, match.start())
        if ref_start < match.start():
            yield ref_start, match.start()


def _expression_end(masked: str, pairs: dict[int, int], start: int, limit: int) -> int:
    i = start
    while i < limit:
        if masked[i] in "([{" and i in pairs:
            i = pairs[i] + 1
            continue
        if masked[i] in ";\n":
            break
        i += 1
    return len(masked[:i].rstrip())


def _ref_start(masked: str, pairs: dict[int, int], bracket: int) -> int:
    """Where the reference (or call) that ends just before `bracket` starts."""
    closers = {close: open_at for open_at, close in pairs.items()}
    i = bracket
    while i > 0:
        char = masked[i - 1]
        if char in ")]}" and (i - 1) in closers:
            i = closers[i - 1]
            if masked[i] == "(":  # a call: its name too
                while i > 0 and (masked[i - 1].isalnum() or masked[i - 1] in "_."):
                    i -= 1
                break
            continue
        if char.isalnum() or char in "_.":
            i -= 1
            continue
        break
    return i


def _bound_in_statement(masked: str, offset: int, variable: str) -> bool:
    """Whether the top-level statement holding `offset` binds `variable` (`:=`, `some … in`,
    a function argument): then `E[variable]` is a lookup, not an iteration."""
    start = masked.rfind("\n", 0, offset)
    while start > 0 and masked[start + 1:start + 2] in (" ", "\t", "}", ""):
        start = masked.rfind("\n", 0, start)
    end = re.search(r"\n(?=[^\s}])", masked[offset:])
    statement = masked[max(start, 0):offset + (end.start() if end else len(masked) - offset)]
    name = re.escape(variable)
    head = re.match(r"\s*[A-Za-z_][\w.]*\s*\(([^)]*)\)", statement)
    return bool(re.search(rf"(?<![\w.]){name}\s*:=", statement)
                or re.search(rf"\bsome\b[^;\n]*?(?<![\w.]){name}\b[^;\n]*?\bin\b", statement)
                or (head and re.search(rf"(?<![\w.]){name}\b", head.group(1))))
