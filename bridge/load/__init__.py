"""Load a CloudFormation/SAM template into plain data plus a line-aware source map.

Pipeline step 1. `load_template(path)` / `load_text(text, file)` return a
`LoadedTemplate`: the document as plain Python data (dict, list, str, int, float, bool,
None), a `SourceMap` from JSON pointer to span, the format ("yaml" or "json") and the
text's lines. Every problem with the input is a `TemplateError` carrying file, line and
column: `str(err) == "file:line:col: message"`.

YAML (PyYAML's libyaml parser when available, its pure-Python parser otherwise) is read
as a stream of events and composed here, never by PyYAML's constructors, so:

* Only CloudFormation short-form tags and the YAML core tags `!!str !!int !!float !!bool
  !!null !!map !!seq` are accepted; any other tag (`!!python/object/apply:…`,
  `!!binary`, `!Foo`) is refused before anything is built.
* Short-form tags become the long form at load time: `!Ref X` → `{"Ref": "X"}`,
  `!Condition X` → `{"Condition": "X"}`, `!GetAtt A.B.C` → `{"Fn::GetAtt": ["A",
  "B.C"]}`, `!Sub …` → `{"Fn::Sub": …}` and likewise for every other `Fn::` function.
  The wrapper and the wrapped value share the tag node's span (`/X` and `/X/Fn::Sub`);
  the key span of `/X/Fn::Sub` is the tag itself.
* Scalars follow CloudFormation rather than YAML 1.1: only `true`/`false` are booleans
  (`yes`, `on` stay strings), `~`/`null`/empty are null, decimal integers without
  leading zeros are ints (`012345678901` stays a string), `1.5` and `1.0e+3` are floats
  (`1e3`, `0x1F`, `1_000`, `.inf` stay strings), and dates, timestamps and versions
  (`2010-09-09`) stay strings. Mapping keys are always the key's text (`1:` → "1").
* Aliases are expanded (each use counts toward `MAX_NODES`); a pointer under an alias
  maps to the anchored text, the alias itself to the `*alias` token (`alias_above`: a
  finding under an alias relates the alias, since its lines are the anchor's). Merge keys (`<<`)
  are honoured as in PyYAML. Duplicate keys are an error.
* Limits, checked while parsing so hostile input fails fast: `MAX_NODES` expanded nodes
  (scalars, collections and keys), `MAX_DEPTH` nested collections, `MAX_BYTES` of file.

JSON (a file ending in `.json`, or whose first non-blank character is `{`) is parsed by a
small position-tracking parser here: standard JSON only, same limits, same source map.
(So a YAML template written entirely in flow style, `{Resources: …}`, is read as JSON and
rejected.)

Columns count characters (code points), not bytes; a UTF-8 BOM is dropped first.

The package: `errors` (TemplateError), `text` (decoding, lines, positions), `yaml_events`
(the YAML reader), `json_parser` (the JSON reader); this module holds the entry points and
the limits. Files are read by `bridge/reading.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..reading import ReadError, read_file
from ..sourcemap import SourceMap, Span
from .errors import TemplateError, _Fail
from .json_parser import _JsonParser
from .text import (
    _JSON_BREAK,
    _YAML_BREAK,
    _decode,
    _first_position,
    _kind,
    _offset_position,
    _split_lines,
    hiding_text,
)
from .yaml_events import _load_yaml

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "LoadedTemplate",
    "SourceMap",
    "Span",
    "TemplateError",
    "load_bytes",
    "load_template",
    "load_text",
    "parse_json_string",
]

MAX_BYTES = 5_000_000
"""Largest file `load_template` reads (CloudFormation itself accepts 1 MB from S3)."""
MAX_NODES = 100_000
"""Most nodes (collections, scalars, keys) a document may expand to, aliases included."""
MAX_DEPTH = 100
"""Most nested collections (the root mapping is level 1), aliases expanded."""

_RECURSION_SAFE_DEPTH = 250  # the builder recurses up to 3 frames a level


@dataclass
class LoadedTemplate:
    file: str
    document: Any = field(repr=False)
    source_map: SourceMap = field(repr=False)
    format: str
    lines: list[str] = field(repr=False)
    # False when the text cannot hold a key that hides part of the template (`hiding_text`)
    may_hide: bool = True


# --------------------------------------------------------------------------- entry points


def load_template(path: str, *, max_bytes: int = MAX_BYTES,
                  max_nodes: int | None = None, max_depth: int | None = None) -> LoadedTemplate:
    """Read and load the template at `path` (UTF-8, BOM allowed)."""
    try:
        data = read_file(path, max_bytes, "template")
    except ReadError as err:
        raise TemplateError(err.message, path) from None
    return load_bytes(data, path, max_nodes=max_nodes, max_depth=max_depth)


def load_bytes(data: bytes, file: str, *, max_nodes: int | None = None,
               max_depth: int | None = None) -> LoadedTemplate:
    """Load a template's raw bytes (UTF-8, BOM allowed); `file` names it as in `load_text`."""
    return load_text(_decode(data, file), file, max_nodes=max_nodes, max_depth=max_depth)


