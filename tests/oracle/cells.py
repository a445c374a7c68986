"""One template's access matrix as the referee sees it: requests per cell, then verdicts.

`plan(...)` turns each (key, kmspolicy subject, key action) into the simulations it stands
for (principals.py x contexts.py), plus, for the base caller, the two escalation checks:
kms:CreateGrant for that operation (`kms:GrantOperations`) and the action after the key
policy is rewritten to allow it (what kms:PutKeyPolicy buys; an identity-side Deny or
boundary still stops it). `verdict(...)` reads the decisions back:
allowed (every request), conditional (some), reachable (none, but escalation works),
denied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import contexts, equivalent, principals, relevance
from .model import Model
from .resolve import Resolver

MAX_REQUESTS = 64  # per cell (32 cut combined contexts once a cell had 9+ callers: generated-17-0986)
# callers per cell whose escalation paths are checked (6 missed a condition-named role in
# an organization: generated-19-2171)
MAX_ESCALATING = 16
MAX_GRANT_CONTEXTS = 12  # contexts per caller a self-grant is tried in
# The operations a grant can allow (KMS API Reference, CreateGrant, GrantOperations: "Valid
# Values"); a grant cannot allow any other action, so CreateGrant escalates only to these.
GRANT_OPERATIONS = frozenset((
    "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
    "ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac",
    "DeriveSharedSecret"))


@dataclass
class Escalation:
    """One caller's escalation paths for one cell: the self-grants for the operation (one per
    context), asked up front, and the action once the key policy is rewritten to allow it
    (`rewritten()`) or once granted (`granted()`), built only where that path is open."""

    assume: str | None  # None, or "none"/"permissive" for an unseen principal
    caller: int  # its index among the cell's callers
    grant: list[dict]
    _build: Any = field(repr=False)  # the cell's _Simulations
    _escalated: Any = field(repr=False)  # the caller after escalation (_with_permissive)
    _action: str = ""
    _contexts: list[dict] = field(default_factory=list, repr=False)
    _rewritten: dict = field(default_factory=dict, repr=False)  # what kms:PutKeyPolicy buys
    _granted: dict = field(default_factory=dict, repr=False)  # what a grant buys

    def rewritten(self) -> list[dict]:
        return [self._build(self._escalated, self._action, ctx, self._rewritten) for ctx in self._contexts]

    def granted(self) -> list[dict]:
        return [self._build(self._escalated, self._action, ctx, self._granted) for ctx in self._contexts]


@dataclass
class Cell:
    key: str
    subject: str
    action: str
    kind: str
    assumed: bool  # some caller's identity policy is assumed (not in the template)
    requests: list[dict] = field(default_factory=list)  # {"simulation", "note", "base"}
    escalations: list[Escalation] = field(default_factory=list)  # per caller checked
    tested: set = field(default_factory=set)  # context keys (lower case) a condition tests
    grant_counts: bool = False  # whether a grant can allow this action at all
    problems: list[str] = field(default_factory=list)
    key_type: tuple[str, str] = ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")  # KeySpec, KeyUsage


class _Simulations:
    """Builds one key's simulations, each caller's policy list made once and shared by all
    its simulations (referee.py sends a document once and names it after that)."""

    def __init__(self, key):
        self.resource = {"resource": key.arn, "accountId": key.arn.split(":")[4]}
        self._policies: dict[int, tuple] = {}  # id(caller) -> (caller, identity list, boundary list)

    def _of(self, caller) -> tuple[list, list | None]:
        known = self._policies.get(id(caller))
        if known is None or known[0] is not caller:
            identity = [{"name": f"p{n}-{name}"[:128], "policy": doc}
                        for n, (name, doc) in enumerate(caller.identity_policies)]
            boundary = [{"name": "boundary", "policy": caller.boundary}] if caller.boundary is not None else None
            known = self._policies[id(caller)] = (caller, identity, boundary)
        return known[1], known[2]

    def __call__(self, caller, action: str, context: dict, resource_policy: dict) -> dict:
        identity, boundary = self._of(caller)
        sim = {"request": {"principal": caller.principal, "action": action, "resource": self.resource,
                           "contextVariables": {**caller.facts, **context}},
               "identityPolicies": identity, "serviceControlPolicies": [], "resourceControlPolicies": [],
               "resourcePolicy": resource_policy}
        if boundary is not None:
            sim["permissionBoundaryPolicies"] = boundary
        return sim


def _with_permissive(caller):
    """After escalation, the caller's own IAM side is no obstacle (it can be granted too);
    only an explicit Deny or a boundary still stops it."""
    if caller.facts.get("aws:PrincipalIsAWSService") == "true":
        return caller
    return principals.Caller(caller.principal, caller.facts,
                             caller.identity_policies + [("oracle-after-escalation", principals.PERMISSIVE)],
                             caller.boundary, caller.note, caller.unseen, caller.assume)


def _is_service(caller) -> bool:
    return caller.facts.get("aws:PrincipalIsAWSService") == "true"


def _with_organization(ctx: dict) -> bool:
    """aws:PrincipalOrgID/OrgPaths are in a request "only if the principal is a member of an
    organization" (IAM global condition context keys): never a service principal's."""
    return any(key in ctx for key in ("aws:PrincipalOrgID", "aws:PrincipalOrgPaths"))


