"""JSON: a small position-tracking parser (standard JSON only, duplicate keys refused, the
loader's limits) that gives the same plain data and source map as the YAML reader."""

from __future__ import annotations

import bisect
import json
import math
import re
from typing import Any

from ..sourcemap import SpanTuple, escape_token
from .errors import _Fail
from .text import _JSON_BREAK, _shown

_JSON_WS = re.compile(r"[ \t\n\r]*")
_JSON_STRING = re.compile(r'"((?:[^"\\\x00-\x1f]++|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*+)"')
_JSON_STRING_PREFIX = re.compile(r'"(?:[^"\\\x00-\x1f]++|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*+')
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_JSON_LITERALS = (("true", True), ("false", False), ("null", None))


class _Frame:
    __slots__ = ("container", "is_object", "pointer", "start", "key", "seen")

    def __init__(self, container: Any, is_object: bool, pointer: str, start: int) -> None:
        self.container = container
        self.is_object = is_object
        self.pointer = pointer
        self.start = start
        self.key = ""
        self.seen: dict[str, int] = {}


class _JsonParser:
    """Iterative, position-tracking JSON parser (RFC 8259, no extensions)."""

    def __init__(self, text: str, max_nodes: int, max_depth: int) -> None:
        self.text = text
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.count = 0
        self.values: dict[str, SpanTuple] = {}
        self.keys: dict[str, SpanTuple] = {}
        self.line_starts = [0] + [m.end() for m in _JSON_BREAK.finditer(text)]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line, offset - self.line_starts[line]

    def span(self, start: int, end: int) -> SpanTuple:
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return (line + 1, column + 1, end_line + 1, end_column + 1)

    def line_span(self, start: int, end: int) -> SpanTuple:
        """The span of text that holds no line break (a key, a scalar)."""
        line = bisect.bisect_right(self.line_starts, start) - 1
        column = start - self.line_starts[line]
        return (line + 1, column + 1, line + 1, column + 1 + end - start)

    def fail(self, message: str, offset: int) -> _Fail:
        line, column = self.position(min(offset, len(self.text)))
        return _Fail(message, line, column)

    def found(self, offset: int) -> str:
        if offset >= len(self.text):
            return "end of input"
        return f"{self.text[offset]!r}"

    def ws(self, offset: int) -> int:
        return _JSON_WS.match(self.text, offset).end()

    def counted(self, offset: int) -> None:
        self.count += 1
        if self.count > self.max_nodes:
            raise self.fail(f"document has more than {self.max_nodes:,} nodes "
                            "(limit MAX_NODES)", offset)

    def parse(self) -> tuple[Any, dict[str, SpanTuple], dict[str, SpanTuple]]:
        text = self.text
        size = len(text)
        stack: list[_Frame] = []
        values = self.values
        skip_ws = _JSON_WS.match
        offset = self.ws(0)
        while True:
            # One value starts at `offset`.
            if offset >= size:
                raise self.fail("unexpected end of input, expected a value", offset)
            char = text[offset]
            if stack:
                frame = stack[-1]
                pointer = (f"{frame.pointer}/{escape_token(frame.key)}" if frame.is_object
                           else f"{frame.pointer}/{len(frame.container)}")
            else:
                pointer = ""
            start = offset
            if char == "{" or char == "[":
                if len(stack) >= self.max_depth:
                    raise self.fail(f"nesting deeper than {self.max_depth} levels "
                                    "(limit MAX_DEPTH)", offset)
                self.counted(offset)
                is_object = char == "{"
                frame = _Frame({} if is_object else [], is_object, pointer, offset)
                stack.append(frame)
                offset = skip_ws(text, offset + 1).end()
                if offset < size and text[offset] == ("}" if is_object else "]"):
                    stack.pop()
                    offset += 1
                    value = frame.container
                elif is_object:
                    offset = self.key(frame, offset)
                    continue
                else:
                    continue
            else:
                self.count += 1
                if self.count > self.max_nodes:
                    self.counted(offset)
                value, offset = self.scalar(offset)
                values[pointer] = self.line_span(start, offset)
                if stack:
                    offset = self.attach(frame, value, offset)
                    if offset >= 0:
                        continue
                    value, start, pointer = frame.container, frame.start, frame.pointer
                    offset = -offset
                    stack.pop()
            # The value at `pointer` spans start..offset; attach it and close containers.
            while True:
                values[pointer] = self.span(start, offset)
                if not stack:
                    end = self.ws(offset)
                    if end < size:
                        raise self.fail(f"extra data after the JSON value: {self.found(end)}",
                                        end)
                    return value, self.values, self.keys
                frame = stack[-1]
                offset = self.attach(frame, value, offset)
                if offset >= 0:
                    break
                offset = -offset
                stack.pop()
                value, start, pointer = frame.container, frame.start, frame.pointer

    def attach(self, frame: _Frame, value: Any, offset: int) -> int:
        """Put `value`, which ends at `offset`, in its container and read on: where the next
        value starts (its key read), or minus the offset after the container's closer."""
        text = self.text
        if frame.is_object:
            frame.container[frame.key] = value
        else:
            frame.container.append(value)
        offset = _JSON_WS.match(text, offset).end()
        char = text[offset] if offset < len(text) else ""
        if char == ",":
            offset = _JSON_WS.match(text, offset + 1).end()
            if frame.is_object:
                return self.key(frame, offset)
            if offset < len(text) and text[offset] == "]":
                raise self.fail("trailing comma before ']'", offset)
            return offset
        if char == ("}" if frame.is_object else "]"):
            return -(offset + 1)
        closer = "}" if frame.is_object else "]"
        raise self.fail(f"expected ',' or '{closer}', found {self.found(offset)}", offset)

    def key(self, frame: _Frame, offset: int) -> int:
        text = self.text
        if offset >= len(text) or text[offset] != '"':
            if offset < len(text) and text[offset] == "}":
                raise self.fail("trailing comma before '}'", offset)
            raise self.fail(f"expected a string key, found {self.found(offset)}", offset)
        self.counted(offset)
        key, end = self.string(offset)
        first = frame.seen.get(key)
        span = self.line_span(offset, end)
        line = span[0]
        if first is not None:
            raise self.fail(f"duplicate key '{_shown(key)}' (first at line {first}, again at line "
                            f"{line})", offset)
        frame.seen[key] = line
        frame.key = key
        self.keys[f"{frame.pointer}/{escape_token(key)}"] = span
        offset = _JSON_WS.match(text, end).end()
        if offset >= len(text) or text[offset] != ":":
            raise self.fail(f"expected ':' after key '{_shown(key)}', found {self.found(offset)}",
                            offset)
        return _JSON_WS.match(text, offset + 1).end()

    def string(self, offset: int) -> tuple[str, int]:
        match = _JSON_STRING.match(self.text, offset)
        if match is None:
            bad = _JSON_STRING_PREFIX.match(self.text, offset).end()
            if bad >= len(self.text):
                raise self.fail("unterminated string", offset)
            char = self.text[bad]
            if char == "\\":
                raise self.fail("invalid escape in string", bad)
            if char in "\r\n":
                raise self.fail("unterminated string (line break inside a string)", bad)
            raise self.fail(f"control character U+{ord(char):04X} inside a string", bad)
        body = match.group(1)
        if "\\" in body:
            body = json.loads(match.group(0))
            lone = _LONE_SURROGATE.search(body)
            if lone is not None:  # not a character: no UTF-8 output could hold it
                escape = _SURROGATE_ESCAPE.search(self.text, offset, match.end())
                raise self.fail(f"\\u{ord(lone.group()):04x} escape is half of a surrogate pair, "
                                "not a character", escape.start() if escape else offset)
        return body, match.end()

    def scalar(self, offset: int) -> tuple[Any, int]:
        text = self.text
        char = text[offset]
        if char == '"':
            return self.string(offset)
        if char == "-" or "0" <= char <= "9":
            match = _JSON_NUMBER.match(text, offset)
            if match is None:
                raise self.fail("invalid number", offset)
            end = match.end()
            if end < len(text) and (text[end].isalnum() or text[end] == "."):
                raise self.fail(f"invalid number {text[offset:end + 1]!r}", offset)
            token = match.group(0)
            if match.group(1) is None and match.group(2) is None:
                try:
                    return int(token), end
                except ValueError:
                    raise self.fail("integer too large", offset) from None
            value = float(token)
            if not math.isfinite(value):
                raise self.fail(f"number out of range: {token[:40]}", offset)
            return value, end
        for word, value in _JSON_LITERALS:
            if text.startswith(word, offset):
                return value, offset + len(word)
        if char == "}" or char == "]":
            raise self.fail(f"expected a value, found {char!r}", offset)
        raise self.fail(f"expected a JSON value, found {self.found(offset)}", offset)
