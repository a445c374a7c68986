"""What a statement's Condition block means for access (KMS-SEMANTICS.md §3, §4)."""

from __future__ import annotations

from typing import Any

CALLER_KEYS = {
    "aws:principalarn", "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths",
    "kms:calleraccount", "aws:sourceaccount", "aws:sourcearn", "aws:sourceowner",
    "aws:userid", "aws:username", "aws:sourcevpce", "aws:sourcevpc", "aws:principalservicename",
}
SERVICE_SCOPE_KEYS = {"aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "kms:viaservice"}
NEGATED_OPERATOR_MARKERS = ("not", "ifexists")


def _operator_is_positive(operator: str) -> bool:
    base = operator.split(":")[-1].lower()
    return "not" not in base and base != "null"


def _values(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _is_wildcard(value: Any) -> bool:
    return isinstance(value, str) and value.strip("*?") == ""


ACCOUNT_KEYS = {"aws:sourceaccount", "aws:sourceowner", "kms:calleraccount", "aws:principalaccount"}
ARN_KEYS = {"aws:sourcearn", "aws:principalarn"}


def _too_broad(key: str, value: Any) -> bool:
    """A value that admits any account: `*`, a wildcard account ID, or an ARN whose account
    part is a wildcard (`arn:aws:logs:*:*:*` is every account's log groups)."""
    if _is_wildcard(value):
        return True
    if not isinstance(value, str):
        return False
    if key in ACCOUNT_KEYS:
        return any(c in value for c in "*?")
    if key in ARN_KEYS:
        parts = value.split(":", 5)
        if len(parts) < 6:
            return True
        account = parts[4]  # empty in S3 ARNs, whose bucket names are global
        return any(c in account for c in "*?") or (account == "" and parts[2] != "s3")
    return False


def classify(condition: Any) -> dict:
    """Summarize a Condition block; unknown shapes count as conditional and restricting nothing."""
    summary = {
        "present": bool(condition),
        "keys": [],
        "caller_restricted": False,
        "root_only": False,
        "grant_for_aws_resource": False,
        "grant_operations": None,
        "service_scoped": False,
        "encryption_context": False,
    }
    if not isinstance(condition, dict):
        return summary
    keys: set[str] = set()
    for operator, block in condition.items():
        if not isinstance(operator, str) or not isinstance(block, dict):
            continue
        positive = _operator_is_positive(operator)
        for key, value in block.items():
            if not isinstance(key, str):
                continue
            lowered = key.lower()
            keys.add(lowered)
            values = _values(value)
            meaningful = positive and not any(_too_broad(lowered, v) for v in values)
            if lowered in CALLER_KEYS and meaningful:
                summary["caller_restricted"] = True
            if lowered in SERVICE_SCOPE_KEYS and meaningful:
                summary["service_scoped"] = True
            if lowered.startswith("kms:encryptioncontext") and positive:
                summary["encryption_context"] = True
            if lowered == "aws:principalarn" and meaningful and all(_names_root_user(v) for v in values):
                summary["root_only"] = True
            if lowered == "kms:grantisforawsresource" and positive and \
                    any(str(v).lower() == "true" for v in values):
                summary["grant_for_aws_resource"] = True
            if lowered == "kms:grantoperations" and positive and operator.lower().startswith("forallvalues"):
                ops = [v for v in values if isinstance(v, str)]
                summary["grant_operations"] = ops
    summary["keys"] = sorted(keys)
    return summary


def _names_root_user(value: Any) -> bool:
    """An aws:PrincipalArn value that is exactly an account's root user (strings or !Sub)."""
    if isinstance(value, dict) and len(value) == 1:
        inner = next(iter(value.values()))
        if isinstance(inner, list) and inner:
            inner = inner[0]
        if isinstance(inner, list):
            inner = "".join(x for x in inner if isinstance(x, str))
        value = inner
    return isinstance(value, str) and value.endswith(":root") and "*" not in value