def _in_a_named_organization(ctx: dict) -> bool:
    return any(key in ctx and "oracle-nomatch" not in str(ctx[key])
               for key in ("aws:PrincipalOrgID", "aws:PrincipalOrgPaths"))


def _own(caller, ctxs: list[dict]) -> list[dict]:
    """The contexts the caller can make requests in (its own and its escalation's): a
    stranger is in no organization the template names (those contexts are left out); a
    service principal is no member of any, so its requests carry no organization keys."""
    out: list[dict] = []
    for ctx in ctxs:
        if caller.stranger and _in_a_named_organization(ctx):
            continue
        if caller.organization and ctx.get("aws:PrincipalOrgID", caller.organization) != caller.organization:
            continue
        if _is_service(caller) and _with_organization(ctx):
            ctx = {k: v for k, v in ctx.items() if k not in ("aws:PrincipalOrgID", "aws:PrincipalOrgPaths")}
        if ctx not in out:
            out.append(ctx)
    return out


def _allow_for(caller, action: str) -> dict:
    """A statement for the caller itself: a role's session ARN, not the role's — a key
    policy or grant naming the session is not capped by the role's permissions boundary
    (IAM User Guide, "Permissions boundaries for IAM entities": a resource-based policy
    that grants permissions to the role session ARN is not limited by an implicit deny in
    the boundary), and whoever rewrites the policy or creates the grant names itself so."""
    if caller.facts.get("aws:PrincipalIsAWSService") == "true":
        principal = {"Service": caller.principal}
    else:
        principal = {"AWS": caller.principal}
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}


def _direct_calls(ctxs: list[dict]) -> list[dict]:
    """The contexts of a request the caller makes itself (a grant for itself): no AWS
    service makes it on the caller's behalf, so kms:ViaService is absent (AWS KMS
    Developer Guide, kms:ViaService: it limits use of a KMS key to requests from specified
    AWS services; kms:GrantIsForAWSResource is true only when such a service calls)."""
    out: list[dict] = []
    for ctx in ctxs:
        direct = {k: v for k, v in ctx.items() if k.lower() != "kms:viaservice"}
        if direct not in out:
            out.append(direct)
    return out


def _rewritten_policy(caller, action: str) -> dict:
    """What kms:PutKeyPolicy buys: a key policy of the caller's own, allowing the action."""
    return {"Version": "2012-10-17", "Statement": [_allow_for(caller, action)]}


def _granted_policy(key_policy: dict, caller, action: str) -> dict:
    """What a grant buys: the action allowed, but the key policy's Deny statements still
    apply (AWS KMS Developer Guide, "Troubleshooting AWS KMS permissions": a caller can be
    denied by an explicit DENY in the key policy, IAM policy, or grant)."""
    statements = key_policy.get("Statement") or []
    statements = statements if isinstance(statements, list) else [statements]
    denies = [st for st in statements if isinstance(st, dict) and st.get("Effect") == "Deny"]
    return {"Version": "2012-10-17", "Statement": denies + [_allow_for(caller, action)]}


