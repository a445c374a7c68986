"""YAML read straight from the parser's events into plain data and the source map, in one
pass and without node objects, for what nearly every template is: no anchor, alias or merge
key, no tagged or duplicate key, no scalar that is not what its tag says. At the first
event that is not so, `build` raises `NeedsNodes` and the caller reads the text again
through nodes (`yaml_events`), which has the last word on such documents. Up to that
event the two read alike and raise the same problems at the same events (tags, depth, the
node count, more than one document, the parser's own errors), so whichever reads a text,
its data, source map and errors are the same."""

from __future__ import annotations

from typing import Any

from yaml import events as _ev

from ..sourcemap import SpanTuple
from .errors import _Fail
from .yaml_rules import (
    BOOLS,
    CFN_TAGS,
    MAP,
    NULLS,
    NUMBER_STARTS,
    SCALAR,
    SEQ,
    check_tag,
    getatt_parts,
    plain_number,
    scalar_span,
    scalar_value,
    tag_span,
)


class NeedsNodes(Exception):  # noqa: N818 - a signal to the caller, not an error
    """The document has something only the node reader handles."""


# An open collection: [container, pointer of its children's parent, is a mapping, nodes so
# far, start (line, column), flow style, the pending key's pointer and text (mappings),
# the pointer its own span goes to, its short-form tag].
_CONTAINER, _POINTER, _IS_MAP, _SIZE, _START, _FLOW, _CHILD, _KEY, _OUTER, _TAG = range(10)

_NO_ROOT = object()


def _too_many(max_nodes: int, line: int, column: int) -> _Fail:
    return _Fail(f"document expands to more than {max_nodes:,} nodes (limit MAX_NODES; each use "
                 "of an alias counts)", line, column)


