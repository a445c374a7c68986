"""What a subject can give itself (KMS-SEMANTICS.md §4, §10).

With kms:PutKeyPolicy it can rewrite the key policy to allow anything; with kms:CreateGrant
it can grant itself the operations a grant may carry, as far as kms:GrantOperations lets
it. Either way an explicit Deny in its identity policies still wins (a grant is also
refused by a Deny in the key policy, which PutKeyPolicy could remove). A grant the
subject creates for itself is a request with kms:GrantIsForAWSResource false and no
kms:ViaService (it comes from no AWS service).
"""

from __future__ import annotations

from .. import catalog
from .facts import Absent, Exact

PUT = "kms:PutKeyPolicy"
GRANT = "kms:CreateGrant"
# A grant the subject creates for itself is its own call: no AWS service makes it on its
# behalf, so kms:GrantIsForAWSResource is false and kms:ViaService is absent.
NOT_FOR_AWS_RESOURCE = {"kms:grantisforawsresource": Exact(frozenset({"false"})),
                        "kms:viaservice": Absent()}


def analyse(model, subject: dict, ctx: dict, grants) -> tuple[list[dict], int]:
    """(escalation paths, actions reachable through them)."""
    bits = catalog.key_action_bits()
    granted = grants.final.yes | grants.final.cond
    paths: list[dict] = []
    reachable = 0
    if granted & bits[PUT]:
        paths += _paths(model, subject, ctx, PUT, None)
        if paths:
            reachable = model.supported & ~granted & ~grants.identity_deny.yes
    if granted & bits[GRANT]:
        grant_paths = _paths(model, subject, ctx, GRANT, NOT_FOR_AWS_RESOURCE)
        paths += grant_paths
        if grant_paths and not reachable:
            reachable = _grantable(model, subject, ctx) & ~granted & ~grants.deny.yes
    return paths, reachable & model.supported


def possible(model, subject: dict, ctx: dict, grants, reachable: int) -> int:
    """Actions the subject may give itself through an escalation action whose grant is
    unknown (it depends on IAM policies the template does not show): unknown, not denied."""
    bits = catalog.key_action_bits()
    unknown = grants.final.unknown
    granted = grants.final.yes | grants.final.cond
    if unknown & bits[PUT]:
        out = model.supported & ~grants.identity_deny.yes
    elif unknown & bits[GRANT]:
        out = _grantable(model, subject, ctx) & ~grants.deny.yes
    else:
        return 0
    return out & model.supported & ~granted & ~reachable


def _grantable(model, subject: dict, ctx: dict) -> int:
    """Operations a grant the subject creates for itself may carry."""
    bits = catalog.key_action_bits()
    out = 0
    for op in catalog.grant_operations():
        if op not in bits:
            continue
        facts = {**NOT_FOR_AWS_RESOURCE, "kms:grantoperations": Exact(frozenset({op.split(":", 1)[1]}))}
        if model.grants(subject, ctx, facts, only=bits[GRANT]).final.any & bits[GRANT]:
            out |= bits[op]
    return out


def _paths(model, subject: dict, ctx: dict, action: str, extra: dict | None) -> list[dict]:
    """Statements through which the subject can call `action` (key statement, and the
    identity statement completing a delegation)."""
    bit = catalog.key_action_bits()[action]
    grants = model.grants(subject, ctx, extra, only=bit)
    if not grants.final.any & bit:
        return []
    out = [{"action": action, "key_statement": i, "identity_statement": None} for i in grants.direct]
    for i in grants.delegation:
        out += [{"action": action, "key_statement": i, "identity_statement": j} for j in grants.identity]
    if subject["kind"] == "account":
        out += [{"action": action, "key_statement": i, "identity_statement": None} for i in grants.delegation]
    return out
