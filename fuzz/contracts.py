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


def check_config(path: str) -> dict | None:
    """`--config FILE`: the guardrails (a dict), or one ConfigError naming the file."""
    from kmspolicy.cli.config import ConfigError, load_config

    try:
        config = load_config(path)
    except ConfigError as exc:
        _one_line_naming(str(exc), path)
        return None
    assert isinstance(config, dict)
    return config


def check_baseline(path: str) -> None:
    """`--baseline FILE`: fingerprints with counts, or one BaselineError naming the file."""
    from kmspolicy.cli.baseline import BaselineError, load_baseline

    try:
        known = load_baseline(path)
    except BaselineError as exc:
        _one_line_naming(str(exc), path)
        return
    assert all(isinstance(k, str) and k and n > 0 for k, n in known.items())


def check_parameters(path: str) -> None:
    """`--parameters-file FILE`: string values by name, or one usage error naming the file."""
    import click

    from kmspolicy.cli.params import parse_parameters

    try:
        values = parse_parameters((), (path,))
    except click.BadParameter as exc:
        _one_line_naming(exc.message, path)
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())


def check_bundle(path: str) -> None:
    """`--bundle FILE|DIR`: a Bundle whose parts have the right types, or one BundleError
    naming the bundle."""
    from kmspolicy.bridge.bundle import BundleError, load_bundle

    try:
        bundle = load_bundle(path)
    except BundleError as exc:
        _one_line_naming(str(exc), path)
        return
    assert isinstance(bundle.manifest, dict) and isinstance(bundle.data, dict)
    assert all(isinstance(n, str) and isinstance(s, str) for n, s in bundle.modules.items())
    bundle.extra_data()  # the data can be copied (no cycle, no depth beyond the limits)


def _one_line_naming(message: str, path: str) -> None:
    assert message and "\n" not in message and "Traceback" not in message, message
    assert path in message, (path, message)
