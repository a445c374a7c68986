"""The input handed to regopy as a value rather than as JSON text.

regopy parses JSON text slowly (~0.4 ms a KB, most of a small query's cost); building
its input from the Python value is faster. It must store the same document as the text
would: regopy keeps a string from JSON text with its escapes as characters (`a\\"b`,
embedded.json_term), so every string, object keys included, is given in that escaped form;
objects are given in sorted key order, as the text is written, because regopy iterates an
object in the order it received it.

The value is built with regopy's own C calls (those `regopy.Input` makes), in one walk of
the document: `regopy.Input` walks a value made first and pays a Python call and a string
buffer for every node (1.5 ms a corpus input against 1 ms)."""

from __future__ import annotations

import json
import re
from typing import Any

import regopy
from regopy import rego_shared

_ESCAPED_IN_JSON = re.compile(r'["\\\x00-\x1f]')
_C = rego_shared.rego


class StoredInput:
    """`input`: the document as regopy stores its JSON text, ready for `set_input`;
    `plain`: no string of it is stored escaped or holds a character beyond ASCII
    (escape_sensitive.py)."""

    def __init__(self, document: Any):
        self.plain = True
        handle = rego_shared.rego_new_input()
        self.input = regopy.Input.__new__(regopy.Input)
        self.input._impl = handle  # freed by regopy.Input.__del__, even if building fails
        self._handle = handle
        self._add(document)

    def _add(self, value: Any) -> None:
        handle, kind = self._handle, type(value)
        if kind is str:
            code = _C.regoInputString(handle, self._string(value))
        elif kind is dict:
            string, item = _C.regoInputString, _C.regoInputObjectItem
            for key in sorted(value):
                if string(handle, self._string(key)):
                    self._fail()
                self._add(value[key])
                if item(handle):
                    self._fail()
            code = _C.regoInputObject(handle, len(value))
        elif kind is list:
            for item in value:
                self._add(item)
            code = _C.regoInputArray(handle, len(value))
        elif kind is bool:
            code = _C.regoInputBoolean(handle, value)
        elif kind is int:
            code = _C.regoInputInt(handle, value)
        elif value is None:
            code = _C.regoInputNull(handle)
        elif kind is float:
            code = _C.regoInputFloat(handle, value)
        else:
            self._add(_json_kind(value))
            return
        if code:  # rego_shared.Code.OK is 0
            self._fail(code)

    @staticmethod
    def _fail(code: int = rego_shared.Code.ERROR) -> None:
        raise rego_shared.RegoError("Unable to create input", code)

    def _string(self, text: str) -> bytes:
        if _ESCAPED_IN_JSON.search(text):
            self.plain = False
            text = json.dumps(text, ensure_ascii=False)[1:-1]
        elif not text.isascii():
            self.plain = False
        return text.encode()


def _json_kind(value: Any) -> Any:
    """A value of a subclass of a JSON type (or a tuple) as that type, as json.dumps reads it."""
    for kind in (bool, int, float, str, dict):
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ValueError(f"cannot give regopy a {type(value).__name__} as input")