def plan(model: Model, resolver: Resolver, kside: dict, actions: list[str]) -> list[Cell]:
    cells = []
    for kid, kdata in kside["keys"].items():
        key = model.keys.get(kid)
        for sid, subject in kdata["subjects"].items():
            problems = []
            if kdata.get("rejected"):  # CreateKey fails: no key, no request to compare
                problems.append(f"KMS rejects the key policy, the key is never created: {kdata['rejected'][:60]}")
            elif key is None:
                problems.append(f"key {kid} is not one the referee found")
            elif key.problems:
                problems += key.problems
            found = principals.Callers([])
            if not problems:
                base_keys = contexts.condition_keys([_naming(key.policy, subject)])
                found = principals.callers(subject, model, resolver, base_keys)
                problems += found.problems
            if problems or not found.callers:
                cells += [Cell(kid, sid, a, subject.get("kind"), False,
                               problems=problems or ["no concrete caller"]) for a in actions]
                continue
            cells += _subject_cells(kid, sid, subject, key, found.callers, actions)
    return cells


def _is_everyone(value) -> bool:
    if value == "*":
        return True
    if isinstance(value, dict):
        aws = value.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def _naming(policy: dict, subject: dict) -> dict:
    """The statements whose conditions can name callers of an abstract subject: those with
    Principal `*` or a NotPrincipal (and, for an account, those naming an account; for a
    service, those naming a service: the resources it acts for are the ARNs they test)."""
    sts = policy.get("Statement")
    sts = sts if isinstance(sts, list) else [sts]
    kind = subject.get("kind")
    keep = [st for st in sts if isinstance(st, dict)
            and ("NotPrincipal" in st or _is_everyone(st.get("Principal"))
                 or (kind == "account" and st.get("Principal") is not None)
                 or (kind == "service" and _names_a_service(st.get("Principal"))))]
    return {"Statement": keep}


def _names_a_service(principal) -> bool:
    # AWS documents aws:SourceArn as "the ARN of the resource making a service-to-service
    # request" and lists no resource types per service principal (delivery.logs acts for
    # logs ARNs, vpc-flow-logs for ec2 ARNs), so a service is tried for every source ARN
    # a statement naming a service tests, not only for one of its own name's namespace
    return isinstance(principal, dict) and "Service" in principal


class _ContextsPerAction:
    """The request contexts for one action: over the keys that the statements able to match
    it test (Action/NotAction, equivalent.py). A key only other actions' statements test
    cannot change this action's decision, and trying it would take the place of contexts
    that can (a cell asks at most MAX_REQUESTS)."""

    def __init__(self, policies: list):
        self._statements = [st for p in policies for st in contexts.statements(p)]
        self._known: dict[tuple, list[dict]] = {}

    def __call__(self, action: str) -> list[dict]:
        matching = [st for st in self._statements if equivalent.matches(st, action)]
        slot = tuple(id(st) for st in matching)
        if slot not in self._known:
            free = self._free(contexts.condition_keys([{"Statement": matching}]))
            groups = [self._free(contexts.condition_keys([{"Statement": [st]}])) for st in matching]
            self._known[slot] = contexts.variants(free, groups=groups)
        return self._known[slot]

    @staticmethod
    def _free(keys: dict) -> dict:
        return {k: v for k, v in keys.items() if k not in principals.FACT_KEYS}


