"""The concrete callers a kmspolicy subject stands for, with the context AWS would fill in.

A template identity calls with its real ARN (a role as an assumed-role session of it) and
exactly its identity policies and boundary. A principal the template names but does not
define, "any principal of this account" (`account:self`), another account and "anyone"
(`*`, a principal of an account the template does not know) call with an identity policy
allowing `kms:*`: their own IAM side is theirs to choose, the key policy is what the
template decides. Services call with and without source context. Organization membership
is not in the template: callers are tried outside any organization and inside each
organization a condition names. Subjects the referee cannot make concrete are returned as
problems ("not refereed"), never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .contexts import NOMATCH
from .model import Identity, Model
from .resolve import NotConcrete, Resolver
from .stack import OTHER_ACCOUNT

PERMISSIVE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
FACT_KEYS = {
    k.lower()
    for k in (
        "aws:PrincipalArn",
        "aws:PrincipalAccount",
        "kms:CallerAccount",
        "aws:PrincipalType",
        "aws:PrincipalIsAWSService",
        "aws:PrincipalServiceName",
        "aws:PrincipalServiceNamesList",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOrgID",
        "aws:PrincipalOrgID",
        "aws:username",
    )
}
# aws:userid is not among them: a role session's is "<role id>:<session name>", a user's its
# unique ID, AWS's own random IDs the template never shows; the contexts try the values a
# condition compares it with (a role of any account matches `*:*`: wild-userid)
_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass
class Caller:
    principal: str
    facts: dict[str, Any]
    identity_policies: list[tuple[str, Any]] = field(default_factory=list)
    boundary: Any = None
    note: str = ""
    unseen: bool = False  # a principal the template names but does not define
    assume: str | None = None  # for an unseen one: "none" or "permissive" identity policies
    stranger: bool = False  # kmspolicy's "anyone": in no organization the template names
    organization: str | None = None  # kmspolicy's "organization:o-…": in that one


@dataclass
class Callers:
    callers: list[Caller]
    problems: list[str] = field(default_factory=list)


def _fill_arn(pattern: str, account: str) -> str:
    parts = pattern.split(":", 5)
    if len(parts) == 6 and any(c in parts[4] for c in "*?"):
        parts[4] = account
    return ":".join(parts).replace("*", "x").replace("?", "x")


def _session(role_arn: str) -> str:
    _, partition, _, _, account, resource = role_arn.split(":", 5)
    name = resource.rsplit("/", 1)[-1]
    return f"arn:{partition}:sts::{account}:assumed-role/{name}/oracle-session"


def arn_caller(arn: str, policies, boundary=None, note: str = "") -> Caller | None:
    """A caller for an IAM ARN (role, user, account root), or None for other forms."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not _ACCOUNT.match(parts[4]):
        return None
    account, resource = parts[4], parts[5]
    facts = {
        "aws:PrincipalArn": arn,
        "aws:PrincipalAccount": account,
        "kms:CallerAccount": account,
        "aws:PrincipalIsAWSService": "false",
    }
    if resource.startswith("role/"):
        facts["aws:PrincipalType"] = "AssumedRole"
        principal = _session(arn)
    elif resource.startswith("user/"):
        facts["aws:PrincipalType"] = "User"
        facts["aws:username"] = resource.rsplit("/", 1)[-1]
        principal = arn
    elif resource == "root":
        facts["aws:PrincipalType"] = "Account"
        principal = arn
    else:
        return None
    return Caller(principal, facts, list(policies), boundary, note)


def _identity_caller(ident: Identity) -> Caller | None:
    return arn_caller(ident.arn, ident.policies, ident.boundary, f"template {ident.kind} {ident.logical}")


def _condition_values(keys: dict, name: str) -> list[str]:
    entry = keys.get(name.lower())
    return [str(v) for v in entry["values"]] if entry else []


def _derived(keys: dict, account: str | None, partition: str) -> list[Caller]:
    """Callers a condition names: its principal ARNs and accounts (within `account` if set)."""
    out = []
    for value in _condition_values(keys, "aws:PrincipalArn"):
        arn = _fill_arn(value, account or OTHER_ACCOUNT)
        caller = arn_caller(arn, [("oracle-permissive", PERMISSIVE)], note=f"named by a condition ({value})")
        if caller and (account is None or caller.facts["aws:PrincipalAccount"] == account):
            out.append(caller)
    for name in ("aws:PrincipalAccount", "kms:CallerAccount"):
        for value in _condition_values(keys, name):
            acct = _fill_arn(f"a:a:a::{value}:r", account or OTHER_ACCOUNT).split(":")[4]
            if _ACCOUNT.match(acct) and (account is None or acct == account):
                out.append(_unknown_role(partition, acct, f"an account a condition names ({value})"))
    return out


