"""What IAM rejects in a Condition block, one line each (the deployment fails)."""

from __future__ import annotations

from collections.abc import Mapping

from .condition_values import BINARY, BOOL, DATE, IP, NULL, NUMERIC, PARSERS, parse_bool, parse_operator

_EXPECTED = {
    NUMERIC: "a number",
    DATE: "a date (ISO 8601 or epoch seconds)",
    IP: "an IPv4 or IPv6 address or CIDR block",
    BINARY: "a base-64 encoded value",
    BOOL: "true or false",
    NULL: "true or false",
}


def condition_problems(condition: object) -> list[tuple[str, str]]:
    if condition is None or (isinstance(condition, Mapping) and not condition):
        return []
    if not isinstance(condition, Mapping):
        return [("Condition", "Condition must map operators to blocks of keys and values")]
    found: list[tuple[str, str]] = []
    for name, block in condition.items():
        found.extend(_operator_problems(name, block))
    return found


def _operator_problems(name: object, block: object) -> list[tuple[str, str]]:
    label = str(name)
    operator = parse_operator(name)
    if operator is None:
        return [(label, f"{label!r} is not an IAM condition operator")]
    if operator.family == NULL and operator.if_exists:
        # AWS: "You can add IfExists to the end of any condition operator name except
        # the Null condition."
        return [(label, "Null takes no IfExists suffix")]
    if not isinstance(block, Mapping) or not block:
        return [(label, f"{label} must map condition keys to values")]
    found = []
    for key, value in block.items():
        if not isinstance(key, str) or not key:
            found.append((label, f"{label} has a condition key that is not a string: {key!r}"))
            continue
        found.extend(_value_problems(operator.family, f"{label}/{key}", value))
    return found


def _value_problems(family: str, where: str, value: object) -> list[tuple[str, str]]:
    values = list(value) if isinstance(value, list | tuple) else [value]
    if not values:
        return [(where, "the condition key has no value")]
    found = []
    for one in values:
        if isinstance(one, Mapping | list | tuple):
            found.append((where, f"condition values are strings, numbers or booleans, not {type(one).__name__}"))
        elif one is not None and not _valid(family, one):
            found.append((where, f"{one!r} is not {_EXPECTED[family]}"))
    return found


def _valid(family: str, value: object) -> bool:
    if family == NULL:
        return parse_bool(value) is not None
    if family == BOOL and isinstance(value, str) and "${" in value:
        return True  # Bool takes policy variables ("Policy variables – Supported")
    if family in PARSERS:
        return PARSERS[family](value) is not None
    return True  # String and ARN operators take any text
