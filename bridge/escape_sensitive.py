"""Calls of a rule pack that the embedded engine evaluates as OPA does only on strings
without JSON escapes, or only on ASCII strings.

regopy 1.5 stores every string of the input and of the data with its JSON escapes: `a"b`
is held as the four characters `a\\"b`. Equality, joining, splitting, prefixes and the
other builtins the catalog's `input_escape` marks `same` are not affected; the others
(`count` of a string, `substring`, `indexof`, `trim_space`, `upper`, `regex.match`,
hashes, base64...: `divergent`, or not probed: `unverified`) give another value. The
pack checks list the calls of such builtins whose string argument is not a literal
(`sensitive_calls`; for an argument of several types, such as count's, only where OPA's
type checker says it may be a string), and the embedded engine refuses, with the first
call and where the string is, an input or data document holding a quote, a backslash or
a control character while a checked pack has such a call (`escaped_string_at`).
The same holds for strings beyond ASCII (the catalog's `non_ascii`: `lower`, `upper`,
`trim_space`, `regex.*`...: regopy maps the case of ASCII letters only, matches bytes and
trims ASCII spaces): such a call makes the engine refuse inputs holding one.
Ordering is among the escape-sensitive calls (`ORDERING`): sort(), max(), min() and the comparisons, infix or
called, compare the stored escapes (embedded_compat.py computes the rest of OPA's order)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .iteration_order import may_be_unordered
from .rego_comparisons import comparisons
from .rego_scan import Scanned
from .rego_types import Expression

NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
# The ordering builtins: a string anywhere in the argument (an element) is ordered.
ORDERING_DETAIL = 'it orders a string by its stored escapes: a\\"b after a#, where OPA puts it before'
ORDERING = {name: {"status": "divergent", "detail": f"{name}(): {ORDERING_DETAIL}", "non_ascii": "same",
                   "string_args": {"0": "elements"}} for name in ("sort", "max", "min")}
INFIX_BUILTIN = {"<": "lt", ">": "gt", "<=": "lte", ">=": "gte"}
# concat() of a set sorts it first: escape-sensitive only where the collection may be a set.
CONCAT_OF_A_SET = {"concat": {"status": "divergent", "non_ascii": "same", "string_args": {"1": "set"},
                              "detail": f"concat() of a set: {ORDERING_DETAIL}"}}


ESCAPES, NON_ASCII = "escapes", "non-ascii"
HOLDING = {ESCAPES: "a quote, a backslash or a control character",
           NON_ASCII: "a character beyond ASCII"}


@dataclass(frozen=True)
class SensitiveCall:
    module: str
    line: int
    builtin: str
    detail: str  # what the catalog's probe shows, or that none was run
    reads: str = ESCAPES  # the strings it reads differently: ESCAPES or NON_ASCII

    def refusal(self, engine: str, where: str) -> str:
        what = self.builtin if self.builtin.startswith("`") else f"{self.builtin}()"
        return (f"{self.module}:{self.line}: {what} reads a string holding {HOLDING[self.reads]} "
                f"differently on {engine} ({self.detail}), and {where} holds one; evaluate this "
                "template with --engine opa (or opa-server, opa-cli)")


@dataclass(frozen=True)
class _Candidate:
    call: SensitiveCall
    argument: Expression | None  # to be typed (None: a string argument, it counts)
    kind: str = "may"  # the call counts if the argument may be a string ("may"), hold
    # one ("elements"), or be a set ("set"): the catalog's string_args


def candidate_calls(name: str, scanned: Scanned, functions: set[str],
                    escape_catalog: dict) -> list[_Candidate]:
    """The module's calls of builtins that read escaped strings differently, with a
    non-literal string argument; an argument of several types is left to be typed."""
    out = []
    for call, start, after in scanned.calls():
        entry = escape_catalog.get(call)
        if entry is None or call in functions:
            continue
        for sensitive in _readings(entry, name, scanned.line_of(start), call):
            for index, kind in sorted(entry["string_args"].items()):
                span = scanned.argument_span(after, int(index))
                if span is None or _literal(scanned, span):
                    continue
                out.append(_Candidate(sensitive, None if kind == "string" else Expression(name, *span), kind))
    return out


def _readings(entry: dict, module: str, line: int, shown: str) -> list[SensitiveCall]:
    """One call for each kind of string the catalog entry says the builtin reads otherwise."""
    out = []
    if entry.get("status", "same") != "same":
        detail = entry.get("detail") or "no probe shows it reads them as OPA does"
        out.append(SensitiveCall(module, line, shown, detail[:160], ESCAPES))
    if entry.get("non_ascii", "same") != "same":
        detail = entry.get("non_ascii_detail") or "no probe shows it reads them as OPA does"
        out.append(SensitiveCall(module, line, shown, detail[:160], NON_ASCII))
    return out


def comparison_candidates(name: str, scanned: Scanned, escape_catalog: dict) -> list[_Candidate]:
    """The infix comparisons of the module whose operands are not literals."""
    out = []
    for comparison in comparisons(scanned):
        entry = escape_catalog.get(INFIX_BUILTIN[comparison.operator])
        if entry is None:
            continue
        for sensitive in _readings(entry, name, comparison.line, f"`{comparison.operator}`"):
            for span in (comparison.left, comparison.right):
                if not _literal(scanned, span):
                    out.append(_Candidate(sensitive, Expression(name, *span)))
    return out


def sensitive_calls(candidates: list[_Candidate], types: dict[Expression, str | None]) -> list[SensitiveCall]:
    out = []
    for candidate in candidates:
        if candidate.argument is None or _counts(candidate.kind, types.get(candidate.argument)):
            out.append(candidate.call)
    return list(dict.fromkeys(out))


def _counts(kind: str, type_text: str | None) -> bool:
    """Whether an argument of OPA's type `type_text` (None: not typed) makes the call read
    escaped strings, for an argument of that `kind`."""
    if type_text in (None, "???"):  # ???: a function's argument, untyped
        return True
    if kind == "set":
        return may_be_unordered(type_text)
    if kind == "elements":
        return bool(re.search(r"string|any", type_text))
    return _may_be_string(type_text)


def _may_be_string(type_text: str | None) -> bool:
    if type_text in (None, "any", "string", "???"):  # ???: a function's argument, untyped
        return True
    return type_text.startswith("any<") and bool(re.search(r"(?<![\w\[])string(?![\w\]])", type_text))


def _literal(scanned: Scanned, span: tuple[int, int]) -> bool:
    start, end = span
    literal = scanned.literal_at(start)
    return (literal is not None and literal.end == end) or bool(NUMBER.fullmatch(scanned.masked[start:end]))


def escaped_string_at(document, path: str = "", test=None) -> str | None:
    """The path (`keys.Key.raw.description`) of the first string, or object key, of the
    document that holds a character regopy stores escaped (or that `test` accepts); None
    if there is none."""
    test = test or _escaped
    stack = [(path, document)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if test(value):
                return where or "the document"
        elif isinstance(value, dict):
            for key in reversed(list(value)):
                child = f"{where}.{key}" if where else str(key)
                if test(str(key)):
                    return child
                stack.append((child, value[key]))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in reversed(list(enumerate(value))))
    return None


def string_at(document, reads: str) -> str | None:
    """Where the document first holds a string the calls reading `reads` get wrong."""
    return escaped_string_at(document) if reads == ESCAPES else escaped_string_at(document, test=_beyond_ascii)


def _escaped(text: str) -> bool:
    return '"' in text or "\\" in text or any(ord(c) < 0x20 for c in text)


def _beyond_ascii(text: str) -> bool:
    return not text.isascii()