def _unknown_role(partition: str, account: str, note: str) -> Caller:
    caller = arn_caller(
        f"arn:{partition}:iam::{account}:role/oracle-unknown-role", [("oracle-permissive", PERMISSIVE)], note=note
    )
    assert caller is not None
    return caller


def _unknown_user(partition: str, account: str, note: str) -> Caller:
    caller = arn_caller(
        f"arn:{partition}:iam::{account}:user/oracle-unknown-user", [("oracle-permissive", PERMISSIVE)], note=note
    )
    assert caller is not None
    return caller


def _root(partition: str, account: str) -> Caller:
    """The account's root user (aws:PrincipalType Account): its account lets it do anything."""
    caller = arn_caller(f"arn:{partition}:iam::{account}:root", [("oracle-permissive", PERMISSIVE)],
                        note=f"the root user of {account}")
    assert caller is not None
    return caller


def _service(name: str, keys: dict, stack) -> list[Caller]:
    base = {"aws:PrincipalIsAWSService": "true", "aws:PrincipalServiceName": name}
    prefix = name.split(".", 1)[0]
    source_arns = [_fill_arn(v, stack.account) for v in _condition_values(keys, "aws:SourceArn")]
    source_arns = source_arns or [f"arn:{stack.partition}:{prefix}:{stack.region}:{stack.account}:oracle-resource"]
    out = [Caller(name, dict(base), note="service, no source context")]
    for arn in source_arns:
        account = (
            arn.split(":")[4] if _ACCOUNT.match(arn.split(":")[4] if arn.count(":") >= 5 else "") else stack.account
        )
        out.append(
            Caller(name, {**base, "aws:SourceAccount": account, "aws:SourceArn": arn}, note=f"service for {arn}")
        )
    out.append(
        Caller(
            name,
            {
                **base,
                "aws:SourceAccount": OTHER_ACCOUNT,
                "aws:SourceArn": f"arn:{stack.partition}:{prefix}:{stack.region}:{OTHER_ACCOUNT}:oracle-resource",
            },
            note="service for another account's resource",
        )
    )
    return out


def with_assumptions(callers: list[Caller]) -> list[Caller]:
    """An unseen principal twice: with no identity policy, and with one allowing kms:*."""
    out = []
    for caller in callers:
        if not caller.unseen:
            out.append(caller)
            continue
        out.append(Caller(caller.principal, caller.facts, [], None, f"{caller.note}, no IAM policy", True, "none"))
        out.append(
            Caller(
                caller.principal,
                caller.facts,
                [("oracle-permissive", PERMISSIVE)],
                None,
                f"{caller.note}, IAM allows kms:*",
                True,
                "permissive",
            )
        )
    return out


def with_orgs(callers: list[Caller], keys: dict) -> list[Caller]:
    """Each caller outside any organization, then in each organization a condition names."""
    orgs = [_fill_arn(v, "") for v in _condition_values(keys, "aws:PrincipalOrgID")]
    if not orgs:
        return callers
    out = list(callers)
    for caller in callers:
        if caller.facts.get("aws:PrincipalIsAWSService") == "true" or caller.organization:
            continue
        for org in ([] if caller.stranger else orgs) + ["o-" + NOMATCH]:
            out.append(
                Caller(
                    caller.principal,
                    {**caller.facts, "aws:PrincipalOrgID": org},
                    caller.identity_policies,
                    caller.boundary,
                    f"{caller.note}, in {org}",
                    caller.unseen,
                    caller.assume,
                    caller.stranger,
                )
            )
    return out


