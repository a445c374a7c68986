"""The raw template properties organization rules ask for, in the input as `raw` (schema v2).

Keys: logical id, type, Description, Tags, the AWS::KMS::Alias resources whose TargetKeyId
is the key. Roles, users and groups: logical id, type, name (RoleName/UserName/GroupName)
and Path. Only these: regopy's cost grows with the input (docs/performance.md).

A value is the string it resolves to (parameters and their defaults included), null when
the property is absent, or `{"unknown": "<the value as written>"}` when an intrinsic leaves
it open until deployment (a parameter without a value, a Fn::If whose branches differ, an
attribute of another resource).
"""

from __future__ import annotations

from typing import Any

from .identity_policies import NAME_PROPERTIES
from .intrinsics import IntrinsicError, Resolver, Sym, literal, render

ALIAS_TYPE = "AWS::KMS::Alias"
IMPLICIT_ROLE_TYPE = "AWS::IAM::Role"


def raw_value(value: Any, resolver: Resolver) -> str | dict | None:
    """One property: its single deployed string, None when absent, else an unknown marker."""
    if value is None:
        return None
    try:
        alternatives = resolver.strings(value)
    except IntrinsicError:
        return {"unknown": "a value that is not a string"}
    texts = {literal(alt) for alt in alternatives}
    if len(texts) == 1 and None not in texts:
        return texts.pop()
    if not alternatives:
        return None  # AWS::NoValue: the property is left out
    return {"unknown": " | ".join(sorted({render(alt) for alt in alternatives}))}


def raw_tags(value: Any, resolver: Resolver) -> list[dict] | dict:
    """Tags as [{"key", "value"}] (each a raw value); an unknown marker when the list itself
    is built by an intrinsic."""
    if value is None:
        return []
    if not isinstance(value, list):
        return {"unknown": "Tags built by an intrinsic function"}
    out = []
    for item, _ in resolver.items(value):
        if isinstance(item, dict) and "Key" in item:
            out.append({"key": raw_value(item["Key"], resolver), "value": raw_value(item.get("Value"), resolver)})
        else:
            out.append({"key": {"unknown": "a tag built by an intrinsic function"}, "value": None})
    return out


def key_aliases(resources: dict, resolver: Resolver, key_ids: list[str]) -> dict[str, list[dict]]:
    """{key id: [{"id", "name"}]}: the alias resources whose TargetKeyId may be that key."""
    found: dict[str, list[dict]] = {kid: [] for kid in key_ids}
    for rid, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != ALIAS_TYPE:
            continue
        props = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
        for kid in sorted(_targets(props.get("TargetKeyId"), resolver) & set(key_ids)):
            found[kid].append({"id": rid, "name": raw_value(props.get("AliasName"), resolver)})
    return found


def _targets(value: Any, resolver: Resolver) -> set[str]:
    """The template resources a TargetKeyId refers to (Ref, or GetAtt Arn/KeyId)."""
    if value is None:
        return set()
    try:
        alternatives = resolver.strings(value)
    except IntrinsicError:
        return set()
    return {piece.value.partition(".")[0] for alt in alternatives for piece in alt
            if isinstance(piece, Sym) and piece.kind in ("ref", "getatt")}


def key_raw(kid: str, resource: dict, props: dict, resolver: Resolver, aliases: list[dict]) -> dict:
    return {"logical_id": kid, "type": resource["Type"],
            "description": raw_value(props.get("Description"), resolver),
            "tags": raw_tags(props.get("Tags"), resolver), "aliases": aliases}


def identity_raw(identity: dict, resources: dict, resolver: Resolver) -> dict:
    """An identity's raw properties; a SAM function's implicit role has the name SAM
    generates (null) and its RolePath as the normalizer read it."""
    iid = identity["id"]
    resource = resources.get(iid)
    if identity.get("owner") is not None and not isinstance(resource, dict):
        path = identity["iam_path"] if identity["iam_path"] is not None else {"unknown": "RolePath"}
        return {"logical_id": iid, "type": IMPLICIT_ROLE_TYPE, "name": None, "path": path}
    props = resource.get("Properties") if isinstance(resource, dict) and \
        isinstance(resource.get("Properties"), dict) else {}
    path = raw_value(props.get("Path"), resolver)
    return {"logical_id": iid, "type": resource.get("Type") if isinstance(resource, dict) else None,
            "name": raw_value(props.get(NAME_PROPERTIES[identity["kind"]]), resolver),
            "path": "/" if path is None else path}
