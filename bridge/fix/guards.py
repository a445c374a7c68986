"""What stops a fix before it is written, and what of the old policy it keeps as written.

Refusals say why, and the fix writes no patch: an intended principal that could not be
resolved; with an inferred intent, a principal the old policy allows that could not be
resolved, another account's principal, or `*` narrowed to certain callers (whether they
are meant to use the key is not inferred); a KeyPolicy whose statements differ between
deployable variants (Fn::If). Kept as written: every Deny (dropping one could only widen
access) and every Allow to AWS services or service-linked roles.
"""

from __future__ import annotations

from typing import Any

from ..sourcemap import escape_token
from .naming import Naming, NamingError, node_at
from .policy import Statement


def is_service(principal: dict) -> bool:
    return principal["kind"] == "service" or ":role/aws-service-role/" in str(principal.get("raw", ""))


def first_if(value: Any, pointer: str) -> str | None:
    """The JSON pointer of the first Fn::If inside `value`."""
    if isinstance(value, dict):
        if "Fn::If" in value:
            return f"{pointer}/Fn::If"
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for token, item in items:
        found = first_if(item, f"{pointer}/{escape_token(str(token))}")
        if found is not None:
            return found
    return None


def check_resolved(key: dict, intended: list[str], inferred: bool) -> None:
    for sid in intended:
        subject = key["subjects"].get(sid) or {}
        if subject.get("kind") == "unknown" or sid.startswith("unknown"):
            shown = str(subject.get("label", sid)).removeprefix("unknown:")
            raise NamingError(f"intended principal {shown} could not be resolved (an imported value or a "
                              "parameter without a value), so it cannot be named in the key policy: give it "
                              "by its ARN (or the parameter a value with --parameter)")
    if not inferred:
        return
    for st in key["statements"]:
        for p in st.get("principals") or []:
            if st["effect"] == "Allow" and p["kind"] == "unknown":
                raise NamingError(f"the key policy allows {p['raw']}, which could not be resolved: whether it "
                                  "is meant to administer or use the key is not known (give its parameter a "
                                  "value, or declare the intent in Metadata.kmspolicy or with --admin/--user)")


def check_others(key: dict, intended: set[str], own_accounts: set[str]) -> None:
    """With an inferred intent, another account's access is not dropped silently."""
    own = own_accounts | {"self"}
    for st in key["statements"]:
        if st["effect"] != "Allow" or st["principal_mode"] != "Principal":
            continue
        for p in st.get("principals") or []:
            if p["kind"] == "any" and st["condition"].get("caller_restricted"):
                raise NamingError(f"statement {st['sid'] or st['index']} allows '*' narrowed by its condition to "
                                  "certain callers; whether they are meant to use the key is not inferred: "
                                  "declare the intent (Metadata.kmspolicy users, or --user) to keep or drop it")
            if p["id"] in intended or is_service(p) or p["kind"] in ("any", "unknown"):
                continue
            if p.get("account") not in own:
                raise NamingError(f"the key policy allows {p['raw']} of another account; whether it is meant "
                                  "to use the key is not inferred: declare the intent (Metadata.kmspolicy "
                                  "users, or --user) to keep or drop it")


def kept_statements(key: dict, document: dict) -> list[Statement]:
    """Denies and service statements of the old policy, as written."""
    out = []
    for st in key["statements"]:
        principals = st.get("principals") or []
        services = [p for p in principals if is_service(p)]
        if st["effect"] == "Deny":
            why = "Kept as written: a Deny of the old policy (dropping it could only widen access)."
        elif services and len(services) == len(principals) and st["principal_mode"] == "Principal":
            why = (f"Kept as written: {', '.join(p['raw'] for p in services)} (an AWS service; fix does "
                   "not narrow service statements).")
        elif services:
            raise NamingError(f"statement {st['sid'] or st['index']} gives AWS services and other principals "
                              "access together: split it first")
        else:
            continue
        out.append(Statement("kept", st["sid"], Naming(None), list(st["actions"]), [why],
                             kept=node_at(document, st["path"])))
    return out
