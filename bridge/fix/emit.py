"""The new key policy as template text, in the template's own style, and the edit that
puts it in place of the old `KeyPolicy` node (the source map gives its span), leaving
every other line, comments included, as it was.

YAML: short-form tags (`!Sub`, `!GetAtt A.B`, `!Ref`), the template's indentation and
sequence style (indented or not) and quote character, a `#` comment above each statement.
JSON: the template's indentation; JSON has no comments, so the reasons are in the report.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from typing import Any

import yaml

from ..load import LoadedTemplate
from ..sourcemap import join_pointer


@dataclass(frozen=True)
class Style:
    indent: int = 2
    sequence_offset: int = 0  # columns between a key and the `-` of its sequence items
    quote: str = "'"


@dataclass(frozen=True)
class Edit:
    """Replace the text from (line, column) to (end_line, end_column), 1-based, end exclusive."""
    line: int
    column: int
    end_line: int
    end_column: int
    text: str


def detect_style(template: LoadedTemplate, policy_path: str) -> Style:
    smap = template.source_map
    key = smap.key_span(policy_path)
    indent = 2
    for child in (join_pointer(policy_path, "Version"), join_pointer(policy_path, "Statement")):
        span = smap.key_span(child)
        if key and span and span.line > key.line and span.column > key.column:
            indent = span.column - key.column
            break
    statement_key = smap.key_span(join_pointer(policy_path, "Statement"))
    first = smap.span(join_pointer(policy_path, "Statement", 0))
    if statement_key and first and first.line > statement_key.line:
        offset = max(0, first.column - 2 - statement_key.column)
    else:  # a flow-style policy: the template's other sequences decide
        offset = sequence_offset(template)
    quote = "'"
    version = smap.span(join_pointer(policy_path, "Version"))
    if version and 0 < version.line <= len(template.lines):
        text = template.lines[version.line - 1][version.column - 1:]
        quote = '"' if text.startswith('"') else "'"
    return Style(indent, offset, quote)


# --- YAML -------------------------------------------------------------------------

_SHORT = {"Ref": "Ref", "Fn::GetAtt": "GetAtt"}


def _tag(value: Any) -> tuple[str, Any] | None:
    if isinstance(value, dict) and len(value) == 1:
        (name, arg), = value.items()
        if name == "Fn::GetAtt" and isinstance(arg, list) and len(arg) == 2 and all(isinstance(a, str) for a in arg):
            return "!GetAtt", f"{arg[0]}.{arg[1]}"
        if name == "Ref":
            return "!Ref", arg
        if name.startswith("Fn::"):
            return "!" + name[4:], arg
    return None


def yaml_scalar(value: Any, style: Style) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    plain = text and text == text.strip() and text[0] not in "!&*{}[]'\"%@|>#,?-:`" \
        and ": " not in text and " #" not in text
    if plain:
        try:
            plain = yaml.safe_load(f"k: {text}") == {"k": text}
        except yaml.YAMLError:
            plain = False
    if plain:
        return text
    if style.quote == '"':
        return json.dumps(text)
    return "'" + text.replace("'", "''") + "'"


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def yaml_block(value: Any, column: int, style: Style, comments: dict[int, list[str]] | None = None) -> list[str]:
    """Lines of a mapping or sequence whose entries start at `column`."""
    comments = comments or {}
    pad = " " * column
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _entry(f"{pad}{yaml_scalar(key, style)}:", item, column, style, comments)
        return out
    for item in value:
        for text in comments.get(id(item), []):
            out.append(f"{pad}# {text}")
        if _is_scalar(item) or _tag(item) is not None and _is_scalar(_tag(item)[1]):
            out.append(f"{pad}- {_inline(item, style)}")
            continue
        inner = yaml_block(item, column + 2, style, comments)
        out.append(f"{pad}- {inner[0][column + 2:]}")
        out += inner[1:]
    return out


def _inline(value: Any, style: Style) -> str:
    tag = _tag(value)
    if tag is not None:
        return f"{tag[0]} {yaml_scalar(tag[1], style)}"
    return yaml_scalar(value, style)


def _entry(head: str, item: Any, column: int, style: Style, comments: dict) -> list[str]:
    tag = _tag(item)
    if _is_scalar(item) or (tag is not None and _is_scalar(tag[1])):
        return [f"{head} {_inline(item, style)}"]
    if tag is not None:
        head, item = f"{head} {tag[0]}", tag[1]
    if isinstance(item, list):
        if not item:
            return [f"{head} []"]
        return [head, *yaml_block(item, column + style.sequence_offset, style, comments)]
    if not item:
        return [f"{head} {{}}"]
    return [head, *yaml_block(item, column + style.indent, style, comments)]


def wrap(text: str, width: int = 96) -> list[str]:
    return textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False)


def yaml_key_policy(policy: dict, statement_notes: list[list[str]], key_column: int, style: Style) -> str:
    comments = {id(st): [line for note in notes for line in wrap(note)]
                for st, notes in zip(policy["Statement"], statement_notes, strict=True)}
    lines = _entry("KeyPolicy:", policy, key_column, style, comments)
    return "\n".join(lines)


# --- edits --------------------------------------------------------------------------

def key_policy_edit(template: LoadedTemplate, policy_path: str, policy: dict,
                    statement_notes: list[list[str]]) -> Edit:
    smap = template.source_map
    value = smap.span(policy_path)
    key = smap.key_span(policy_path)
    if value is None or key is None:
        raise ValueError(f"no span for {policy_path}")
    if template.format == "json":
        indent = _json_indent(template)
        base = len(template.lines[key.line - 1]) - len(template.lines[key.line - 1].lstrip())
        text = json.dumps(policy, indent=indent, ensure_ascii=False).replace("\n", "\n" + " " * base)
        return Edit(value.line, value.column, value.end_line, value.end_column, text)
    style = detect_style(template, policy_path)
    text = yaml_key_policy(policy, statement_notes, key.column - 1, style)
    return Edit(key.line, key.column, value.end_line, value.end_column, text.lstrip())


def sequence_offset(template: LoadedTemplate) -> int:
    """The template's sequence style, from its first block sequence: `-` under its key (0)
    or indented."""
    smap = template.source_map
    for pointer in smap.pointers():
        if not pointer.endswith("/0"):
            continue
        parent, item = smap.key_span(pointer[:-2]), smap.span(pointer)
        if parent and item and item.line > parent.line:
            return max(0, item.column - 2 - parent.column)
    return 0


def insert_key_policy_edit(template: LoadedTemplate, properties_path: str, policy: dict,
                           statement_notes: list[list[str]]) -> Edit | None:
    """Add `KeyPolicy` to a key's Properties mapping (a key that has the default policy)."""
    smap = template.source_map
    value = smap.span(properties_path)
    children = _children(template, properties_path)
    if value is None or not children:
        return None
    first = smap.key_span(children[0])
    if first is None:
        return None
    if template.format == "json":
        indent = _json_indent(template)
        base = first.column - 1
        text = json.dumps(policy, indent=indent, ensure_ascii=False).replace("\n", "\n" + " " * base)
        return Edit(first.line, first.column, first.line, first.column, f'"KeyPolicy": {text},\n' + " " * base)
    parent = smap.key_span(properties_path)
    indent = first.column - parent.column if parent and first.line > parent.line else 2
    style = Style(indent, sequence_offset(template), "'")
    last = max((smap.span(p) for p in children), key=lambda span: (span.end_line, span.end_column))
    text = yaml_key_policy(policy, statement_notes, first.column - 1, style)
    return Edit(last.end_line, last.end_column, last.end_line, last.end_column,
                "\n" + " " * (first.column - 1) + text)