def build(parser: Any, lines: list[str], max_nodes: int, max_depth: int
          ) -> tuple[Any, dict[str, SpanTuple], dict[str, SpanTuple]]:
    """(document, value spans, key spans) of the parser's single document."""
    get_event = parser.get_event
    values: dict[str, Any] = {}
    keys: dict[str, Any] = {}
    stack: list[list[Any]] = []
    root: Any = _NO_ROOT
    last: SpanTuple = (0, 0, 0, 0)  # the span of the node completed last
    documents = 0
    scalar_event = _ev.ScalarEvent
    mapping_start, sequence_start = _ev.MappingStartEvent, _ev.SequenceStartEvent
    mapping_end, sequence_end = _ev.MappingEndEvent, _ev.SequenceEndEvent
    while True:
        event = get_event()
        cls = event.__class__
        if cls is scalar_event:
            if event.anchor is not None:
                raise NeedsNodes
            mark = event.start_mark
            tag = event.tag
            if tag is not None:
                tag = check_tag(tag, SCALAR, mark)
            text = event.value
            end = event.end_mark
            line, column = mark.line, mark.column
            if end.column == 0 and end.line > line:
                span = scalar_span(mark, end, lines)
            else:
                span = (line + 1, column + 1, end.line + 1, end.column + 1)
            last = span
            if stack:
                frame = stack[-1]
                frame[_SIZE] += 1
                if frame[_SIZE] > max_nodes:
                    raise _too_many(max_nodes, line, column)
                if frame[_IS_MAP]:
                    pointer = frame[_CHILD]
                    if pointer is None:  # a key
                        if tag is not None or text == "<<" or text in frame[_CONTAINER]:
                            raise NeedsNodes
                        if "~" in text or "/" in text:
                            pointer = f"{frame[_POINTER]}/{text.replace('~', '~0').replace('/', '~1')}"
                        else:
                            pointer = f"{frame[_POINTER]}/{text}"
                        keys[pointer] = span
                        frame[_CHILD] = pointer
                        frame[_KEY] = text
                        continue
                    frame[_CHILD] = None
                else:
                    pointer = f"{frame[_POINTER]}/{len(frame[_CONTAINER])}"
            else:
                pointer = ""
            values[pointer] = span
            if tag is None:
                if event.implicit[0]:
                    if text in NULLS:
                        value = None
                    else:
                        value = BOOLS.get(text, text)
                        if value is text and text[0] in NUMBER_STARTS:
                            value = _plain_number(text, (line, column))
                else:
                    value = text
            elif tag in CFN_TAGS:
                name = CFN_TAGS[tag]
                inner = f"{pointer}/{name}"
                values[inner] = span
                keys[inner] = tag_span((line, column), tag, lines, span)
                if name == "Fn::GetAtt":
                    parts, spans = getatt_parts(text, span, lines)
                    for index, part_span in enumerate(spans):
                        values[f"{inner}/{index}"] = part_span
                    value = {name: parts}
                else:
                    value = {name: text}
            else:
                value = _tagged(text, tag, (line, column))
            if stack:
                if frame[_IS_MAP]:
                    frame[_CONTAINER][frame[_KEY]] = value
                else:
                    frame[_CONTAINER].append(value)
            else:
                root = value
        elif cls is mapping_start or cls is sequence_start:
            if event.anchor is not None:
                raise NeedsNodes
            mark = event.start_mark
            if len(stack) >= max_depth:
                raise _Fail(f"nesting deeper than {max_depth} levels (limit MAX_DEPTH)",
                            mark.line, mark.column)
            is_map = cls is mapping_start
            tag = event.tag
            if tag is not None:
                tag = check_tag(tag, MAP if is_map else SEQ, mark)
            container: Any = {} if is_map else []
            value = container
            if stack:
                frame = stack[-1]
                if frame[_IS_MAP]:
                    pointer = frame[_CHILD]
                    if pointer is None:  # a collection as a key: an error, the node reader's
                        raise NeedsNodes
                    frame[_CHILD] = None
                else:
                    pointer = f"{frame[_POINTER]}/{len(frame[_CONTAINER])}"
            else:
                pointer = ""
            values[pointer] = None  # its place in document order; the span comes at its end
            children = pointer
            if tag is not None:
                name = CFN_TAGS[tag]
                children = f"{pointer}/{name}"
                values[children] = None
                keys[children] = None
                value = {name: container}
            if stack:
                if frame[_IS_MAP]:
                    frame[_CONTAINER][frame[_KEY]] = value
                else:
                    frame[_CONTAINER].append(value)
            else:
                root = value
            stack.append([container, children, is_map, 1, (mark.line, mark.column),
                          event.flow_style, None, None, pointer, tag])
        elif cls is mapping_end or cls is sequence_end:
            frame = stack.pop()
            start = frame[_START]
            if frame[_FLOW] or not frame[_CONTAINER]:
                end = event.end_mark
                span = (start[0] + 1, start[1] + 1, end.line + 1, end.column + 1)
            else:
                span = (start[0] + 1, start[1] + 1, last[2], last[3])
            values[frame[_OUTER]] = span
            tag = frame[_TAG]
            if tag is not None:
                values[frame[_POINTER]] = span
                keys[frame[_POINTER]] = tag_span(start, tag, lines, span)
            last = span
            if stack:
                parent = stack[-1]
                parent[_SIZE] += frame[_SIZE]
                if parent[_SIZE] > max_nodes:
                    raise _too_many(max_nodes, *start)
        elif cls is _ev.AliasEvent:
            raise NeedsNodes
        elif cls is _ev.DocumentStartEvent:
            documents += 1
            if documents > 1:
                mark = event.start_mark
                raise _Fail("more than one YAML document in the file; a template is "
                            "a single document", mark.line, mark.column)
        elif cls is _ev.StreamEndEvent:
            break
    if root is _NO_ROOT:
        raise _Fail("empty file (no YAML content)")
    return root, values, keys


def _plain_number(text: str, start: tuple[int, int]) -> Any:
    try:
        return plain_number(text, start)
    except _Fail:  # the node reader says it once the whole text is read
        raise NeedsNodes from None


def _tagged(text: str, tag: str, start: tuple[int, int]) -> Any:
    try:
        return scalar_value(text, False, tag, start)
    except _Fail:
        raise NeedsNodes from None
