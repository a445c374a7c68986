"""What CreateKey and PutKeyPolicy refuse in a key policy, one message each (rule KP021).

Sources (docs/rules/KP021.md has the list): the KMS Developer Guide ("Key policy format",
"Elements in a key policy"), the KMS API reference (PutKeyPolicy: "The principals in the
key policy must exist and be visible to KMS"), the IAM JSON policy reference (Version,
Principal: "You cannot use a wildcard to match part of a principal name or ARN"; user
groups are not principals) and AWS's 2025 notice that KMS rejects key-policy statements
without Action/NotAction or Resource and accepts only "*" as Resource.

A value built by an intrinsic is judged only on the literal text it is sure to contain:
what might be valid once deployed is never reported (unknown is not invalid).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .intrinsics import Sym, SymStr, is_intrinsic, literal, render

MAX_KEY_POLICY_BYTES = 32_768
"""KMS resource quota "Key policy document size" (not adjustable)."""
VERSIONS = ("2012-10-17", "2008-10-17")

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_PARTITION = re.compile(r"^aws(-[a-z]+)*$")
_SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*\.[a-z0-9.-]*[a-z0-9]$", re.IGNORECASE)
_COLON_FREE = ("account", "region")
"""Symbols whose deployed value has no colon (AWS::AccountId, AWS::Region)."""
_IAM_PRINCIPAL_RESOURCES = ("user", "role")
_STS_PRINCIPAL_RESOURCES = ("assumed-role", "federated-user")


def version_problem(document: dict) -> str | None:
    """Why the policy's Version is refused; None when absent, valid or not literal."""
    version = document.get("Version")
    if isinstance(version, str) and version not in VERSIONS:
        return f"Version must be 2012-10-17 (or the older 2008-10-17), got {version!r}"
    return None


def size_problem(document: Any) -> str | None:
    """Why the policy is over the size quota: judged on the least it can serialize to."""
    try:
        if _json_size(document) <= MAX_KEY_POLICY_BYTES:  # the least is never more
            return None
    except (TypeError, ValueError):
        pass
    size = _least_size(document)
    if size is not None and size > MAX_KEY_POLICY_BYTES:
        return (f"the key policy is at least {size:,} bytes, over KMS's limit of "
                f"{MAX_KEY_POLICY_BYTES:,} bytes (32 KB)")
    return None


def _least_size(value: Any) -> int | None:
    """Characters in the compact JSON `value` serializes to at the least; None when the
    value may vanish (AWS::NoValue through an intrinsic)."""
    if isinstance(value, dict):
        if is_intrinsic(value):
            return _least_intrinsic_size(value)
        parts = [(_json_size(k), _least_size(v)) for k, v in value.items()]
        kept = [k + 1 + v for k, v in parts if v is not None]
        return 2 + sum(kept) + max(len(kept) - 1, 0)
    if isinstance(value, list):
        kept = [s for s in (_least_size(item) for item in value) if s is not None]
        return 2 + sum(kept) + max(len(kept) - 1, 0)
    return _json_size(value)


def _least_intrinsic_size(value: dict) -> int | None:
    (fn, arg), = value.items()
    if fn == "Fn::Sub":
        text = arg if isinstance(arg, str) else (arg[0] if isinstance(arg, list) and arg and
                                                 isinstance(arg[0], str) else "")
        return _json_size(re.sub(r"\$\{[^}]*\}", "", text))
    return None


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def resource_problem(statement: dict, values: list[SymStr]) -> str | None:
    """Why a key-policy statement's Resource is refused (`values`: its resolved items)."""
    if "Resource" not in statement and "NotResource" not in statement:
        return "a key-policy statement must have a Resource (\"*\", this key)"
    if "Resource" not in statement:
        return None
    for value in values:
        if not _may_be_star(value):
            return (f"Resource '{_shown(value)}' is not \"*\": KMS accepts only \"*\" (this key) "
                    "as the Resource of a key-policy statement")
    return None


def _may_be_star(value: SymStr) -> bool:
    """Whether a value can deploy as "*": its literal text is "*" or nothing, around symbols
    that might supply the rest."""
    text = "".join(p for p in value if isinstance(p, str))
    return text in ("*", "") and (text == "*" or any(isinstance(p, Sym) for p in value))


