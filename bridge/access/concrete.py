"""Template values made concrete for condition evaluation.

A condition compares request facts with strings; values the template fixes only at deploy
time become stable stand-ins: the stack's own account, region and name are tokens that
equal themselves and no literal, a role's ARN is its real ARN when the template names the
role and CloudFormation's generated form otherwise. A value the template does not
determine (a parameter without a value, an import) is `None`: unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..intrinsics import Sym, SymStr

SELF_ACCOUNT = "000000000000"
"""The stack's own account: all zeros is no real account, so it equals no literal."""
REGION = "stack-region"
STACK = "stack-name"
GENERATED = "GENERATEDID"
ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}")  # an AWS Organizations ID

# logical id -> the concrete ARN (".Arn") or name ("Ref") of a template resource, or None
Namer = Callable[[str, str], str | None]


def identity_arn(kind: str, logical_id: str, name: str | None, path: str = "/") -> str:
    """The ARN of a template role or user; CloudFormation names an unnamed one
    `<stack>-<logical id>-<random>`."""
    path = path if path.startswith("/") and path.endswith("/") else "/"
    shown = name if name is not None else generated_name(logical_id)
    return f"arn:aws:iam::{SELF_ACCOUNT}:{kind}{path}{shown}"


def generated_name(logical_id: str) -> str:
    return f"{STACK}-{logical_id}-{GENERATED}"


def generated_name_space(kind: str, logical_id: str, path: str = "/") -> str:
    """Every ARN CloudFormation could give an unnamed template role or user, as a glob: the
    names `<stack>-<logical id>-*` are the stack's, not another principal's."""
    path = path if path.startswith("/") and path.endswith("/") else "/"
    return f"arn:aws:iam::{SELF_ACCOUNT}:{kind}{path}{STACK}-{logical_id}-*"


def key_arn(key_id: str) -> str:
    return f"arn:aws:kms:{REGION}:{SELF_ACCOUNT}:key/{key_id_of(key_id)}"


def key_id_of(key_id: str) -> str:
    return f"{key_id}-{GENERATED}"


def concrete(value: SymStr, namer: Namer, own_accounts: frozenset[str] = frozenset()) -> str | None:
    """One alternative of a string as the text a request would be compared with."""
    out = []
    for piece in value:
        if isinstance(piece, str):
            for account in own_accounts:
                piece = piece.replace(account, SELF_ACCOUNT)
            out.append(piece)
            continue
        text = _symbol(piece, namer)
        if text is None:
            return None
        out.append(text)
    return "".join(out)


def _symbol(sym: Sym, namer: Namer) -> str | None:
    if sym.kind == "account":
        return SELF_ACCOUNT
    if sym.kind == "region":
        return REGION
    if sym.kind == "stack":
        return STACK
    if sym.kind == "ref":
        return namer(sym.value, "Ref")
    if sym.kind == "getatt":
        resource, _, attribute = sym.value.partition(".")
        return namer(resource, attribute)
    return None


def condition_values(condition: object, strings: Callable, namer: Namer,
                     own_accounts: frozenset[str] = frozenset(), string_list: Callable | None = None) -> dict | None:
    """A Condition block with every value concrete (`strings` resolves a value to its
    alternatives, `string_list` a list-valued one to its items); a value with several
    deployable alternatives is unknown (None)."""
    if not isinstance(condition, dict):
        return None
    out: dict = {}
    for operator, block in condition.items():
        if not isinstance(block, dict):
            out[operator] = block
            continue
        out[operator] = {key: _values(value, strings, namer, own_accounts, string_list)
                         for key, value in block.items()}
    return out


def _values(value: object, strings: Callable, namer: Namer, own_accounts: frozenset[str],
            string_list: Callable | None = None) -> list:
    items = value if isinstance(value, list) else [value]
    if string_list is not None:
        items = [part for item in items for part in (string_list(item) or [item])]
    out = []
    for item in items:
        if isinstance(item, bool | int | float) or item is None:
            out.append(item)
            continue
        try:
            alternatives = {concrete(alt, namer, own_accounts) for alt in strings(item)}
        except ValueError:
            alternatives = {None}
        out.append(alternatives.pop() if len(alternatives) == 1 else None)
    return out
