"""Principals in canonical form (DESIGN.md "Principals").

`account` is the whole account (the `:root` ARN or a bare 12-digit ID), never the root user.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .intrinsics import IntrinsicError, Resolver, Sym, SymStr, describe, literal, render
from .policy_validity import principal_problem
from .sourcemap import escape_token

ACCOUNT_ID = re.compile(r"^\d{12}$")
PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
MAX_PRINCIPALS_PER_STATEMENT = 100
"""Most principal values one Principal/NotPrincipal element may list (all types together)."""

# (kind, name as SymStr, resource logical id or None) -> identity logical id or None
IdentityLinker = Callable[[str, SymStr, str | None], str | None]


class PrincipalError(ValueError):
    pass


def split_symbolic(value: SymStr, separator: str) -> list[SymStr]:
    """Split a symbolic string on a literal separator; symbols never contain it."""
    segments: list[list] = [[]]
    for piece in value:
        if isinstance(piece, Sym):
            segments[-1].append(piece)
            continue
        parts = piece.split(separator)
        for i, text in enumerate(parts):
            if i:
                segments.append([])
            if text:
                segments[-1].append(text)
    return [tuple(s) for s in segments]


def account_of(segment: SymStr) -> str:
    text = literal(segment)
    if text is not None:
        if ACCOUNT_ID.match(text) or text == "*":
            return text
        return "unknown"
    if len(segment) == 1 and isinstance(segment[0], Sym):
        sym = segment[0]
        if sym.kind == "account":
            return "self"
        if sym.kind == "param":
            return f"param:{sym.value}"
    return "unknown"


def _principal(kind: str, account: str, name: str, raw: str, path: str,
               identity: str | None = None) -> dict:
    if identity:
        pid = f"identity:{identity}"
    elif kind == "any":
        pid = "*"
    elif kind == "account":
        pid = f"account:{account}"
    elif kind in ("service", "federated", "canonical-user"):
        pid = f"{kind}:{name}"
    elif kind == "unknown":
        pid = f"unknown:{raw}"
    else:
        pid = f"{kind}:{account}:{name}"
    return {"id": pid, "kind": kind, "account": account, "name": name, "raw": raw,
            "path": path, "identity": identity}


def from_aws_value(value: SymStr, path: str, link: IdentityLinker) -> dict:
    raw = render(value)
    text = literal(value)
    if text is not None:
        if text == "*":
            return _principal("any", "*", "*", raw, path)
        if ACCOUNT_ID.match(text):
            return _principal("account", text, "root", raw, path)
        if not text.startswith("arn:"):
            raise PrincipalError(f"'{text}' is not a valid AWS principal (an ARN, an account ID or \"*\")")
    if len(value) == 1 and isinstance(value[0], Sym):
        sym = value[0]
        if sym.kind == "account":
            return _principal("account", "self", "root", raw, path)
        if sym.kind == "getatt":
            resource, _, attribute = sym.value.partition(".")
            identity = link("getatt", value, resource) if attribute == "Arn" else None
            if identity:
                return _principal("role", "self", resource, raw, path, identity)
        return _principal("unknown", "unknown", raw, raw, path)
    segments = split_symbolic(value, ":")
    if literal(segments[0]) == "arn" and len(segments) < 6:
        raise PrincipalError(f"'{raw}' is not a valid principal ARN (arn:partition:service::account:resource)")
    if len(segments) < 6 or literal(segments[0]) != "arn":
        return _principal("unknown", "unknown", raw, raw, path)
    service = literal(segments[2])
    account = account_of(segments[4])
    resource = tuple(p for seg_i, seg in enumerate(segments[5:]) for p in ((":",) if seg_i else ()) + seg)
    resource_text = literal(resource)
    if resource_text == "root":
        return _principal("account", account, "root", raw, path)
    kind_part = split_symbolic(resource, "/")
    kind = literal(kind_part[0]) if kind_part else None
    if service == "iam" and kind in ("role", "user") and len(kind_part) >= 2:
        name = kind_part[-1]
        identity = link(kind, name, None) if account in ("self",) else None
        return _principal(kind, account, render(name), raw, path, identity)
    if service == "sts" and kind == "assumed-role" and len(kind_part) >= 3:
        role = kind_part[1]
        identity = link("role", role, None) if account == "self" else None
        return _principal("assumed-role", account, render(role), raw, path, identity)
    if service == "sts" and kind == "federated-user":
        return _principal("federated", account, render(kind_part[-1]), raw, path)
    return _principal("unknown", account, raw, raw, path)


def parse_principal_element(element: Any, path: str, resolver: Resolver, link: IdentityLinker
                            ) -> tuple[list[dict], list[tuple[str, str]], list[tuple[str, str]]]:
    """A Principal/NotPrincipal element → canonical principals, (pointer, problem) pairs for
    what cannot be read, and (pointer, reason) pairs for principals KMS refuses (left out)."""
    principals: list[dict] = []
    problems: list[tuple[str, str]] = []
    refused: list[tuple[str, str]] = []
    if element == "*":
        return [_principal("any", "*", "*", "*", path)], problems, refused
    if not isinstance(element, dict) or not element:
        return [], [(path, "Principal must be \"*\" or a mapping of AWS/Service/Federated principals")], refused
    typed = {ptype: resolver.items(values) for ptype, values in element.items()}
    count = sum(len(items) for items in typed.values())
    if count > MAX_PRINCIPALS_PER_STATEMENT:
        return [], [(path, f"statement lists {count:,} principals, more than the limit of "
                           f"{MAX_PRINCIPALS_PER_STATEMENT} (MAX_PRINCIPALS_PER_STATEMENT)")], refused
    for ptype, items in typed.items():
        type_path = f"{path}/{escape_token(ptype)}"
        if ptype not in PRINCIPAL_TYPES:
            problems.append((type_path, f"unknown principal type '{ptype}' (expected one of "
                                        f"{', '.join(PRINCIPAL_TYPES)})"))
            continue
        for item, suffix in items:
            item_path = type_path + suffix
            if not isinstance(item, str | dict):
                problems.append((item_path, f"{ptype} principal must be a string, got "
                                            f"{describe(item)}"))
                continue
            try:
                alternatives = resolver.strings(item)
            except IntrinsicError as exc:
                problems.append((item_path, f"principal {exc}"))
                continue
            for alt in alternatives:
                reason = principal_problem(ptype, alt)
                if reason is not None:
                    refused.append((item_path, reason))
                    continue
                try:
                    principals.append(_typed_principal(ptype, alt, item_path, link))
                except PrincipalError as exc:
                    problems.append((item_path, str(exc)))
    return principals, problems, refused


def _typed_principal(ptype: str, value: SymStr, path: str, link: IdentityLinker) -> dict:
    raw = render(value)
    if ptype == "AWS":
        return from_aws_value(value, path, link)
    if ptype == "Service":
        text = literal(value)
        if text is None:  # e.g. logs.${AWS::Region}.amazonaws.com: still a service
            return _principal("service", "", raw.lower(), raw, path)
        if text == "*":
            return _principal("any", "*", "*", raw, path)
        return _principal("service", "", text.lower(), raw, path)
    if ptype == "Federated":
        return _principal("federated", "", raw, raw, path)
    return _principal("canonical-user", "", raw, raw, path)