def callers(subject: dict, model: Model, resolver: Resolver, keys: dict) -> Callers:
    kind, account = subject.get("kind"), subject.get("account")
    stack = model.stack
    if kind == "identity":
        logical = subject.get("identity")
        if logical not in model.identities:
            return Callers([], [f"identity {logical} is not one the referee found"])
        ident = model.effective(logical)
        if ident.problems:
            return Callers([], [f"{logical}: {p}" for p in ident.problems])
        caller = _identity_caller(ident)
        return Callers([caller] if caller else [], [] if caller else [f"{logical}: no ARN"])
    if kind == "account":
        acct = stack.account if account == "self" else str(account)
        if not _ACCOUNT.match(acct):
            return Callers([], [f"account {account} is not concrete"])
        # kmspolicy's account subject stands for the principals of the account the template
        # does not single out (a literal ARN a condition names is a subject of its own): the
        # account's root user and the roles a wildcard ARN condition admits included
        members = [c for c in _derived(keys, acct, stack.partition)
                   if c.principal.endswith(":root") or any(w in c.note for w in "*?")]
        root = [] if any(c.principal.endswith(":root") for c in members) else [_root(stack.partition, acct)]
        return Callers([_unknown_role(stack.partition, acct, f"a role of {acct} the template does not define"),
                        _unknown_user(stack.partition, acct, f"a user of {acct} the template does not define")]
                       + root + members)
    if kind == "any":
        # kmspolicy's "*" subject is a stranger: a principal of an account the template
        # never names, in no organization it names (the accounts and principals a condition
        # singles out are subjects of their own, docs/access.md)
        # — also the strangers a condition's ARN pattern admits whatever their account
        # (`arn:aws:iam::*:role/Ops?`: anyone can name a role OpsX)
        # (a user as well as a role: aws:PrincipalType tells them apart)
        strangers = [_unknown_role(stack.partition, OTHER_ACCOUNT, "anyone: a role of another account"),
                     _unknown_user(stack.partition, OTHER_ACCOUNT, "anyone: a user of another account"),
                     _root(stack.partition, OTHER_ACCOUNT)]
        strangers += [c for c in _derived(keys, OTHER_ACCOUNT, stack.partition)
                      if "an account a condition names" not in c.note]
        for caller in strangers:
            caller.stranger = True
        return Callers(strangers)
    if kind == "organization":
        # the principals of an account nobody names in the organization a condition of
        # `*` names (kmspolicy's "organization:o-…" subject)
        org = subject["id"].split(":", 1)[1]
        members = [_unknown_role(stack.partition, OTHER_ACCOUNT, f"a role of another account in {org}"),
                   _unknown_user(stack.partition, OTHER_ACCOUNT, f"a user of another account in {org}"),
                   _root(stack.partition, OTHER_ACCOUNT)]
        for caller in members:
            caller.facts = {**caller.facts, "aws:PrincipalOrgID": org}
            caller.organization = org
        return Callers(members)
    if kind == "service":
        name = str(subject.get("label") or subject["id"].split(":", 1)[-1])
        try:
            name = resolver.text({"Fn::Sub": name}) if "${" in name else name
        except NotConcrete as exc:
            return Callers([], [f"service {name}: {exc}"])
        return Callers(_service(name, keys, stack))
    if kind in ("role", "user", "assumed-role", "root"):
        return _named(subject, model, resolver)
    return Callers([], [f"a {kind} principal ({subject.get('label')}) is not refereed"])


def _named(subject: dict, model: Model, resolver: Resolver) -> Callers:
    label = str(subject.get("label"))
    try:
        arn = resolver.text({"Fn::Sub": label} if "${" in label else label)
    except NotConcrete as exc:
        return Callers([], [f"{label}: {exc}"])
    for ident in model.identities.values():
        if ident.arn == arn:
            full = model.effective(ident.logical)
            if full.problems:
                return Callers([], [f"{ident.logical}: {p}" for p in full.problems])
            caller = _identity_caller(full)
            return Callers([caller] if caller else [])
    if ":assumed-role/" in arn:
        parts = arn.split(":", 5)
        role = f"arn:{parts[1]}:iam::{parts[4]}:role/{parts[5].split('/')[1]}"
        caller = arn_caller(role, [("oracle-permissive", PERMISSIVE)], note="session")
        if caller:
            caller.principal = arn
            caller.unseen = True
            return Callers([caller])
    caller = arn_caller(arn, [("oracle-permissive", PERMISSIVE)], note="a principal the template names, not defines")
    if caller:
        caller.unseen = True
    return Callers([caller] if caller else [], [] if caller else [f"{arn} is not an IAM principal ARN"])