def _subject_cells(kid, sid, subject, key, callers, actions) -> list[Cell]:
    policies = [key.policy] + [d for c in callers for _, d in c.identity_policies] \
        + [c.boundary for c in callers if c.boundary is not None]
    keys = contexts.condition_keys(policies)
    callers = [principals.Caller(c.principal, c.facts,
                                 [(name, relevance.for_kms(doc)) for name, doc in c.identity_policies],
                                 relevance.for_kms(c.boundary) if c.boundary is not None else None,
                                 c.note, c.unseen, c.assume, c.stranger, c.organization) for c in callers]
    callers = principals.with_orgs(principals.with_assumptions(callers), keys)
    contexts_for = _ContextsPerAction(policies)
    assumed = any(name == "oracle-permissive" and not c.unseen
                  for c in callers for name, _ in c.identity_policies)
    build = _Simulations(key)
    escalated = [_with_permissive(caller) for caller in callers[:MAX_ESCALATING]]
    direct_contexts = _direct_calls(contexts_for("kms:CreateGrant"))[:MAX_GRANT_CONTEXTS]
    first_equal = [callers.index(caller) for caller in callers]  # equal callers share an index
    own_contexts: dict[int, list[list[dict]]] = {}  # id(contexts) -> each caller's own (contexts_for keeps them)
    out = []
    for action in actions:
        ctxs = contexts_for(action)
        cell = Cell(kid, sid, action, subject.get("kind"), assumed, tested=set(keys),
                    key_type=(key.spec, key.usage))
        # every caller's base request first, then each further context for every caller:
        # a cut at MAX_REQUESTS drops combined contexts, never a whole caller
        if id(ctxs) not in own_contexts:
            own_contexts[id(ctxs)] = [_own(caller, ctxs) for caller in callers]
        own = own_contexts[id(ctxs)]
        for position in range(max(len(o) for o in own)):
            for caller, index, mine in zip(callers, first_equal, own, strict=True):
                if len(cell.requests) >= MAX_REQUESTS:
                    break
                if position >= len(mine):
                    continue
                ctx = mine[position]
                cell.requests.append({"simulation": build(caller, action, ctx, key.policy),
                                      "note": caller.note, "context": ctx, "assume": caller.assume,
                                      "base": caller is callers[0] and not ctx, "caller": index})
        operation = action.split(":", 1)[1]
        cell.grant_counts = operation in GRANT_OPERATIONS
        grantable = operation if cell.grant_counts else "DescribeKey"
        for index, caller in enumerate(callers[:MAX_ESCALATING]):
            cell.escalations.append(Escalation(
                caller.assume, index,
                # a grant the caller creates for itself: not one an AWS service creates for
                # a resource (kms:GrantIsForAWSResource is true only when a service calls)
                # kms:GrantOperations is the grant's whole set of operations: the operation
                # alone, or beside every other (what ForAnyValue admits)
                [build(caller, "kms:CreateGrant",
                       {**ctx, "kms:GrantOperations": operations, "kms:GrantIsForAWSResource": "false"}, key.policy)
                 for ctx in _own(caller, direct_contexts)
                 for operations in ([grantable], _beside_every_other(grantable))],
                # the action once escalated, in every context (a Deny may spare some)
                build, escalated[index], action, own[index][:MAX_GRANT_CONTEXTS],
                _rewritten_policy(caller, action), _granted_policy(key.policy, caller, action)))
        out.append(cell)
    return out


def _beside_every_other(operation: str) -> list[str]:
    return [operation, *sorted(GRANT_OPERATIONS - {operation})]


def verdict(cell: Cell, decisions: list[str], escalation: dict) -> str:
    """The referee's verdict for one cell from its decisions (in cell.requests order) and,
    per checked caller, the escalation decisions {"assume", "put_policy", "grant",
    "rewritten"}: reachable when some caller can escalate (in some context) and then
    perform the action.

    For a principal the template names but does not define, the verdict with no identity
    policy and with one allowing kms:* must agree; if they differ the cell depends on what
    the template does not show: "unknown" — unless it is at least reachable whatever its IAM
    policies say: then the weakest of the verdicts is certain (reachable < conditional <
    allowed), and that is the verdict.
    """
    assumptions = {r["assume"] for r in cell.requests} or {None}
    found = set()
    for assume in assumptions:
        mine = [d for r, d in zip(cell.requests, decisions, strict=True) if r["assume"] in (None, assume)]
        paths = [e for e in escalation.values() if e["assume"] in (None, assume)
                 and ((e.get("put_policy") == "Allowed" and e.get("rewritten") == "Allowed")
                      or (cell.grant_counts and e.get("grant") == "Allowed" and e.get("granted") == "Allowed"))]
        found.add(_verdict(mine, bool(paths)))
    if "error" in found:
        return "error"
    if len(found) > 1 and "denied" not in found and "error" not in found:
        # what it can do whatever its IAM policies say, at least: kmspolicy's verdict
        return next(v for v in ("reachable", "conditional", "allowed") if v in found)
    return found.pop() if len(found) == 1 else "unknown"


def _verdict(decisions: list[str], escalates: bool) -> str:
    if "Error" in decisions:
        return "error"
    allowed = [d == "Allowed" for d in decisions]
    if all(allowed):
        return "allowed"
    if any(allowed):
        return "conditional"
    if escalates:
        return "reachable"
    return "denied"
