"""Policy documents given as JSON text (plain, or inside Fn::Sub), read as documents."""

from __future__ import annotations

from typing import Any

from .load import parse_json_string
from .statements import PolicyContext


def is_json_text(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, dict) and list(value) == ["Fn::Sub"]:
        arg = value["Fn::Sub"]
        text = arg if isinstance(arg, str) else (arg[0] if isinstance(arg, list) and len(arg) == 2
                                                 and isinstance(arg[1], dict) else None)
        return isinstance(text, str) and text.lstrip().startswith("{")
    return False


def json_document(value: Any, path: str, ctx: PolicyContext) -> Any:
    """A policy given as JSON text (plain, or in Fn::Sub with its ${} kept as Fn::Sub);
    None, with a problem, when the text is not JSON."""
    variables = None
    if isinstance(value, dict):
        arg = value["Fn::Sub"]
        text, variables = (arg, None) if isinstance(arg, str) else (arg[0], arg[1])
    else:
        text = value
    try:
        document = parse_json_string(text)
    except ValueError as exc:
        ctx.problem(path, f"policy document is not valid JSON: {exc}")
        return None
    return _sub_strings(document, variables) if isinstance(value, dict) else document


def _sub_strings(value: Any, variables: dict | None) -> Any:
    """Strings holding ${...} become Fn::Sub again, so they resolve symbolically."""
    if isinstance(value, dict):
        return {k: _sub_strings(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub_strings(v, variables) for v in value]
    if isinstance(value, str) and "${" in value:
        return {"Fn::Sub": [value, variables] if variables else value}
    return value
