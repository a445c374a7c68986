"""Each key's intended administrators and users, resolved once per template: the input's
`intent_resolved` (input schema v2), which the rules read through data.kmspolicy.lib.intent.

Declared in the key's Metadata.kmspolicy block, or else inferred, exactly as lib/intent.rego
infers them (it still does, for an input without `intent_resolved`: a hand-written case):
principals a key-policy statement names that it allows management actions or
kms:PutKeyPolicy are administrators, those it allows use actions users; template identities
whose own policy asks for management on the key by name and for no use action are
administrators, those that ask for use on it (or reference it) users. A declared user is
never an inferred administrator. When the organization config lists administrator
patterns (`admins`) and the key declares none, the patterns decide, with OPA's glob: then
`admins` is left out and the lib matches them (tests/test_key_intent.py holds the two
equal). Computed here, the regopy engine is spared about a tenth of its work."""

from __future__ import annotations

from typing import Any

from . import catalog
from .access.statements import stored_mask

_NOT_NAMED = frozenset({"account", "any", "service", "unknown"})


def _administering() -> int:
    """Management actions or kms:PutKeyPolicy: what makes an administrator."""
    return catalog.class_mask("manage") | catalog.action_mask(["kms:PutKeyPolicy"])


def resolve(input_doc: dict, config: dict | None = None) -> dict:
    """Add `intent_resolved` to every key of `input_doc` (as the bridge writes it); returns it."""
    identities = input_doc.get("identities") or {}
    for key in input_doc.get("keys", {}).values():
        key["intent_resolved"] = resolved(key, identities, config)
    return input_doc


def resolved(key: dict, identities: dict, config: dict | None = None) -> dict:
    """One key's `intent_resolved`. Raises KeyError or TypeError on a key or identity
    without the fields the bridge always writes."""
    use, administering = catalog.class_mask("use"), _administering()
    config_patterns = bool((config or {}).get("admins"))
    declared = key["intent"]
    kid = key["id"]
    declared_users, declared_admins = _list(declared["users"]), _list(declared["admins"])
    asks_to_use, asks_to_manage = _identities_asking(kid, identities, use, administering)
    referencing = {f"identity:{iid}" for iid in _list(key["referenced_by"])}
    users = set(declared_users) or (_named_by(key, use) | referencing)
    resolved: dict[str, Any] = {"users": sorted(users), "intended_users": sorted(users | asks_to_use)}
    if declared_admins:
        resolved["admins"] = sorted(set(declared_admins))
    elif not config_patterns:
        inferred = _named_by(key, administering) | (asks_to_manage - asks_to_use)
        resolved["admins"] = sorted(inferred - set(declared_users))
    return resolved


def _named_by(key: dict, mask: int) -> set[str]:
    """The principals that Allow statements of the key policy granting some of `mask` name:
    not an account, everyone, a service or an unresolved principal, nor a service-linked role."""
    return {p["id"] for st in _list(key["statements"])
            if st["effect"] == "Allow" and stored_mask(st) & mask and st["principal_mode"] == "Principal"
            for p in _list(st["principals"]) if p.get("kind") not in _NOT_NAMED and not service_linked(p)}


def service_linked(principal: dict) -> bool:
    """An AWS service-linked role (lib/intent.rego's `service_linked`)."""
    text = principal["raw"] if "raw" in principal else principal.get("label", "")
    return isinstance(text, str) and ":role/aws-service-role/" in text


def _identities_asking(kid: str, identities: dict, use_mask: int, administering: int) -> tuple[set[str], set[str]]:
    """(template identities whose Allow statements name the key and ask for use on it, those
    that ask for management or kms:PutKeyPolicy on it)."""
    use, manage = set(), set()
    for iid, identity in identities.items():
        for st in _list(identity["statements"]):
            resources = st.get("resources")
            if st["effect"] != "Allow" or not _names_key(resources, kid):
                continue
            mask = stored_mask(st)
            if mask & use_mask:
                use.add(f"identity:{iid}")
            if mask & administering:
                manage.add(f"identity:{iid}")
    return use, manage


def _names_key(resources: Any, kid: str) -> bool:
    """The statement's Resource names this key (not every key), or is meant for it (a SAM
    KeyId given the key's ARN: `meant_keys`)."""
    if not isinstance(resources, dict) or resources.get("any_key") is True:
        return False
    return kid in (resources.get("keys") or ()) or kid in (resources.get("meant_keys") or ())


def _list(value: Any) -> list:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, not {type(value).__name__}")
    return value
