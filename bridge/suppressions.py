"""In-template suppressions: kmspolicy's own, and the ecosystem's where they mean the same.

`Metadata.cfn_nag.rules_to_suppress` (F76 wildcard principal, F19 rotation),
`Metadata.checkov.skip` (CKV_AWS_33 wildcard principal, CKV_AWS_7 rotation) and
`Metadata.cdk_nag.rules_to_suppress` (the rotation rule of each cdk-nag pack:
AwsSolutions-KMS5, `<pack>-KMSBackingKeyRotationEnabled`) suppress the kmspolicy rule that
makes the same check. cdk-nag's suppressions count as cdk-nag applies them: on the key, or
on the whole stack (the template's own `Metadata`, `NagSuppressions.addStackSuppressions`);
a reason it base64-encoded (`is_reason_encoded`) is decoded; one with `applies_to` names
findings of a granular rule, and kmspolicy's rules are not those, so it suppresses nothing.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from .statements import pointer

EQUIVALENT_RULES = {
    ("cfn_nag", "F76"): "KP005",
    ("cfn_nag", "F19"): "KP011",
    ("checkov", "CKV_AWS_33"): "KP005",
    ("checkov", "CKV_AWS_7"): "KP011",
    ("cdk_nag", "AwsSolutions-KMS5"): "KP011",
    **{("cdk_nag", f"{pack}-KMSBackingKeyRotationEnabled"): "KP011"
       for pack in ("HIPAA.Security", "NIST.800.53.R4", "NIST.800.53.R5", "PCI.DSS.321", "AwsPrototyping")},
}


# Where each tool keeps its suppressions: (tool, list field, reason field).
TOOL_FIELDS = (("cfn_nag", "rules_to_suppress", "reason"), ("checkov", "skip", "comment"),
               ("cdk_nag", "rules_to_suppress", "reason"))


def ecosystem_suppressions(kid: str, metadata: Any, template_metadata: Any = None) -> list[dict]:
    """The suppressions of the key `kid` (its `Metadata`), and cdk-nag's stack-wide ones
    (the template's `Metadata`)."""
    out = _tool_suppressions(metadata, ("Resources", kid, "Metadata"), TOOL_FIELDS)
    return out + _tool_suppressions(template_metadata, ("Metadata",), TOOL_FIELDS[2:])


def _tool_suppressions(metadata: Any, where: tuple[str, ...], tools: tuple) -> list[dict]:
    if not isinstance(metadata, dict):
        return []
    out = []
    for tool, list_field, reason_field in tools:
        block = metadata.get(tool)
        items = block.get(list_field) if isinstance(block, dict) else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict) or (tool == "cdk_nag" and item.get("applies_to") is not None):
                continue
            reason = item.get(reason_field)
            if tool == "cdk_nag" and item.get("is_reason_encoded") is True:
                reason = _decoded(reason)
            out += _mapped(tool, item.get("id"), reason, pointer(*where, tool, list_field, i))
    return out


def _decoded(reason: Any) -> str | None:
    """A reason cdk-nag stored in base64 (it does so for any character above U+00FF)."""
    try:
        return base64.b64decode(reason, validate=True).decode("utf-8") if isinstance(reason, str) else None
    except (binascii.Error, UnicodeDecodeError):
        return None


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
