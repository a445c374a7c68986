"""Condition operators and the values they compare: names, parsing, policy variables.

AWS sources (IAM User Guide): "IAM JSON policy elements: Condition operators" (the
operator names, which families take policy variables and wildcards, `...IfExists` on
every operator but Null) and "IAM policy elements: Variables and tags" (`${key}`,
`${key, 'default'}`, the escapes `${*}`, `${?}`, `${$}`).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

STRING, NUMERIC, DATE, BOOL, BINARY, IP, ARN, NULL = (
    "String", "Numeric", "Date", "Bool", "Binary", "IpAddress", "Arn", "Null")

# operator name -> (family, comparison, negated, ignore_case). Names are case-sensitive:
# IAM answers `stringEquals` with "MalformedPolicyDocument: Invalid Condition type"
# (seen in ministryofjustice/modernisation-platform-environments#8893).
_BASES: dict[str, tuple[str, str, bool, bool]] = {
    "StringEquals": (STRING, "eq", False, False),
    "StringNotEquals": (STRING, "eq", True, False),
    "StringEqualsIgnoreCase": (STRING, "eq", False, True),
    "StringNotEqualsIgnoreCase": (STRING, "eq", True, True),
    "StringLike": (STRING, "like", False, False),
    "StringNotLike": (STRING, "like", True, False),
    "Bool": (BOOL, "eq", False, False),
    "BinaryEquals": (BINARY, "eq", False, False),
    "IpAddress": (IP, "in", False, False),
    "NotIpAddress": (IP, "in", True, False),
    # "ArnEquals and ArnLike" share one description in AWS's table: each of the six
    # colon-delimited components is checked separately and may hold `*` and `?`.
    "ArnEquals": (ARN, "like", False, False),
    "ArnLike": (ARN, "like", False, False),
    "ArnNotEquals": (ARN, "like", True, False),
    "ArnNotLike": (ARN, "like", True, False),
    "Null": (NULL, "null", False, False),
}
for _family in (NUMERIC, DATE):
    _BASES[_family + "Equals"] = (_family, "eq", False, False)
    _BASES[_family + "NotEquals"] = (_family, "eq", True, False)
    for _suffix, _comparison in (("LessThan", "lt"), ("LessThanEquals", "le"),
                                 ("GreaterThan", "gt"), ("GreaterThanEquals", "ge")):
        _BASES[_family + _suffix] = (_family, _comparison, False, False)

# "Policy variables – Supported" in AWS's tables: String, Bool and ARN operators only.
VARIABLE_FAMILIES = frozenset({STRING, BOOL, ARN})
QUALIFIERS = ("ForAllValues", "ForAnyValue")


@dataclass(frozen=True)
class Operator:
    name: str
    family: str
    comparison: str          # eq, like, lt, le, gt, ge, in, null
    negated: bool            # a "not matched" operator: true when the key is absent
    ignore_case: bool
    if_exists: bool
    qualifier: str | None    # "forallvalues", "foranyvalue" or None


def parse_operator(name: object) -> Operator | None:
    """The operator a Condition block names, or None when IAM knows no such operator."""
    if not isinstance(name, str):
        return None
    qualifier, _, base = name.rpartition(":")
    if qualifier and qualifier not in QUALIFIERS:
        return None
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[: -len("IfExists")]
    if base not in _BASES:
        return None
    family, comparison, negated, ignore_case = _BASES[base]
    return Operator(name, family, comparison, negated, ignore_case, if_exists, qualifier.lower() or None)


# ---------------------------------------------------------------- scalar values

def as_text(value: object) -> str:
    """A YAML scalar as the string IAM sees (`true` and "true" are the same value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_date(value: object) -> float | None:
    """ISO 8601 or epoch seconds, as a UTC timestamp (AWS: "Date and time" operators)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    epoch = parse_number(text)
    if epoch is not None:
        return float(epoch)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_network(value: object) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """An IPv4 or IPv6 CIDR block (a bare address is its own /32 or /128)."""
    if isinstance(value, bool):
        return None
    try:
        return ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        return None


def parse_address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def parse_binary(value: object) -> bytes | None:
    if isinstance(value, bool):
        return None
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_bool(value: object) -> str | None:
    text = as_text(value).lower()
    return text if text in ("true", "false") else None


PARSERS = {NUMERIC: parse_number, DATE: parse_date, IP: parse_network, BINARY: parse_binary, BOOL: parse_bool}


# ---------------------------------------------------------------- policy variables

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_REFERENCE = re.compile(r"^\s*([^\s,']+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True)
class Text:
    """Policy text: `*` and `?` in it are wildcards for Like and ARN operators."""
    text: str


@dataclass(frozen=True)
class Literal:
    """Characters that stand for themselves (an escape such as `${*}`)."""
    text: str


@dataclass(frozen=True)
class Variable:
    key: str                 # lower-cased context key
    default: str | None      # `${key, 'default'}`


Piece = Text | Literal | Variable


def split_variables(text: str) -> tuple[Piece, ...]:
    """A condition value cut into policy text, escapes and variable references."""
    pieces: list[Piece] = []
    position = 0
    for found in _VARIABLE.finditer(text):
        if found.start() > position:
            pieces.append(Text(text[position:found.start()]))
        pieces.append(_piece_of(found.group(1), found.group(0)))
        position = found.end()
    if position < len(text):
        pieces.append(Text(text[position:]))
    return tuple(pieces)


def _piece_of(inner: str, whole: str) -> Piece:
    if inner in _ESCAPES:
        return Literal(_ESCAPES[inner])
    reference = _REFERENCE.match(inner)
    if reference is None:
        return Text(whole)
    default = reference.group(2)
    return Variable(reference.group(1).lower(), None if default is None else default.replace("''", "'"))
