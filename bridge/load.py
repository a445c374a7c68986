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
  maps to the anchored text, the alias itself to the `*alias` token. Merge keys (`<<`)
  are honoured as in PyYAML. Duplicate keys are an error.
* Limits, checked while parsing so hostile input fails fast: `MAX_NODES` expanded nodes
  (scalars, collections and keys), `MAX_DEPTH` nested collections, `MAX_BYTES` of file.

JSON (a file ending in `.json`, or whose first non-blank character is `{`) is parsed by a
small position-tracking parser here: standard JSON only, same limits, same source map.
(So a YAML template written entirely in flow style, `{Resources: …}`, is read as JSON and
rejected.)

Columns count characters (code points), not bytes; a UTF-8 BOM is dropped first.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml import events as _ev

from .reading import ReadError, read_file
from .sourcemap import SourceMap, Span, SpanTuple, escape_token

try:  # libyaml bindings
    from yaml.cyaml import CParser as _CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _CParser = None

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
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_BOOLS = {"true": True, "True": True, "TRUE": True,
          "false": False, "False": False, "FALSE": False}

_YAML_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_JSON_BREAK = re.compile(r"\r\n|[\r\n]")


class TemplateError(Exception):
    """A template that cannot be loaded: `str(e) == "file:line:col: message"`."""

    def __init__(self, message: str, file: str | None = None,
                 line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.column = column if line is not None else None
        super().__init__(message, file, line, column)

    def __str__(self) -> str:
        parts = [str(p) for p in (self.file, self.line, self.column) if p not in (None, "")]
        return f"{':'.join(parts)}: {self.message}" if parts else self.message


@dataclass
class LoadedTemplate:
    file: str
    document: Any = field(repr=False)
    source_map: SourceMap = field(repr=False)
    format: str
    lines: list[str] = field(repr=False)


class _Fail(Exception):
    """Internal: a located problem (0-based line/column) before the file name is known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def to_error(self, file: str) -> TemplateError:
        line = self.line + 1 if self.line is not None else None
        column = self.column + 1 if self.column is not None else None
        return TemplateError(self.message, file, line, column)


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
            document, values, keys = _JsonParser(text, max_nodes, max_depth).parse()
        else:
            document, values, keys = _load_yaml(text, lines, max_nodes, max_depth)
    except _Fail as fail:
        raise fail.to_error(file) from None
    if not isinstance(document, dict) and not any_document:
        raise TemplateError(f"template is not a mapping (got {_kind(document)})", file,
                            *_first_position(values))
    return LoadedTemplate(file, document, SourceMap(values, keys),
                          "json" if is_json else "yaml", lines)


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
    try:
        document, _, _ = _JsonParser(text, MAX_NODES, MAX_DEPTH).parse()
    except _Fail as fail:
        where = (f"line {fail.line + 1}, column {fail.column + 1}: "
                 if fail.line is not None else "")
        raise ValueError(f"{where}{fail.message}") from None
    return document


# --------------------------------------------------------------------------- helpers


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
    lines = breaks.split(text)
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


# --------------------------------------------------------------------------- YAML

_SCALAR, _SEQ, _MAP, _ALIAS = 0, 1, 2, 3


class _Node:
    """A composed YAML node. `value`: text (scalar), child list (seq), (key, key node,
    value node) triples after merging (map), or the target node (alias)."""

    __slots__ = ("kind", "tag", "value", "plain", "span", "size", "height", "start", "flow")

    def __init__(self, kind: int, tag: str | None, value: Any, start: tuple[int, int]):
        self.kind = kind
        self.tag = tag
        self.value = value
        self.plain = False
        self.span: SpanTuple = (0, 0, 0, 0)
        self.size = 1
        self.height = 0 if kind == _SCALAR else 1
        self.start = start
        self.flow = False


class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's pure-Python event parser, without composer, constructor or resolver."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


USE_LIBYAML = _CParser is not None
"""Whether the libyaml parser is used (tests switch it off to exercise the fallback)."""


def _load_yaml(text: str, lines: list[str], max_nodes: int, max_depth: int):
    root = _Composer(text, lines, max_nodes, max_depth).compose()
    values: dict[str, SpanTuple] = {}
    keys: dict[str, SpanTuple] = {}
    document = _Builder(lines, values, keys).build(root, "")
    return document, values, keys


def _yaml_error(err: yaml.YAMLError, text: str) -> _Fail:
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        message = _one_line(err.problem or err.context or "invalid YAML")
        if err.context and err.problem:
            message += f" ({_one_line(err.context)}"
            if err.context_mark is not None and mark is not None and \
                    err.context_mark.line != mark.line:
                message += f" started at line {err.context_mark.line + 1}"
            message += ")"
        if mark is None:
            return _Fail(message)
        return _Fail(message, mark.line, mark.column)
    if isinstance(err, yaml.reader.ReaderError):
        found = yaml.reader.Reader.NON_PRINTABLE.search(text)
        if found is not None:
            line, column = _offset_position(text, found.start())
            return _Fail(f"unacceptable character U+{ord(found.group()):04X} (control and "
                         "special characters are not allowed in YAML)", line, column)
    return _Fail(_one_line(f"invalid YAML: {err}"))


class _Composer:
    """Turns parser events into a `_Node` graph, checking tags and limits as it goes."""

    def __init__(self, text: str, lines: list[str], max_nodes: int, max_depth: int):
        self.text = text
        self.lines = lines
        self.max_nodes = max_nodes
        self.max_depth = max_depth

    def compose(self) -> _Node:
        text = self.text
        parser = None
        try:
            parser = _CParser(text) if USE_LIBYAML else _PyParser(text)
            return self._run(parser)
        except yaml.YAMLError as err:
            raise _yaml_error(err, text) from None
        except UnicodeError:
            raise _Fail("text is not valid Unicode") from None
        finally:
            if parser is not None and hasattr(parser, "dispose"):
                parser.dispose()

    def _run(self, parser: Any) -> _Node:
        get_event = parser.get_event
        stack: list[_Node] = []
        items: list[list[Any]] = []
        anchors: dict[str, _Node] = {}
        root: _Node | None = None
        documents = 0
        max_depth = self.max_depth
        max_nodes = self.max_nodes
        scalar_event = _ev.ScalarEvent
        while True:
            event = get_event()
            cls = event.__class__
            mark = event.start_mark
            if cls is scalar_event:
                tag = self._check_tag(event.tag, _SCALAR, mark)
                node = _Node(_SCALAR, tag, event.value, (mark.line, mark.column))
                node.plain = tag is None and bool(event.implicit[0])
                node.span = self._scalar_span(mark, event.end_mark)
                anchor = event.anchor
            elif cls is _ev.MappingStartEvent or cls is _ev.SequenceStartEvent:
                if len(stack) >= max_depth:
                    raise _Fail(f"nesting deeper than {max_depth} levels (limit MAX_DEPTH)",
                                mark.line, mark.column)
                kind = _MAP if cls is _ev.MappingStartEvent else _SEQ
                node = _Node(kind, self._check_tag(event.tag, kind, mark), None,
                             (mark.line, mark.column))
                node.flow = bool(event.flow_style)
                node.value = event.anchor  # remembered until the end event
                stack.append(node)
                items.append([])
                continue
            elif cls is _ev.MappingEndEvent or cls is _ev.SequenceEndEvent:
                node = stack.pop()
                children = items.pop()
                anchor = node.value
                self._finish(node, children, event.end_mark)
            elif cls is _ev.AliasEvent:
                target = anchors.get(event.anchor)
                if target is None:
                    raise _Fail(f"undefined alias '*{event.anchor}'", mark.line, mark.column)
                if len(stack) + target.height > max_depth:
                    raise _Fail(f"alias '*{event.anchor}' nests deeper than {max_depth} levels "
                                "(limit MAX_DEPTH)", mark.line, mark.column)
                node = _Node(_ALIAS, None, target, (mark.line, mark.column))
                node.size = target.size
                node.height = target.height
                end = event.end_mark
                node.span = (mark.line + 1, mark.column + 1, end.line + 1, end.column + 1)
                anchor = None
            elif cls is _ev.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Fail("more than one YAML document in the file; a template is "
                                "a single document", mark.line, mark.column)
                continue
            elif cls is _ev.StreamEndEvent:
                break
            else:  # StreamStart, DocumentEnd
                continue

            if anchor:
                anchors[anchor] = node  # registered once complete: no recursive aliases
            if stack:
                parent = stack[-1]
                items[-1].append(node)
                parent.size += node.size
                if parent.size > max_nodes:
                    raise _Fail(f"document expands to more than {max_nodes:,} nodes (limit "
                                "MAX_NODES; each use of an alias counts)", *node.start)
                if node.height + 1 > parent.height:
                    parent.height = node.height + 1
            else:
                root = node
        if root is None:
            raise _Fail("empty file (no YAML content)")
        return root

    def _check_tag(self, tag: str | None, kind: int, mark: Any) -> str | None:
        if tag is None or tag == "!":
            return None
        if tag in CFN_TAGS:
            return tag
        if tag in _SCALAR_CORE:
            if kind == _SCALAR:
                return tag
        elif tag == _MAP_TAG or tag == _SEQ_TAG:
            if kind == (_MAP if tag == _MAP_TAG else _SEQ):
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
        what = {_SCALAR: "a scalar", _SEQ: "a sequence", _MAP: "a mapping"}[kind]
        raise _Fail(f"tag '{shown}' cannot be used on {what}", mark.line, mark.column)

    def _scalar_span(self, start: Any, end: Any) -> SpanTuple:
        line, column = end.line, end.column
        if column == 0 and line > start.line:  # block scalars end at the next line
            lines = self.lines
            while line > start.line:
                line -= 1
                column = len(lines[line].rstrip()) if line < len(lines) else 0
                if column:
                    break
        return (start.line + 1, start.column + 1, line + 1, column + 1)

    def _finish(self, node: _Node, children: list[_Node], end: Any) -> None:
        start_line, start_column = node.start
        if node.flow or not children:
            node.span = (start_line + 1, start_column + 1, end.line + 1, end.column + 1)
        else:
            last = children[-1].span
            node.span = (start_line + 1, start_column + 1, last[2], last[3])
        if node.kind == _SEQ:
            node.value = children
            return
        triples: list[tuple[str, _Node, _Node]] = []
        seen: dict[str, _Node] = {}
        merges: list[_Node] = []
        for index in range(0, len(children), 2):
            key_node, value_node = children[index], children[index + 1]
            if key_node.kind == _SCALAR and key_node.plain and key_node.value == "<<":
                merges.append(value_node)
                continue
            key = self._key_text(key_node)
            first = seen.get(key)
            if first is not None:
                line, column = key_node.span[0] - 1, key_node.span[1] - 1
                raise _Fail(f"duplicate key '{_shown(key)}' (first at line {first.span[0]}, again at "
                            f"line {line + 1})", line, column)
            seen[key] = key_node
            triples.append((key, key_node, value_node))
        if merges:
            triples = self._merge(merges, seen) + triples
        node.value = triples

    def _key_text(self, key_node: _Node) -> str:
        target = key_node.value if key_node.kind == _ALIAS else key_node
        if target.kind != _SCALAR:
            line, column = key_node.start
            raise _Fail("mapping key must be a scalar, not a collection", line, column)
        if target.tag in CFN_TAGS:
            line, column = key_node.start
            raise _Fail(f"mapping key cannot be an intrinsic function ({target.tag})",
                        line, column)
        return target.value

    def _merge(self, merges: list[_Node], seen: dict[str, _Node]):
        """YAML merge keys: earlier sources win over later ones, explicit keys over all."""
        merged: list[tuple[str, _Node, _Node]] = []
        taken = set(seen)
        for value_node in merges:
            target = value_node.value if value_node.kind == _ALIAS else value_node
            sources = target.value if target.kind == _SEQ else [value_node]
            for source in sources:
                mapping = source.value if source.kind == _ALIAS else source
                if mapping.kind != _MAP:
                    line, column = source.start
                    raise _Fail("merge key '<<' needs a mapping or a list of mappings",
                                line, column)
                for triple in mapping.value:
                    if triple[0] not in taken:
                        taken.add(triple[0])
                        merged.append(triple)
        return merged


class _Builder:
    """Builds plain data from the node graph, recording every pointer's spans."""

    def __init__(self, lines: list[str], values: dict[str, SpanTuple],
                 keys: dict[str, SpanTuple]) -> None:
        self.lines = lines
        self.values = values
        self.keys = keys

    def build(self, node: _Node, pointer: str) -> Any:
        if node.kind == _ALIAS:
            result = self.build(node.value, pointer)
            self.values[pointer] = node.span
            return result
        self.values[pointer] = node.span
        tag = node.tag
        if tag is not None and tag in CFN_TAGS:
            name = CFN_TAGS[tag]
            inner = f"{pointer}/{name}"
            self.values[inner] = node.span
            self.keys[inner] = self._tag_span(node, tag)
            if name == "Fn::GetAtt" and node.kind == _SCALAR:
                return {name: self._getatt(node, inner)}
            return {name: self._plain(node, inner)}
        return self._plain(node, pointer)

    def _plain(self, node: _Node, pointer: str) -> Any:
        kind = node.kind
        if kind == _SCALAR:
            return _scalar_value(node)
        if kind == _SEQ:
            build = self.build
            return [build(child, f"{pointer}/{index}") for index, child in enumerate(node.value)]
        result: dict[str, Any] = {}
        keys = self.keys
        for key, key_node, value_node in node.value:
            child = f"{pointer}/{escape_token(key)}"
            keys[child] = key_node.span
            result[key] = self.build(value_node, child)
        return result

    def _tag_span(self, node: _Node, tag: str) -> SpanTuple:
        line, column = node.start
        text = self.lines[line] if line < len(self.lines) else ""
        found = text.find(tag, column)
        if found < 0:
            return node.span
        return (line + 1, found + 1, line + 1, found + len(tag) + 1)

    def _getatt(self, node: _Node, pointer: str) -> list[str]:
        value = node.value
        parts = value.split(".", 1)
        span = node.span
        spans = [span] * len(parts)
        line, _, end_line, end_column = span
        if line == end_line and line <= len(self.lines):
            source = self.lines[line - 1][: end_column - 1]
            value_end = end_column - 1
            if source.endswith(("'", '"')) and not source.endswith(value):
                source, value_end = source[:-1], value_end - 1
            if value and source.endswith(value):
                first = value_end - len(value)
                spans[0] = (line, first + 1, line, first + len(parts[0]) + 1)
                if len(parts) == 2:
                    spans[1] = (line, first + len(parts[0]) + 2, line, value_end + 1)
        for index, part_span in enumerate(spans):
            self.values[f"{pointer}/{index}"] = part_span
        return parts


def _scalar_value(node: _Node) -> Any:
    text = node.value
    if node.plain:
        if text in _NULLS:
            return None
        boolean = _BOOLS.get(text)
        if boolean is not None:
            return boolean
        first = text[:1]
        if first and first in "0123456789+-.":
            if _INT_RE.fullmatch(text):
                return _to_int(text, node)
            if _FLOAT_RE.fullmatch(text):
                return _to_float(text, node)
        return text
    tag = node.tag
    if tag is None or tag in CFN_TAGS or tag == _CORE + "str":
        return text
    stripped = text.strip()
    if tag == _CORE + "int":
        if re.fullmatch(r"[-+]?[0-9]+", stripped):
            return _to_int(stripped, node)
    elif tag == _CORE + "float":
        if _TAGGED_FLOAT_RE.fullmatch(stripped):
            return _to_float(stripped, node)
    elif tag == _CORE + "bool":
        if stripped.lower() in ("true", "false"):
            return stripped.lower() == "true"
    elif tag == _CORE + "null":
        if stripped in _NULLS:
            return None
    line, column = node.start
    raise _Fail(f"invalid !!{tag[len(_CORE):]} value {text[:40]!r}", line, column)


def _to_int(text: str, node: _Node) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts
        line, column = node.start
        raise _Fail("integer too large", line, column) from None


def _to_float(text: str, node: _Node) -> float:
    value = float(text)
    if not math.isfinite(value):
        line, column = node.start
        raise _Fail(f"number out of range: {text[:40]}", line, column)
    return value


# --------------------------------------------------------------------------- JSON

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
                offset = self.ws(offset + 1)
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
                self.counted(offset)
                value, offset = self.scalar(offset)
            # The value at `pointer` spans start..offset; attach it and close containers.
            while True:
                self.values[pointer] = self.span(start, offset)
                if not stack:
                    end = self.ws(offset)
                    if end < size:
                        raise self.fail(f"extra data after the JSON value: {self.found(end)}",
                                        end)
                    return value, self.values, self.keys
                frame = stack[-1]
                if frame.is_object:
                    frame.container[frame.key] = value
                else:
                    frame.container.append(value)
                closer = "}" if frame.is_object else "]"
                offset = self.ws(offset)
                char = text[offset] if offset < size else ""
                if char == ",":
                    offset = self.ws(offset + 1)
                    if frame.is_object:
                        offset = self.key(frame, offset)
                    elif offset < size and text[offset] == "]":
                        raise self.fail("trailing comma before ']'", offset)
                    break
                if char == closer:
                    offset += 1
                    stack.pop()
                    value, start, pointer = frame.container, frame.start, frame.pointer
                    continue
                raise self.fail(f"expected ',' or '{closer}', found {self.found(offset)}",
                                offset)

    def key(self, frame: _Frame, offset: int) -> int:
        text = self.text
        if offset >= len(text) or text[offset] != '"':
            if offset < len(text) and text[offset] == "}":
                raise self.fail("trailing comma before '}'", offset)
            raise self.fail(f"expected a string key, found {self.found(offset)}", offset)
        self.counted(offset)
        key, end = self.string(offset)
        first = frame.seen.get(key)
        line = self.position(offset)[0] + 1
        if first is not None:
            raise self.fail(f"duplicate key '{_shown(key)}' (first at line {first}, again at line "
                            f"{line})", offset)
        frame.seen[key] = line
        frame.key = key
        self.keys[f"{frame.pointer}/{escape_token(key)}"] = self.span(offset, end)
        offset = self.ws(end)
        if offset >= len(text) or text[offset] != ":":
            raise self.fail(f"expected ':' after key '{_shown(key)}', found {self.found(offset)}",
                            offset)
        return self.ws(offset + 1)

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