def load_text(text: str, file: str, *, max_nodes: int | None = None,
              max_depth: int | None = None, any_document: bool = False) -> LoadedTemplate:
    """Load template `text`; `file` names it in errors and decides JSON by extension.

    `any_document` accepts a top-level list or scalar (data files, not templates)."""
    max_nodes = MAX_NODES if max_nodes is None else max_nodes
    max_depth = MAX_DEPTH if max_depth is None else max_depth
    if max_depth > _RECURSION_SAFE_DEPTH:
        raise ValueError(f"max_depth above {_RECURSION_SAFE_DEPTH} is not supported")
    if text.startswith("\ufeff"):
        text = text[1:]
    nul = text.find("\x00")
    if nul >= 0:
        line, column = _offset_position(text, nul)
        raise TemplateError("binary file (contains NUL bytes), not a template", file,
                            line + 1, column + 1)
    if not text.strip():
        raise TemplateError("empty file", file)
    is_json = file.lower().endswith(".json") or text.lstrip().startswith("{")
    lines = _split_lines(text, _JSON_BREAK if is_json else _YAML_BREAK)
    try:
        if is_json:
            (document, values, keys), aliases = _JsonParser(text, max_nodes, max_depth).parse(), {}
        else:
            document, values, keys, aliases = _load_yaml(text, lines, max_nodes, max_depth)
    except _Fail as fail:
        raise fail.to_error(file) from None
    if not isinstance(document, dict) and not any_document:
        raise TemplateError(f"template is not a mapping (got {_kind(document)})", file,
                            *_first_position(values))
    return LoadedTemplate(file, document, SourceMap(values, keys, aliases),
                          "json" if is_json else "yaml", lines, hiding_text(text))


def load_data(path: str, *, max_bytes: int = MAX_BYTES, max_nodes: int | None = None,
              what: str = "data file") -> Any:
    """A YAML or JSON data file given by the operator (config, parameters, baseline) read as
    templates are: a regular file only, `max_bytes` at most, the loader's depth, node and
    alias limits. Problems are a TemplateError naming `path` (and the line)."""
    try:
        data = read_file(path, max_bytes, what)
    except ReadError as err:
        raise TemplateError(err.message, path) from None
    return parse_data(data, path, max_nodes=max_nodes)


def parse_data(data: bytes, name: str, *, max_nodes: int | None = None) -> Any:
    """A YAML or JSON document already read (e.g. a bundle's data.json), any top-level
    kind, with the loader's limits; `name` (JSON if it ends in .json) is named in errors."""
    return load_text(_decode(data, name), name, max_nodes=max_nodes, any_document=True).document


def parse_json_string(text: str) -> Any:
    """Parse a JSON document held in a string (e.g. a `KeyPolicy` given as JSON text).

    Standard JSON only, with the loader's limits and duplicate-key check. Raises
    ValueError whose message is one line, without a prefix, so callers can frame it:
    "line 3, column 5: expected ',' or '}', found ']'".
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a JSON string, got {_kind(text)}")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ValueError("empty JSON text")
    kept = _json_strings.get(text)
    if kept is not None:
        return json.loads(kept)
    try:
        document, _, _ = _JsonParser(text, MAX_NODES, MAX_DEPTH).parse()
    except _Fail as fail:
        where = (f"line {fail.line + 1}, column {fail.column + 1}: "
                 if fail.line is not None else "")
        raise ValueError(f"{where}{fail.message}") from None
    _keep_json_string(text, document)
    return document


MAX_JSON_STRINGS_KEPT = 256
"""JSON texts whose documents are kept (the oldest dropped): a template's variants, and
each identity a policy is attached to, read the same texts again."""
MAX_JSON_STRING_KEPT = 65536
"""Longest text kept (characters); a policy document is at most 32 KB."""
_json_strings: dict[str, str] = {}


def _keep_json_string(text: str, document: Any) -> None:
    """Keep a parsed text's document as `json` writes it (which `json.loads` copies fast),
    when `json` reads that back as the same document."""
    if len(text) > MAX_JSON_STRING_KEPT:
        return
    try:
        kept = json.dumps(document, allow_nan=False)
    except ValueError:
        return
    if json.loads(kept) != document:
        return
    if len(_json_strings) >= MAX_JSON_STRINGS_KEPT:
        del _json_strings[next(iter(_json_strings))]
    _json_strings[text] = kept
