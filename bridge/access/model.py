"""Effective access per key and subject (KMS-SEMANTICS.md §1-4 and §10).

For every key action: the key policy allows the subject directly, or allows its account
and its identity policies allow it within its permission boundary (across accounts both
sides must allow, and only some operations work at all); an explicit Deny that applies
wins; a role named by ARN is still capped by its boundary, a user named by ARN and
a principal matched through `*` are not (IAM User Guide, "Policy evaluation logic").
Conditions are evaluated against what the template determines about the subject's
requests (subjects.py, conditions.py). Policy content the template does not show makes
the answer unknown, never "denied". Escalation (escalation.py) adds what the subject can
give itself, unless an identity-policy Deny forbids it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from .. import catalog
from ..condition_eval import UNKNOWN_FACT, Exact, Matching, OneOf, split_by_test
from . import crossaccount, escalation, implied, tri
from .concrete import ORGANIZATION_ID, SELF_ACCOUNT
from .conditions import Evaluator, default_evaluator
from .keytypes import supported_mask
from .statements import KeyStatement, covers, key_statements, stored_mask
from .subjects import account_token, acting_for_a_stranger, any_service, context
from .tri import NOTHING, UNKNOWN, YES, Answer

KEY_MASK = None  # set lazily: every key action
OPEN_PRESENT = Matching("*")  # present with any value
MAX_VALUE_SPLITS = 4  # value splits tried per key and subject


def _key_mask() -> int:
    global KEY_MASK
    if KEY_MASK is None:
        KEY_MASK = catalog.action_mask(catalog.key_action_bits())
    return KEY_MASK


@dataclass
class Grants:
    """What the policies give one subject on one key, before escalation."""

    final: Answer
    granted_any: Answer  # every grant before Denies (for `denied`)
    deny: Answer
    identity_deny: Answer
    direct: list[int] = field(default_factory=list)
    delegation: list[int] = field(default_factory=list)
    identity: list[int] = field(default_factory=list)
    denies: list[int] = field(default_factory=list)
    identity_denies: list[int] = field(default_factory=list)
    conditional_key: list[int] = field(default_factory=list)
    conditional_identity: list[int] = field(default_factory=list)
    unconditional_key: dict[int, int] = field(default_factory=dict)  # statement -> actions it always gives
    unconditional_identity: dict[int, int] = field(default_factory=dict)
    cancelled: int = 0  # actions every Allow of which a Deny with the same tests refuses


class _Cases:
    """One subject's case splits (KeyModel._case_splits), found once, and its grants in
    each case, computed once: the grants and the escalation both read them."""

    def __init__(self, model: KeyModel, subject: dict, ctx: dict):
        self.model, self.subject, self.ctx = model, subject, ctx
        self._grants: dict[tuple, Grants] = {}

    @cached_property
    def splits(self) -> list[tuple[str, tuple]]:
        return list(self.model._case_splits(self.subject, self.ctx))

    def grants(self, key: str, member) -> Grants:
        if (key, member) not in self._grants:
            self._grants[(key, member)] = self.model.grants(self.subject, {**self.ctx, key: member})
        return self._grants[(key, member)]


class KeyModel:
    """One key's statements and facts, evaluated for each of its subjects."""

    def __init__(self, key: dict, input_doc: dict, evaluator: Evaluator, facts: dict):
        self.key = key
        self.identities = input_doc.get("identities", {})
        self.evaluator = evaluator
        self.facts = facts
        self.statements = key_statements(key, facts["own_accounts"])
        self.supported = supported_mask(key) & _key_mask()

    def subject_access(self, subject: dict) -> dict:
        ctx = {**context(subject, self.identities, **self.facts), **_key_facts(self.key)}
        cases = _Cases(self, subject, ctx)
        grants = self._by_cases(cases, self.grants(subject, ctx))
        identity = self.identities.get(subject.get("identity") or "") if subject["kind"] == "identity" else None
        identity_statements = identity["statements"] if identity else []
        paths, reachable = escalation.analyse(self, subject, ctx, grants)
        if reachable:
            reachable = self._reachable_in_some_case(cases, reachable)
        final = grants.final
        unknown = final.unknown | escalation.possible(self, subject, ctx, grants, reachable)
        return {
            "allowed": final.yes,
            "conditional": final.cond,
            "unknown": unknown,
            "granted": final.yes | final.cond,
            "denied": (grants.granted_any.any & grants.deny.yes) | grants.cancelled,
            "reachable": reachable,
            "escalations": paths,
            "direct": grants.direct,
            "delegation": grants.delegation,
            "identity": grants.identity,
            "denies": grants.denies,
            "identity_denies": grants.identity_denies,
            "conditional_statements": {"key": grants.conditional_key,
                                       "identity": grants.conditional_identity},
            "unconditional": {
                "key": [grants.unconditional_key.get(i, 0) for i in range(len(self.statements))],
                "identity": [grants.unconditional_identity.get(j, 0) for j in range(len(identity_statements))],
            },
            **({"for_strangers": self._for_strangers(subject, ctx)} if subject["kind"] == "service"
               else {"for_strangers": self._anyone_as_a_service(subject)} if subject["kind"] == "any"
               else {}),
            **({"in_organization": self._in_organizations(subject, ctx)}
               if subject["kind"] == "account" and "aws:principalorgid" not in ctx
               and account_token(subject.get("account", ""), self.facts["own_accounts"]) == SELF_ACCOUNT
               else {}),
        }

    def _in_organizations(self, subject: dict, ctx: dict) -> list[dict]:
        """The own account when the config names no organization: for each organization
        ID a key-policy Allow compares aws:PrincipalOrgID with, what each statement gives
        every principal of the account if the account is in that organization."""
        out = []
        for organization in sorted(self._tested_organizations()):
            grants = self.grants(subject, {**ctx, "aws:principalorgid": Exact(frozenset({organization}))})
            given = [grants.unconditional_key.get(i, 0) for i in range(len(self.statements))]
            if any(given):
                out.append({"organization": organization, "unconditional": given})
        return out

    def _tested_organizations(self) -> set[str]:
        return {value for st in self.statements if st.effect == "Allow"
                for _, key, values in _keyed_tests(st) if key.lower() == "aws:principalorgid"
                for value in (values if isinstance(values, list) else [values])
                if isinstance(value, str) and ORGANIZATION_ID.fullmatch(value)}

    def _by_cases(self, cases: _Cases, grants: Grants) -> Grants:
        """Statements that depend on one fact the subject leaves open may between them
        decide every request. Two Allows: one where the key is absent
        (`StringEqualsIfExists aws:PrincipalOrgID`), another where it is present (`Null
        false`); or one where its value matches a test (`IpAddress`), another where it
        does not (`NotIpAddress` on the same range). An Allow and a Deny: the Deny applies
        wherever the Allow does (both `StringEqualsIfExists` on one value, in different
        policies). Evaluated per case of that fact, an action allowed in every case is
        allowed (generated-19-2225, generated-20-4808), one allowed in no case is not
        granted (generated-22-4148); three-valued Or alone says conditional."""
        if not grants.final.cond:
            return grants
        for key, members in cases.splits:
            always = never = grants.final.cond
            refused = 0
            for member in members:
                case = cases.grants(key, member)
                always &= case.final.yes
                never &= ~case.final.any
                refused |= case.cancelled | (case.granted_any.any & case.deny.any)
                if not always and not never:
                    break
            if always or never:
                final = grants.final
                settled = always | never
                grants.final = tri.Answer(final.yes | always, final.cond & ~settled, final.unknown & ~settled)
                grants.cancelled |= never & refused
        return grants

    def _reachable_in_some_case(self, cases: _Cases, reachable: int) -> int:
        """`reachable` less what no case of a fact of the caller the subject leaves open
        makes reachable: the escalation action may be allowed only where a Deny of what it
        would give applies (both under `aws:PrincipalOrgID` of one organization:
        generated-24-0788). Only facts of the caller, the same in every request it makes:
        a request's own (kms:ViaService) may differ between the escalation and the use."""
        for key, members in cases.splits:
            if not implied.principal_key(key):
                continue
            in_some_case = 0
            for member in members:
                in_some_case |= escalation.analyse(self, cases.subject, {**cases.ctx, key: member},
                                                   cases.grants(key, member))[1]
                if not reachable & ~in_some_case:
                    break
            reachable &= in_some_case
            if not reachable:
                break
        return reachable

    @cached_property
    def _multivalued(self) -> set[str]:
        return implied.set_keys([st.raw for st in self.statements])

    def _case_splits(self, subject: dict, ctx: dict):
        """(key, the facts that partition the subject's requests) for each key two or more
        statements reaching the subject test (its key-policy statements, its identity
        policies and its boundary) and its context leaves open: absent or present, and,
        for a single-valued key, present with a value each shared test matches or not."""
        tested: dict[str, list] = {}
        counts: dict[str, int] = {}
        for raw in self._reaching(subject):
            for name in {str(k).lower() for k, _ in _raw_tests(raw)}:
                counts[name] = counts.get(name, 0) + 1
            for operator, key, value in _raw_keyed_tests(raw):
                tested.setdefault(key.lower(), []).append((operator, value))
        for key in sorted(k for k, n in counts.items() if n > 1 and (k not in ctx or isinstance(ctx[k], OneOf))):
            cases = ctx.get(key, UNKNOWN_FACT)
            members = cases.facts if isinstance(cases, OneOf) else UNKNOWN_FACT.facts
            yield key, members
            if key in self._multivalued or OPEN_PRESENT not in members:
                continue
            rest = tuple(m for m in members if m != OPEN_PRESENT)
            splits = {pair for operator, value in tested.get(key, ())
                      if (pair := split_by_test(operator, value, ctx)) is not None}
            for pair in sorted(splits, key=repr)[:MAX_VALUE_SPLITS]:
                yield key, rest + pair

    def _reaching(self, subject: dict):
        """The statements that may decide the subject's requests: the key policy's that
        name it, and its identity policies and boundary when it is a template identity."""
        for st in self.statements:
            if st.applies_to(subject) is not None:
                yield st.raw
        identity = self.identities.get(subject.get("identity") or "") if subject["kind"] == "identity" else None
        if identity is None:
            return
        yield from (st for st in identity["statements"] if covers(st, self.key["id"]) != tri.NO)
        yield from (st for st in (identity.get("boundary") or {}).get("statements", [])
                    if covers(st, self.key["id"]) != tri.NO)

    def _anyone_as_a_service(self, subject: dict) -> dict:
        """`*` as some AWS service acting for a stranger's resource: only an Allow to
        everyone (`*`, NotPrincipal) can reach it."""
        if not any(st.effect == "Allow" and (st.anyone or st.mode == "NotPrincipal") for st in self.statements):
            return {"granted": 0, "direct": []}
        ctx = {**any_service(self.facts["named_accounts"] | self.facts["own_accounts"]), **_key_facts(self.key)}
        return self._for_strangers(subject, ctx)

    def _for_strangers(self, subject: dict, ctx: dict) -> dict:
        """A service's grants when it acts for a resource of an account nobody names (the
        confused deputy): the actions some such request may be allowed, and the statements
        that allow them (not those with a value the template leaves open, e.g. a parameter
        naming the source account: what it admits depends on that value). For "anyone",
        `ctx` is that of any AWS service: `*` takes in service principals too."""
        facts = acting_for_a_stranger(_condition_keys(self.statements),
                                      self.facts["named_accounts"] | self.facts["own_accounts"],
                                      _bucket_arns(self.statements))
        grants = self.grants(subject, {**ctx, **facts})
        return {"granted": grants.final.any,
                "direct": [st.index for st in self.statements if st.index in grants.direct and _values_known(st)]}

    # --- grants -----------------------------------------------------------------

    def grants(self, subject: dict, ctx: dict, extra: dict | None = None, only: int | None = None) -> Grants:
        """The subject's grants; `extra` adds request facts (e.g. a grant's operations),
        `only` limits the work to some actions."""
        ctx = {**ctx, **extra} if extra else ctx
        mask = self.supported if only is None else self.supported & only
        external = crossaccount.is_external(subject, self.facts["own_accounts"])
        if external:
            mask &= crossaccount.effective_mask()
        identity = self.identities.get(subject.get("identity") or "") if subject["kind"] == "identity" else None
        has_boundary = bool(identity and identity.get("boundary"))
        named = direct_any = deleg = key_deny = NOTHING
        allows: list = []
        denies: list = []
        out = Grants(NOTHING, NOTHING, NOTHING, NOTHING)
        for st in self.statements:
            if not st.mask & mask or st.scope == "no":
                continue
            how = st.applies_to(subject, has_boundary)
            uncertain = st.scope == "unknown"
            if how is None and st.may_name_own_account(subject):
                how, uncertain = ("account" if st.effect == "Allow" else "named"), True
            elif how is None and st.may_name_anyone(subject):
                how, uncertain = "everyone", True
            if how is None:
                continue
            answer = self.evaluator.outcome(st.raw, st.mask & mask, ctx)
            if uncertain:
                answer = answer & tri.of(st.mask & mask, UNKNOWN)
            if not answer.any:
                continue
            if answer.maybe:
                out.conditional_key.append(st.index)
            out.unconditional_key[st.index] = answer.yes
            if st.effect == "Deny":
                key_deny |= answer
                out.denies.append(st.index)
                if st.scope == "yes":
                    denies.append((st.raw, answer))
                continue
            allows.append((st.raw, answer, how))
            if how == "named":
                named |= answer
                out.direct.append(st.index)
            elif how == "everyone":
                direct_any |= answer
                out.direct.append(st.index)
            else:
                deleg |= answer
                out.delegation.append(st.index)
        own_allows: list = []
        id_allow, id_deny, bound = self._identity_side(subject, identity, ctx, mask, out, denies, own_allows)
        if identity is not None and identity["kind"] == "role":
            named = named & bound  # a role named by ARN is capped by its boundary
        if external:  # across accounts both sides must allow, whatever the key policy names
            grant = ((named | direct_any | deleg) & id_allow & bound).only(mask)
        else:
            grant = (named | direct_any | (deleg & id_allow & bound)).only(mask)
        deny = key_deny | id_deny
        out.final = grant.minus(deny)
        # each Allow as far as it reaches the grant (the caps above): a route the boundary
        # or the identity side closes is no route a Deny has to cancel
        allows = [(raw, _reach(answer, how, external, identity, id_allow, bound), _through_identity(how, external))
                  for raw, answer, how in allows]
        gone = implied.cancelled(allows, denies, out.final.maybe & (deny.yes | deny.cond), self.evaluator, ctx,
                                 own_allows)
        if gone:
            out.final = tri.Answer(out.final.yes, out.final.cond & ~gone, out.final.unknown & ~gone)
            out.cancelled = gone
        out.granted_any = grant
        out.deny = deny
        out.identity_deny = id_deny
        out.direct.sort()
        return out

    def _identity_side(self, subject: dict, identity: dict | None, ctx: dict, mask: int,
                       out: Grants, denies: list, allows: list) -> tuple[Answer, Answer, Answer]:
        """(identity-policy allows, identity-policy denies, boundary) on this key; the
        identity-policy Denies certain to cover the key are added to `denies` as
        (statement, answer), and its Allows to `allows` when they are every one there is
        (no policy the template does not show)."""
        everything = _key_mask() & mask
        if identity is None:
            # an account (and "anyone") stands for principals whose IAM policies may be
            # written to allow anything; a principal the template does not define has IAM
            # policies the template does not show
            value = YES if subject["kind"] in ("account", "any", "organization") else UNKNOWN
            return tri.of(everything, value), NOTHING, tri.of(everything, YES)
        allow = deny = NOTHING
        for j, st in enumerate(identity["statements"]):
            answer = self._identity_answer(st, ctx, mask)
            if not answer.any:
                continue
            if answer.maybe:
                out.conditional_identity.append(j)
            out.unconditional_identity[j] = answer.yes
            if st["effect"] == "Allow":
                allow |= answer
                out.identity.append(j)
                allows.append((st, answer))
            else:
                deny |= answer
                out.identity_denies.append(j)
                if covers(st, self.key["id"]) == YES:
                    denies.append((st, answer))
        if identity.get("unknown_policies"):
            allow |= tri.of(everything, UNKNOWN)
            allows.clear()  # another Allow may grant what these do
        bound, bound_deny = self._boundary(identity.get("boundary"), ctx, mask)
        return allow, deny | bound_deny, bound

    def _identity_answer(self, st: dict, ctx: dict, mask: int) -> Answer:
        coverage = covers(st, self.key["id"])
        if coverage == tri.NO:
            return NOTHING
        st_mask = stored_mask(st) & mask
        answer = self.evaluator.outcome(st, st_mask, ctx)
        return answer if coverage == YES else answer & tri.of(st_mask, coverage)

    def _boundary(self, boundary: dict | None, ctx: dict, mask: int) -> tuple[Answer, Answer]:
        everything = _key_mask() & mask
        if not boundary:
            return tri.of(everything, YES), NOTHING
        allow = deny = NOTHING
        for st in boundary.get("statements", []):
            answer = self._identity_answer(st, ctx, mask)
            if st["effect"] == "Allow":
                allow |= answer
            else:
                deny |= answer
        if not boundary.get("complete", True):
            allow |= tri.of(everything, UNKNOWN)
        return allow.minus(deny), deny


