"""Text helpers of the loader: decoding bytes (UTF-8 only, BOM dropped), splitting lines
where YAML or JSON counts them, positions, and short descriptions for messages."""

from __future__ import annotations

import re
from typing import Any

from ..sourcemap import SpanTuple
from .errors import TemplateError

_YAML_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_JSON_BREAK = re.compile(r"\r\n|[\r\n]")
# What a template's text holds wherever a mapping key hides part of it (Fn::Transform, as
# a key or its !Transform tag, and Fn::ForEach::, bridge/template_checks.py), or an escape
# that could spell such a key: JSON's \u, YAML's \x, \u, \U, a double-quoted scalar
# continued on the next line (whose break YAML drops), a tag's %-escape or a %TAG prefix.
_HIDING = re.compile("Fn::Transform|!Transform|Fn::ForEach|%TAG|!\\S*%|\\\\[xuU\r\n\x85\u2028\u2029]")


def hiding_text(text: str) -> bool:
    """Whether `text` may load into a document with a key that hides part of the template."""
    return _HIDING.search(text) is not None


_BREAKS_BUT_NEWLINE = {_YAML_BREAK: "\r\x85\u2028\u2029", _JSON_BREAK: "\r"}


def _decode(data: bytes, path: str) -> str:
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        raise TemplateError("file is UTF-32 encoded; templates must be UTF-8", path)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise TemplateError("file is UTF-16 encoded; templates must be UTF-8", path)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise TemplateError("binary file (contains NUL bytes), not a template", path,
                            data.count(b"\n", 0, nul) + 1)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line_start = data.rfind(b"\n", 0, err.start) + 1
        column = len(data[line_start:err.start].decode("utf-8", "replace")) + 1
        raise TemplateError(
            f"not UTF-8 text (invalid byte 0x{data[err.start]:02x}); templates must be UTF-8",
            path, data.count(b"\n", 0, err.start) + 1, column) from None


def _split_lines(text: str, breaks: re.Pattern[str]) -> list[str]:
    if any(char in text for char in _BREAKS_BUT_NEWLINE[breaks]):
        lines = breaks.split(text)
    else:  # the same lines, ten times faster
        lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return lines


def _offset_position(text: str, offset: int) -> tuple[int, int]:
    """0-based (line, column) of a character offset, YAML line breaks."""
    parts = _YAML_BREAK.split(text[:offset])
    return len(parts) - 1, len(parts[-1])


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else type(value).__name__


def _first_position(values: dict[str, SpanTuple]) -> tuple[int | None, int | None]:
    root = values.get("")
    return (root[0], root[1]) if root else (None, None)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _shown(text: str, limit: int = 60) -> str:
    """Template text (a key, a tag) quoted in a message: one line, bounded length."""
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
