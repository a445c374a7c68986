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
from . import implied
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
            reachable = _grantable(model, subject, ctx) & ~granted & ~grants.deny.yes \
                & ~_denied_to_granters(model, subject, ctx, grant_paths)
    return paths, reachable & model.supported


def _denied_to_granters(model, subject: dict, ctx: dict, grant_paths: list[dict]) -> int:
    """Actions a key-policy Deny refuses to every caller that can create the grant (a grant
    keeps the key policy's Denies): the callers a path admits are those its Allow's tests
    on who the caller is admit (`ArnLike aws:PrincipalArn …:role/App*`), the same callers
    whatever they call next."""
    statements = [st.raw for st in model.statements]
    multivalued = implied.set_keys(statements)
    out = model.supported
    for path in grant_paths:
        allow = model.statements[path["key_statement"]].raw
        narrowed = {**ctx, **implied.imposed(allow, ctx, multivalued, only=implied.principal_key)}
        if narrowed == ctx:
            return 0
        out &= model.grants(subject, narrowed).deny.yes
        if not out:
            return 0
    return out


def possible(model, subject: dict, ctx: dict, grants, reachable: int) -> int:
    """Actions the subject may give itself through an escalation action whose grant is
    unknown (it depends on IAM policies the template does not show): unknown, not denied."""
    bits = catalog.key_action_bits()
    unknown = grants.final.unknown
    granted = grants.final.yes | grants.final.cond
    if unknown & bits[PUT]:
        out = model.supported & ~grants.identity_deny.yes
    elif unknown & bits[GRANT] or _self_grant_unknown(model, subject, ctx, grants):
        out = _grantable(model, subject, ctx, certain=False) & ~grants.deny.yes
    else:
        return 0
    return out & model.supported & ~granted & ~reachable


def _self_grant_unknown(model, subject: dict, ctx: dict, grants) -> bool:
    """A grant for itself may hang on unseen IAM policies even where CreateGrant is
    otherwise allowed (e.g. only as a grant for an AWS resource, which it cannot use)."""
    grant = catalog.key_action_bits()[GRANT]
    if not grants.final.any & grant:
        return False
    return bool(model.grants(subject, ctx, NOT_FOR_AWS_RESOURCE, only=grant).final.unknown & grant)


def _grantable(model, subject: dict, ctx: dict, certain: bool = True) -> int:
    """Operations a grant the subject creates for itself may carry. A grant carries a set
    of operations and kms:GrantOperations is tested on the whole set, so a condition that
    refuses an operation alone may accept it beside another (ForAnyValue: one matching
    operation admits the rest): each operation is tried alone, then beside what is already
    grantable, then every operation together."""
    bits = catalog.key_action_bits()
    operations = [op for op in catalog.grant_operations() if op in bits]
    if not _reads_grant_operations(model, subject):  # every grant is answered alike
        every = operations and _accepted(model, subject, ctx, operations[:1], certain)
        return catalog.action_mask(operations) if every else 0
    carried = [op for op in operations if _accepted(model, subject, ctx, [op], certain)]
    if carried:
        carried += [op for op in operations
                    if op not in carried and _accepted(model, subject, ctx, [*carried, op], certain)]
    if len(carried) < len(operations) and _accepted(model, subject, ctx, operations, certain):
        carried = operations
    return catalog.action_mask(carried)


def _accepted(model, subject: dict, ctx: dict, operations: list[str], certain: bool = True) -> bool:
    """May the subject create for itself a grant carrying exactly these operations? With
    `certain`, whatever the policies the template does not show say (generated-20-2112:
    a grant only unseen IAM policies would accept makes its operations unknown, not
    reachable)."""
    names = frozenset(op.split(":", 1)[1] for op in operations)
    facts = {**NOT_FOR_AWS_RESOURCE, "kms:grantoperations": Exact(names)}
    grant = catalog.key_action_bits()[GRANT]
    final = model.grants(subject, ctx, facts, only=grant).final
    return bool((final.yes | final.cond if certain else final.any) & grant)


def _reads_grant_operations(model, subject: dict) -> bool:
    """Whether a condition the subject's grants depend on names kms:GrantOperations (as a
    key or inside a value), anywhere in the key policy or the subject's own policies."""
    statements = [st.raw for st in model.statements]
    identity = model.identities.get(subject.get("identity") or "") if subject["kind"] == "identity" else None
    if identity:
        statements += identity["statements"] + ((identity.get("boundary") or {}).get("statements") or [])
    return any("grantoperations" in repr((st.get("condition") or {}).get("block")).lower()
               for st in statements)


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