def _tests(st: KeyStatement):
    """(condition key, value) of every test in the statement's (concrete) Condition block."""
    return _raw_tests(st.raw)


def _raw_tests(raw: dict):
    """The same of a statement as the input holds it (identity and boundary statements too)."""
    for block in ((raw.get("condition") or {}).get("block") or {}).values():
        for name, values in (block.items() if isinstance(block, dict) else ()):
            for value in values if isinstance(values, list) else [values]:
                yield name, value


def _keyed_tests(st: KeyStatement):
    """(operator, condition key, the key's values) of every test of the statement."""
    return _raw_keyed_tests(st.raw)


def _raw_keyed_tests(raw: dict):
    for operator, block in ((raw.get("condition") or {}).get("block") or {}).items():
        for key, values in (block.items() if isinstance(block, dict) else ()):
            if isinstance(key, str):
                yield operator, key, values


def _condition_keys(statements: list[KeyStatement]) -> frozenset[str]:
    return frozenset(name.lower() for st in statements for name, _ in _tests(st) if isinstance(name, str))


def _values_known(st: KeyStatement) -> bool:
    return all(value is not None for _, value in _tests(st))


def _bucket_arns(statements: list[KeyStatement]) -> frozenset[str]:
    """The literal S3 ARNs (no account part) the key's conditions name."""
    return frozenset(value for st in statements for _, value in _tests(st)
                     if isinstance(value, str) and value.split(":")[2:3] == ["s3"] and "*" not in value
                     and "?" not in value and value.count(":") == 5)