def metadata_edit(template: LoadedTemplate, resource_path: str, block: dict, policy_path: str) -> Edit | None:
    """Insert `kmspolicy: block` as the first entry of the resource's Metadata, or a new
    `Metadata` before its Properties; None when neither has a place for it."""
    smap = template.source_map
    metadata = join_pointer(resource_path, "Metadata")
    if smap.span(metadata) is not None:
        children = _children(template, metadata)
        at = smap.key_span(children[0]) if children else None
        if at is None or at.line == smap.key_span(metadata).line:  # empty or flow style
            return None
        wrapped: dict = block
        head = "kmspolicy"
    else:
        at = smap.key_span(join_pointer(resource_path, "Properties"))
        if at is None:
            return None
        wrapped, head = {"kmspolicy": block}, "Metadata"
    base = at.column - 1
    if template.format == "json":
        text = json.dumps(wrapped, indent=_json_indent(template), ensure_ascii=False).replace("\n", "\n" + " " * base)
        return Edit(at.line, at.column, at.line, at.column, f'"{head}": {text},\n' + " " * base)
    lines = _entry(f"{head}:", wrapped, base, detect_style(template, policy_path), {})
    return Edit(at.line, at.column, at.line, at.column, "\n".join(lines).lstrip() + "\n" + " " * base)


def _children(template: LoadedTemplate, pointer: str) -> list[str]:
    """The pointers of a mapping's entries, in document order."""
    depth = pointer.count("/") + 1
    return [p for p in template.source_map.pointers() if p.startswith(pointer + "/") and p.count("/") == depth]


def _json_indent(template: LoadedTemplate) -> int:
    for line in template.lines[1:]:
        stripped = line.lstrip(" ")
        if stripped and len(line) > len(stripped):
            return len(line) - len(stripped)
    return 2


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (1-based line/column, code points)."""
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    for edit in sorted(edits, key=lambda e: (e.line, e.column), reverse=True):
        begin, end = offset(edit.line, edit.column), offset(edit.end_line, edit.end_column)
        text = text[:begin] + edit.text + text[end:]
    return text
