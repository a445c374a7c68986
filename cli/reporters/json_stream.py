"""JSON written piece by piece, byte for byte what `json.dumps(value, indent=2)` gives.

A document is an ordinary value in which some arrays are `Streamed`: an iterable written
item by item, so an array of findings is never one list or one string in memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TextIO

INDENT = "  "


class Streamed:
    """An array whose items are produced while it is written (iterated once)."""

    def __init__(self, items: Iterable[Any]):
        self.items = items


def write_json(stream: TextIO, value: Any, ensure_ascii: bool = True) -> None:
    """Write `json.dumps(value, indent=2, ensure_ascii=ensure_ascii)` to `stream`."""
    _write(stream, value, 0, lambda v: json.dumps(v, indent=2, ensure_ascii=ensure_ascii))


def _write(stream: TextIO, value: Any, level: int, dumps: Callable[[Any], str]) -> None:
    if isinstance(value, Streamed):
        _container(stream, "[]", value.items, level,
                    lambda item: _write(stream, item, level + 1, dumps))
    elif isinstance(value, dict) and _streams(value):
        def entry(pair: tuple[str, Any]) -> None:
            stream.write(dumps(pair[0]) + ": ")
            _write(stream, pair[1], level + 1, dumps)
        _container(stream, "{}", value.items(), level, entry)
    elif isinstance(value, list | tuple) and _streams(value):
        _container(stream, "[]", value, level, lambda item: _write(stream, item, level + 1, dumps))
    else:  # nothing streamed inside: json.dumps, indented to where it stands
        stream.write(dumps(value).replace("\n", "\n" + INDENT * level))


def _container(stream: TextIO, brackets: str, entries: Iterable[Any], level: int,
               write_entry: Callable[[Any], None]) -> None:
    inner = ",\n" + INDENT * (level + 1)
    empty = True
    for entry in entries:
        stream.write(brackets[0] + inner[1:] if empty else inner)
        empty = False
        write_entry(entry)
    stream.write(brackets if empty else "\n" + INDENT * level + brackets[1])


def _streams(value: Any) -> bool:
    """True when a Streamed array is somewhere inside `value`."""
    if isinstance(value, Streamed):
        return True
    if isinstance(value, dict):
        return any(_streams(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_streams(item) for item in value)
    return False