def _through_identity(how: str, external: bool) -> bool:
    """Does a key-policy Allow grant only with the subject's identity policy (_reach)?"""
    return external or how not in ("named", "everyone")


def _reach(answer: Answer, how: str, external: bool, identity: dict | None, id_allow: Answer,
           bound: Answer) -> Answer:
    """What one key-policy Allow adds to the grant (KeyModel.grants' formula, per statement)."""
    if _through_identity(how, external):  # both sides, or the account delegation
        return answer & id_allow & bound
    if how == "named" and identity is not None and identity["kind"] == "role":
        return answer & bound
    return answer


def _key_facts(key: dict) -> dict:
    from .facts import Exact

    facts = {}
    for name, field_name in (("kms:keyspec", "key_spec"), ("kms:keyusage", "key_usage"),
                             ("kms:keyorigin", "origin")):
        value = key.get(field_name)
        if isinstance(value, str):
            facts[name] = Exact(frozenset({value}))
    if isinstance(key.get("multi_region"), bool):
        facts["kms:multiregion"] = Exact(frozenset({"true" if key["multi_region"] else "false"}))
    return facts


def compute(input_doc: dict, config: dict | None = None) -> dict:
    """Add `access` (per subject id) to every key of `input_doc`; returns it."""
    facts = _facts(input_doc, config)
    evaluator = default_evaluator()
    for key in input_doc.get("keys", {}).values():
        model = KeyModel(key, input_doc, evaluator, facts)
        key["access"] = {sid: model.subject_access(subject) for sid, subject in key["subjects"].items()}
        key["supported"] = model.supported
    return input_doc


def add_subject(input_doc: dict, key_id: str, subject: dict, config: dict | None = None) -> None:
    """Compute one more subject's access to one key (`kmspolicy explain` of a principal the
    template does not name); the input must still hold its Condition blocks."""
    key = input_doc["keys"][key_id]
    key["subjects"][subject["id"]] = subject
    model = KeyModel(key, input_doc, default_evaluator(), _facts(input_doc, config))
    key.setdefault("access", {})[subject["id"]] = model.subject_access(subject)


def _facts(input_doc: dict, config: dict | None) -> dict:
    from .statements import generated_name_spaces, named_accounts, named_arns

    config = config or {}
    own = frozenset(str(a) for a in config.get("accounts") or [])
    return {"own_accounts": own, "named_accounts": named_accounts(input_doc),
            "named_arns": named_arns(input_doc, own), "generated_arns": generated_name_spaces(input_doc),
            "organization": config.get("organization")}


__all__ = ["KeyModel", "KeyStatement", "add_subject", "compute"]
