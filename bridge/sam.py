"""SAM's implicit execution roles and `Policies` (KMS-SEMANTICS.md §8)."""

from __future__ import annotations

import copy
from typing import Any

from . import catalog

SAM_ROLE_OWNERS = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")


def implicit_role_id(function_id: str) -> str:
    return f"{function_id}Role"


def policy_items(policies: Any, base: str) -> list[tuple[Any, str]]:
    """`Policies` may be one item or a list of items."""
    if isinstance(policies, list):
        return [(item, f"{base}/{i}") for i, item in enumerate(policies)]
    return [(policies, base)]


def expand_policy_template(name: str, arguments: Any) -> tuple[list[dict] | None, str | None]:
    """A SAM policy template's statements with its parameters substituted.

    Returns (statements, None) or (None, problem).
    """
    template = catalog.sam_policy_template(name)
    if template is None:
        return None, f"unknown SAM policy template '{name}' (not in {catalog.sam_catalog_source()})"
    if arguments is None or arguments == {}:
        arguments = {}
    if not isinstance(arguments, dict):
        return None, f"SAM policy template '{name}' takes a mapping of parameters"
    missing = [p for p in template["parameters"] if p not in arguments]
    if missing:
        return None, f"SAM policy template '{name}' is missing parameter(s) {', '.join(missing)}"
    return _substitute(copy.deepcopy(template["statements"]), arguments), None


def _substitute(value: Any, arguments: dict) -> Any:
    if isinstance(value, dict):
        if list(value) == ["Ref"] and value["Ref"] in arguments:
            return arguments[value["Ref"]]
        return {k: _substitute(v, arguments) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, arguments) for v in value]
    return value
