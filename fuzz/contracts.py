"""What the loader and the normalizer promise for any input; a broken promise raises
AssertionError (a finding for the fuzzer, a failure for the property tests)."""

from __future__ import annotations

from typing import Any

from kmspolicy.bridge import schema
from kmspolicy.bridge.load import LoadedTemplate, TemplateError, load_bytes
from kmspolicy.bridge.normalize import Normalized, normalize


def line_count(data: bytes) -> int:
    """An upper bound of the lines a reported position may name (every break counts)."""
    return data.count(b"\n") + data.count(b"\r") + data.count("\u2028".encode()) + \
        data.count("\u2029".encode()) + data.count("\x85".encode()) + 2


def check_load(data: bytes, name: str) -> LoadedTemplate | None:
    """A mapping with a source map that has the root, or one TemplateError: a one-line
    message and a position inside the file. Anything else escapes (a bug)."""
    try:
        loaded = load_bytes(data, name)
    except TemplateError as exc:
        assert isinstance(exc.message, str) and exc.message and "\n" not in exc.message, exc
        assert exc.line is None or 1 <= exc.line <= line_count(data), (exc.line, exc)
        assert exc.column is None or exc.column >= 1, exc
        return None
    assert isinstance(loaded.document, dict)
    assert loaded.source_map.span("") is not None
    return loaded


def check_normalize(document: Any) -> Normalized | None:
    """For a template mapping: an input valid against input-v2 and well-formed problems."""
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        return None  # refused before normalization (pipeline.Analyzer)
    normalized = normalize(document, "fuzz.yaml")
    schema.validate(normalized.input, "input-v2")
    for pointer, message in normalized.problems:
        assert pointer == "" or pointer.startswith("/"), pointer
        assert isinstance(message, str) and message, message
    return normalized
