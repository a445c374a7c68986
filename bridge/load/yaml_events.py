"""YAML: libyaml's (or PyYAML's pure-Python) event stream composed into line-aware nodes
here, never by PyYAML's constructors, then built into plain data and the source map.
Only CloudFormation short-form tags and the YAML core tags are accepted; short forms become
the long form; scalars follow CloudFormation; aliases count toward the node limit (see the
package docstring for every rule)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml import events as _ev

from ..sourcemap import SpanTuple, escape_token
from . import yaml_stream
from .errors import _Fail
from .text import _offset_position, _one_line, _shown
from .yaml_rules import (
    ALIAS,
    CFN_TAGS,
    MAP,
    SCALAR,
    SEQ,
    check_tag,
    getatt_parts,
    scalar_span,
    scalar_value,
    tag_span,
)

try:  # libyaml bindings
    from yaml.cyaml import CParser as _CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _CParser = None

_SCALAR, _SEQ, _MAP, _ALIAS = SCALAR, SEQ, MAP, ALIAS


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


READ_IN_ONE_PASS = True
"""Whether `yaml_stream` reads what it can (tests switch it off to compare it with nodes)."""


def _load_yaml(text: str, lines: list[str], max_nodes: int, max_depth: int):
    if READ_IN_ONE_PASS:
        try:
            document, values, keys = _parsed(
                text, lambda parser: yaml_stream.build(parser, lines, max_nodes, max_depth))
            return document, values, keys, {}
        except yaml_stream.NeedsNodes:
            pass
    composer = _Composer(lines, max_nodes, max_depth)
    root = _parsed(text, composer.run)
    values: dict[str, SpanTuple] = {}
    keys: dict[str, SpanTuple] = {}
    builder = _Builder(lines, values, keys)
    document = builder.build(root, "")
    return document, values, keys, builder.aliases


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


def _parsed(text: str, read: Callable[[Any], Any]) -> Any:
    """`read(parser)` of a parser of `text`, its errors as `_Fail`s."""
    parser = None
    try:
        parser = _CParser(text) if USE_LIBYAML else _PyParser(text)
        return read(parser)
    except yaml.YAMLError as err:
        raise _yaml_error(err, text) from None
    except UnicodeError:
        raise _Fail("text is not valid Unicode") from None
    finally:
        if parser is not None and hasattr(parser, "dispose"):
            parser.dispose()


class _Composer:
    """Turns parser events into a `_Node` graph, checking tags and limits as it goes."""

    def __init__(self, lines: list[str], max_nodes: int, max_depth: int):
        self.lines = lines
        self.max_nodes = max_nodes
        self.max_depth = max_depth

    def run(self, parser: Any) -> _Node:
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
                tag = check_tag(event.tag, _SCALAR, mark)
                node = _Node(_SCALAR, tag, event.value, (mark.line, mark.column))
                node.plain = tag is None and bool(event.implicit[0])
                node.span = scalar_span(mark, event.end_mark, self.lines)
                anchor = event.anchor
            elif cls is _ev.MappingStartEvent or cls is _ev.SequenceStartEvent:
                if len(stack) >= max_depth:
                    raise _Fail(f"nesting deeper than {max_depth} levels (limit MAX_DEPTH)",
                                mark.line, mark.column)
                kind = _MAP if cls is _ev.MappingStartEvent else _SEQ
                node = _Node(kind, check_tag(event.tag, kind, mark), None,
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
                node = _Node(_ALIAS, event.anchor, target, (mark.line, mark.column))  # tag: the name
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
        self.aliases: dict[str, str] = {}  # pointer of an alias → its anchor's name

    def build(self, node: _Node, pointer: str) -> Any:
        if node.kind == _ALIAS:
            result = self.build(node.value, pointer)
            self.values[pointer] = node.span
            self.aliases[pointer] = node.tag
            return result
        self.values[pointer] = node.span
        tag = node.tag
        if tag is not None and tag in CFN_TAGS:
            name = CFN_TAGS[tag]
            inner = f"{pointer}/{name}"
            self.values[inner] = node.span
            self.keys[inner] = tag_span(node.start, tag, self.lines, node.span)
            if name == "Fn::GetAtt" and node.kind == _SCALAR:
                return {name: self._getatt(node, inner)}
            return {name: self._plain(node, inner)}
        return self._plain(node, pointer)

    def _plain(self, node: _Node, pointer: str) -> Any:
        kind = node.kind
        if kind == _SCALAR:
            return scalar_value(node.value, node.plain, node.tag, node.start)
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

    def _getatt(self, node: _Node, pointer: str) -> list[str]:
        parts, spans = getatt_parts(node.value, node.span, self.lines)
        for index, part_span in enumerate(spans):
            self.values[f"{pointer}/{index}"] = part_span
        return parts