def principal_problem(principal_type: str, value: SymStr) -> str | None:
    """Why KMS refuses one principal value of a key policy; None when it may be valid."""
    if principal_type == "AWS":
        return _aws_principal_problem(value)
    if principal_type == "Service":
        return _service_principal_problem(value)
    return None


def _aws_principal_problem(value: SymStr) -> str | None:
    text = literal(value)
    if text is not None and (text == "*" or _ACCOUNT_ID.match(text)):
        return None
    if text is not None and not text.startswith("arn:"):
        if text.isdigit():
            return f"'{text}' is not an AWS account ID (12 digits)"
        return f"'{text}' is not a principal (an ARN, a 12-digit account ID or \"*\")"
    if len(value) == 1 and isinstance(value[0], Sym):
        return None  # a Ref or GetAtt: whatever it yields
    if any(isinstance(p, str) and ("*" in p or "?" in p) for p in value):
        return (f"'{_shown(value)}' has a wildcard, which a principal ARN cannot contain (\"*\" is a "
                "principal only on its own; match many principals with a condition on aws:PrincipalArn)")
    fields = _arn_fields(value)
    if fields is None:
        return None
    if len(fields) < 6:
        return f"'{_shown(value)}' is not a principal ARN (arn:partition:iam::account:resource)"
    return _arn_field_problem(value, fields)


def _arn_fields(value: SymStr) -> list[str | None] | None:
    """The ARN's colon-separated fields, None for a field a symbol is part of; None when
    the value does not start as an ARN or a symbol may hold colons (fields unknown)."""
    fields: list[list] = [[]]
    for piece in value:
        if isinstance(piece, Sym) and piece.kind not in _COLON_FREE:
            return None
        if isinstance(piece, Sym):
            fields[-1].append(piece)
            continue
        for i, text in enumerate(piece.split(":")):
            if i:
                fields.append([])
            fields[-1].append(text)
    out = [None if any(isinstance(p, Sym) for p in f) else "".join(f) for f in fields]
    head = out[0] if out else None
    return out if head == "arn" else None


def _arn_field_problem(value: SymStr, fields: list[str | None]) -> str | None:
    shown = _shown(value)
    partition, service, region, account = fields[1:5]
    resource = ":".join(f for f in fields[5:] if f is not None) if all(
        f is not None for f in fields[5:]) else None
    if partition is not None and not _PARTITION.match(partition):
        return f"'{shown}' has no AWS partition ({partition!r})"
    if service is not None and service not in ("iam", "sts"):
        return f"'{shown}' is not an IAM or STS principal ARN (service {service!r})"
    if region is not None and region != "":
        return f"'{shown}' has a Region ({region!r}); principal ARNs have none"
    if account is not None and "${" in account:
        return f"'{shown}' has the account {account!r}: a variable outside Fn::Sub is not substituted"
    if account is not None and not _ACCOUNT_ID.match(account) and not _cloudfront(account, resource):
        return f"'{shown}' has the account {account!r}, not a 12-digit account ID"
    if resource is None or service is None:
        return None
    kind, _, name = resource.partition("/")
    if service == "iam" and resource != "root" and (kind not in _IAM_PRINCIPAL_RESOURCES or not name):
        if kind == "group":
            return f"'{shown}' is an IAM group: groups cannot be principals"
        return f"'{shown}' is not a principal (iam ARNs name root, a user or a role)"
    if service == "sts" and (kind not in _STS_PRINCIPAL_RESOURCES or not name):
        return f"'{shown}' is not a principal (sts ARNs name an assumed-role session or a federated user)"
    return None


def _cloudfront(account: str, resource: str | None) -> bool:
    """CloudFront origin access identities: arn:aws:iam::cloudfront:user/CloudFront …"""
    return account == "cloudfront" and (resource is None or resource.startswith("user/"))


def _service_principal_problem(value: SymStr) -> str | None:
    text = literal(value)
    if text is None or text == "*":
        return None
    if not _SERVICE_NAME.match(text):
        return f"'{text}' is not a service principal (a name like lambda.amazonaws.com)"
    return None


def _shown(value: SymStr) -> str:
    return render(value)
