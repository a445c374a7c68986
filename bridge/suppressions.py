"""In-template suppressions: kmspolicy's own, and the ecosystem's where they mean the same.

`Metadata.cfn_nag.rules_to_suppress` (F76 wildcard principal, F19 rotation) and
`Metadata.checkov.skip` (CKV_AWS_33 wildcard principal, CKV_AWS_7 rotation) suppress the
kmspolicy rule that makes the same check.
"""

from __future__ import annotations

from typing import Any

from .statements import pointer

EQUIVALENT_RULES = {
    ("cfn_nag", "F76"): "KP005",
    ("cfn_nag", "F19"): "KP011",
    ("checkov", "CKV_AWS_33"): "KP005",
    ("checkov", "CKV_AWS_7"): "KP011",
}


# Where each tool keeps its suppressions: (tool, list field, reason field).
TOOL_FIELDS = (("cfn_nag", "rules_to_suppress", "reason"), ("checkov", "skip", "comment"))


def ecosystem_suppressions(kid: str, metadata: Any) -> list[dict]:
    if not isinstance(metadata, dict):
        return []
    out = []
    for tool, list_field, reason_field in TOOL_FIELDS:
        block = metadata.get(tool)
        items = block.get(list_field) if isinstance(block, dict) else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict):
                out += _mapped(tool, item.get("id"), item.get(reason_field),
                               pointer("Resources", kid, "Metadata", tool, list_field, i))
    return out


def _mapped(tool: str, tool_id: Any, reason: Any, path: str) -> list[dict]:
    rule = EQUIVALENT_RULES.get((tool, tool_id))
    if rule is None:
        return []
    text = reason.strip() if isinstance(reason, str) and reason.strip() else f"suppressed as {tool} {tool_id}"
    return [{"rule": rule, "reason": text, "path": path, "source": f"{tool}:{tool_id}"}]


def identity_suppressions(document: Any, identity: dict) -> list[dict]:
    """`Metadata.kmspolicy.suppress` of the resource an identity is defined by (a role,
    a user, or the SAM function owning an implicit role): findings on that identity (KP013)
    can be accepted there. An item without a non-empty reason has reason "" and accepts
    nothing (the pipeline reports it, as it reports one on a key)."""
    rid = identity.get("path", "").removeprefix("/Resources/")
    resources = document.get("Resources") if isinstance(document, dict) else None
    resource = resources.get(rid) if isinstance(resources, dict) else None
    metadata = resource.get("Metadata") if isinstance(resource, dict) else None
    block = metadata.get("kmspolicy") if isinstance(metadata, dict) else None
    items = block.get("suppress") if isinstance(block, dict) else None
    return [{"rule": item["rule"], "reason": reason.strip() if isinstance(reason := item.get("reason"), str) else "",
             "path": pointer("Resources", rid, "Metadata", "kmspolicy", "suppress", i), "source": "kmspolicy"}
            for i, item in enumerate(items if isinstance(items, list) else [])
            if isinstance(item, dict) and isinstance(item.get("rule"), str)]
