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


def ecosystem_suppressions(kid: str, metadata: Any) -> list[dict]:
    if not isinstance(metadata, dict):
        return []
    out = []
    cfn_nag = metadata.get("cfn_nag")
    items = cfn_nag.get("rules_to_suppress") if isinstance(cfn_nag, dict) else None
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict):
            out += _mapped("cfn_nag", item.get("id"), item.get("reason"),
                           pointer("Resources", kid, "Metadata", "cfn_nag", "rules_to_suppress", i))
    checkov = metadata.get("checkov")
    items = checkov.get("skip") if isinstance(checkov, dict) else None
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict):
            out += _mapped("checkov", item.get("id"), item.get("comment"),
                           pointer("Resources", kid, "Metadata", "checkov", "skip", i))
    return out


def _mapped(tool: str, tool_id: Any, reason: Any, path: str) -> list[dict]:
    rule = EQUIVALENT_RULES.get((tool, tool_id))
    if rule is None:
        return []
    text = reason.strip() if isinstance(reason, str) and reason.strip() else f"suppressed as {tool} {tool_id}"
    return [{"rule": rule, "reason": text, "path": path, "source": f"{tool}:{tool_id}"}]
