"""What each intended principal needs on a key.

A user: the use actions its identity policies request on the key (SAM policy templates
included) and whether it asks for kms:CreateGrant; a template identity whose identity
policies request none, and a principal outside the template (whose IAM policies are not
known), have only what the current key policy allows them to go by. An administrator:
the management and read actions the key supports that it has now, never more (all of
them for one the current policy gives none).
"""

from __future__ import annotations

from .. import catalog
from .policy import admin_actions, supported_use


def requested_use(input_doc: dict, key: dict, sid: str) -> tuple[set[str], bool, str]:
    """(use actions, asks for grants, where that was read)."""
    supported = supported_use(key)
    if sid.startswith("identity:"):
        identity = input_doc["identities"].get(sid.split(":", 1)[1]) or {}
        actions: set[str] = set()
        grants = False
        for st in identity.get("statements", []):
            resources = st.get("resources") or {}
            if st["effect"] != "Allow" or not (resources.get("any_key") or key["id"] in resources.get("keys", [])):
                continue
            actions |= set((st.get("classes") or {}).get("use", [])) & supported
            grants = grants or "kms:CreateGrant" in st["actions"]
        owner = identity.get("owner") or identity.get("id")
        if actions:
            return actions, grants, f"the use actions {owner}'s identity policies request on {key['id']}"
        actions, grants = allowed_now(key, sid, supported)
        return actions, grants, (f"{owner}'s identity policies request no use of {key['id']}: the use actions "
                                 "the current key policy allows it")
    actions, grants = allowed_now(key, sid, supported)
    return actions, grants, ("outside the template, so its IAM policies are not known: the use actions "
                             "the current key policy allows it")


def allowed_now(key: dict, sid: str, supported: set[str]) -> tuple[set[str], bool]:
    bits = catalog.key_action_bits()
    allowed = (key.get("access") or {}).get(sid, {}).get("allowed", 0)
    actions = {a for a, bit in bits.items() if allowed & bit and a in supported}
    grants = any(p["id"] == sid for st in key["statements"] if st["effect"] == "Allow"
                 and "kms:CreateGrant" in st["actions"] and st["condition"].get("grant_for_aws_resource")
                 for p in st.get("principals") or [])
    return actions, grants


def administrator_actions(key: dict, sid: str) -> list[str]:
    every = admin_actions(key)
    bits = catalog.key_action_bits()
    allowed = (key.get("access") or {}).get(sid, {}).get("allowed", 0)
    return [a for a in every if allowed & bits.get(a, 0)] or every
