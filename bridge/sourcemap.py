"""Spans and the JSON-pointer source map of a loaded template.

A `SourceMap` answers "where in the file is this value?" for every node of a loaded
document, addressed by its JSON pointer (RFC 6901): `span(pointer)` is the value's
span, `key_span(pointer)` the span of the mapping key that holds it, and
`locate(pointer)` falls back to the nearest ancestor that has a span, so a finding on a
value that only exists after normalization (or inside a JSON-string key policy) still
lands on a line.

Lines and columns are 1-based; columns count characters (Unicode code points). A span
ends like an editor selection: `end_column` is the column just after the last character.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

SpanTuple = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class Span:
    line: int
    column: int
    end_line: int
    end_column: int


def escape_token(token: str) -> str:
    """Escape one reference token for a JSON pointer (`~` → `~0`, `/` → `~1`)."""
    if "~" in token or "/" in token:
        return token.replace("~", "~0").replace("/", "~1")
    return token


def unescape_token(token: str) -> str:
    """Inverse of `escape_token`."""
    if "~" in token:
        return token.replace("~1", "/").replace("~0", "~")
    return token


def join_pointer(pointer: str, *tokens: str | int) -> str:
    """`join_pointer("/Resources", "a/b", 0)` → `"/Resources/a~1b/0"`."""
    for token in tokens:
        pointer = f"{pointer}/{escape_token(str(token))}"
    return pointer


def split_pointer(pointer: str) -> list[str]:
    """`"/a~1b/0"` → `["a/b", "0"]`; the root pointer `""` → `[]`."""
    _check_pointer(pointer)
    if pointer == "":
        return []
    return [unescape_token(t) for t in pointer[1:].split("/")]


def _check_pointer(pointer: str) -> None:
    if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
        raise ValueError(f"not a JSON pointer: {pointer!r} (must be '' or start with '/')")


class SourceMap:
    """JSON pointer → span of the value, and → span of the mapping key holding it."""

    __slots__ = ("_values", "_keys", "_aliases")

    def __init__(self, values: dict[str, SpanTuple], keys: dict[str, SpanTuple],
                 aliases: dict[str, str] | None = None) -> None:
        self._values = values
        self._keys = keys
        self._aliases = aliases or {}  # pointer of a YAML alias → its anchor's name

    def alias_above(self, pointer: str) -> tuple[str, str] | None:
        """(pointer, anchor name) of the YAML alias `pointer` is in (or is), if any: its
        span is the anchored text's, which another part of the template also shows."""
        if not self._aliases:
            return None
        current = pointer
        while True:
            if current in self._aliases:
                return current, self._aliases[current]
            if not current:
                return None
            current = current.rpartition("/")[0]

    def span(self, pointer: str) -> Span | None:
        found = self._values.get(pointer)
        return Span(*found) if found is not None else None

    def key_span(self, pointer: str) -> Span | None:
        found = self._keys.get(pointer)
        return Span(*found) if found is not None else None

    def locate(self, pointer: str) -> tuple[Span, str]:
        """The span of `pointer` or of its nearest ancestor that has one.

        Returns `(span, pointer_found)`. Raises ValueError only for a string that is not
        a JSON pointer, and LookupError only for a map without a root span (never the
        case for a map built by the loader).
        """
        _check_pointer(pointer)
        current = pointer
        while True:
            found = self._values.get(current)
            if found is not None:
                return Span(*found), current
            if current == "":
                raise LookupError("source map has no span for the document root")
            current = current.rpartition("/")[0]

    def __contains__(self, pointer: object) -> bool:
        return pointer in self._values

    def __len__(self) -> int:
        return len(self._values)

    def pointers(self) -> Iterator[str]:
        """Every pointer that has a value span, in document order."""
        return iter(self._values)
