"""The input handed to regopy as a value rather than as JSON text.

regopy parses JSON text slowly (~0.4 ms a KB, most of a small query's cost); building
its input from the Python value (`regopy.Input`) is faster. It must store the same
document as the text would: regopy keeps a string from JSON text with its escapes as
characters (`a\\"b`, embedded.json_term), so every string, object keys included, is
given in that escaped form; objects are given in sorted key order, as the text is
written, because regopy iterates an object in the order it received it."""

from __future__ import annotations

import json
import re
from typing import Any

_ESCAPED_IN_JSON = re.compile(r'["\\\x00-\x1f]')


class StoredInput:
    """`value` as regopy stores the JSON text of the document; `plain`: no string of it
    is stored escaped or holds a character beyond ASCII (escape_sensitive.py)."""

    def __init__(self, document: Any):
        self.plain = True
        self.value = self._stored(document)

    def _stored(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {self._string(k): self._stored(value[k]) for k in sorted(value)}
        if isinstance(value, list):
            return [self._stored(v) for v in value]
        if isinstance(value, str):
            return self._string(value)
        return value

    def _string(self, text: str) -> str:
        if _ESCAPED_IN_JSON.search(text):
            self.plain = False
            return json.dumps(text, ensure_ascii=False)[1:-1]
        if not text.isascii():
            self.plain = False
        return text
