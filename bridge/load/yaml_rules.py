"""The YAML reader's rules for one tag, scalar or intrinsic, shared by its two builders
(`yaml_stream`, straight from the events; `yaml_events`, through nodes): which tags are
allowed, what a scalar's text means, the spans of a scalar, a short-form tag and the parts
of `!GetAtt A.B`. Positions given and raised are 0-based (line, column); spans 1-based."""

from __future__ import annotations

import math
import re
from typing import Any

from ..sourcemap import SpanTuple
from .errors import _Fail
from .text import _shown

# Short-form tag → long-form key.
CFN_TAGS: dict[str, str] = {"!Ref": "Ref", "!Condition": "Condition"}
CFN_TAGS.update(
    (f"!{name}", f"Fn::{name}")
    for name in (
        "GetAtt Sub Join If Select Split FindInMap ImportValue Base64 Cidr GetAZs "
        "Equals And Or Not Transform Length ToJsonString"
    ).split()
)

_CORE = "tag:yaml.org,2002:"
_SCALAR_CORE = {_CORE + n for n in ("str", "int", "float", "bool", "null")}
_MAP_TAG = _CORE + "map"
_SEQ_TAG = _CORE + "seq"

_INT_RE = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
# PyYAML's YAML 1.1 forms minus `_`, sexagesimal and .inf/.nan: every plain scalar that
# is a number here is one for PyYAML too, so yaml.safe_dump output always round-trips.
_FLOAT_RE = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+][0-9]+)?")
_TAGGED_FLOAT_RE = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
NULLS = frozenset(("", "~", "null", "Null", "NULL"))
BOOLS = {"true": True, "True": True, "TRUE": True,
         "false": False, "False": False, "FALSE": False}
NUMBER_STARTS = "0123456789+-."

SCALAR, SEQ, MAP, ALIAS = 0, 1, 2, 3


def check_tag(tag: str | None, kind: int, mark: Any) -> str | None:
    """The tag a node keeps (a short form or a scalar's core tag; None for no tag, `!`,
    `!!map` on a mapping, `!!seq` on a sequence), or a _Fail for any other."""
    if tag is None or tag == "!":
        return None
    if tag in CFN_TAGS:
        return tag
    if tag in _SCALAR_CORE:
        if kind == SCALAR:
            return tag
    elif tag == _MAP_TAG or tag == _SEQ_TAG:
        if kind == (MAP if tag == _MAP_TAG else SEQ):
            return None
    elif tag.startswith("!") and not tag.startswith("!!"):
        raise _Fail(f"unknown tag '{_shown(tag)}' (not a CloudFormation intrinsic function)",
                    mark.line, mark.column)
    else:
        shown = "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag
        raise _Fail(f"tag '{_shown(shown)}' is not allowed (only CloudFormation short-form tags "
                    "and the YAML core tags !!str !!int !!float !!bool !!null !!map "
                    "!!seq)", mark.line, mark.column)
    shown = "!!" + tag[len(_CORE):]
    what = {SCALAR: "a scalar", SEQ: "a sequence", MAP: "a mapping"}[kind]
    raise _Fail(f"tag '{shown}' cannot be used on {what}", mark.line, mark.column)


def scalar_span(start: Any, end: Any, lines: list[str]) -> SpanTuple:
    """A scalar's span from its marks; a block scalar's ends on its last non-blank line."""
    line, column = end.line, end.column
    if column == 0 and line > start.line:  # block scalars end at the next line
        while line > start.line:
            line -= 1
            column = len(lines[line].rstrip()) if line < len(lines) else 0
            if column:
                break
    return (start.line + 1, start.column + 1, line + 1, column + 1)


def scalar_value(text: str, plain: bool, tag: str | None, start: tuple[int, int]) -> Any:
    """What a scalar means: `plain` (untagged, unquoted) text as CloudFormation reads it,
    else by its tag (a short form's argument stays text)."""
    if plain:
        if text in NULLS:
            return None
        boolean = BOOLS.get(text)
        if boolean is not None:
            return boolean
        first = text[:1]
        if first and first in NUMBER_STARTS:
            return plain_number(text, start)
        return text
    if tag is None or tag in CFN_TAGS or tag == _CORE + "str":
        return text
    stripped = text.strip()
    if tag == _CORE + "int":
        if re.fullmatch(r"[-+]?[0-9]+", stripped):
            return _to_int(stripped, start)
    elif tag == _CORE + "float":
        if _TAGGED_FLOAT_RE.fullmatch(stripped):
            return _to_float(stripped, start)
    elif tag == _CORE + "bool":
        if stripped.lower() in ("true", "false"):
            return stripped.lower() == "true"
    elif tag == _CORE + "null":
        if stripped in NULLS:
            return None
    raise _Fail(f"invalid !!{tag[len(_CORE):]} value {text[:40]!r}", *start)


def plain_number(text: str, start: tuple[int, int]) -> Any:
    """A plain scalar starting like a number: an int, a float, or the text itself."""
    if _INT_RE.fullmatch(text):
        return _to_int(text, start)
    if _FLOAT_RE.fullmatch(text):
        return _to_float(text, start)
    return text


def _to_int(text: str, start: tuple[int, int]) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts
        raise _Fail("integer too large", *start) from None


def _to_float(text: str, start: tuple[int, int]) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Fail(f"number out of range: {text[:40]}", *start)
    return value


def tag_span(start: tuple[int, int], tag: str, lines: list[str], span: SpanTuple) -> SpanTuple:
    """The span of a short-form tag written at `start`; the node's `span` if not found."""
    line, column = start
    text = lines[line] if line < len(lines) else ""
    found = text.find(tag, column)
    if found < 0:
        return span
    return (line + 1, found + 1, line + 1, found + len(tag) + 1)


def getatt_parts(value: str, span: SpanTuple, lines: list[str]) -> tuple[list[str], list[SpanTuple]]:
    """`!GetAtt A.B.C` → ["A", "B.C"] and each part's span (the scalar's where the text
    is not found on its line as written)."""
    parts = value.split(".", 1)
    spans = [span] * len(parts)
    line, _, end_line, end_column = span
    if line == end_line and line <= len(lines):
        source = lines[line - 1][: end_column - 1]
        value_end = end_column - 1
        if source.endswith(("'", '"')) and not source.endswith(value):
            source, value_end = source[:-1], value_end - 1
        if value and source.endswith(value):
            first = value_end - len(value)
            spans[0] = (line, first + 1, line, first + len(parts[0]) + 1)
            if len(parts) == 2:
                spans[1] = (line, first + len(parts[0]) + 2, line, value_end + 1)
    return parts, spans
