"""What the template determines about the requests a subject stands for.

A subject is a template identity, "any principal of account X", "anyone" (a stranger: a
principal of an account the template and config never name, in no organization they
name), a principal named in the key policy, or a service. Its context maps condition keys
(lower-cased) to facts (facts.py); a key left out is unknown.
"""

from __future__ import annotations

import re

from .concrete import SELF_ACCOUNT, identity_arn
from .facts import Absent, Exact, Matching, OneOf

ACCOUNT_ID = re.compile(r"\d{12}")
ANY_ACCOUNT = "?" * 12
STRANGER_ACCOUNT = "999999999999"
IAM_PRINCIPAL_TYPES = frozenset({"Account", "User", "FederatedUser", "AssumedRole", "Anonymous"})


def account_token(account: str, own_accounts: frozenset[str]) -> str | None:
    """The concrete account of a subject's `account` field; None when not determined."""
    if account == "self" or account in own_accounts:
        return SELF_ACCOUNT
    if ACCOUNT_ID.fullmatch(account or ""):
        return account
    return None


def _caller(account_fact) -> dict:
    return {"aws:principalaccount": account_fact, "kms:calleraccount": account_fact}


def _not_a_service() -> dict:
    return {"aws:principalisawsservice": Exact(frozenset({"false"})),
            "aws:principalservicename": Absent(), "aws:sourceaccount": Absent(),
            "aws:sourcearn": Absent(), "aws:sourceorgid": Absent(), "aws:sourceorgpaths": Absent(),
            "aws:sourceowner": Absent()}


STRANGER_ORG = "o-stranger0000"
STRANGER_ORG_PATH = f"{STRANGER_ORG}/r-stranger/ou-stranger/"


def _org(organization: str | None, own: bool) -> dict:
    """A principal of the template's own account is in the config's organization when one
    is named; of any other account, its organization is not known."""
    if own and organization:
        return {"aws:principalorgid": Exact(frozenset({organization}))}
    return {}


def _strangers_org() -> dict:
    """A stranger is in no organization, or in one nobody names."""
    return {"aws:principalorgid": OneOf((Absent(), Exact(frozenset({STRANGER_ORG}), stranger=True))),
            "aws:principalorgpaths": OneOf((Absent(), Exact(frozenset({STRANGER_ORG_PATH}), stranger=True)))}


def context(subject: dict, identities: dict, *, own_accounts: frozenset[str] = frozenset(),
            named_accounts: frozenset[str] = frozenset(),
            named_arns: frozenset[str] = frozenset(), generated_arns: frozenset[str] = frozenset(),
            organization: str | None = None) -> dict:
    """The facts of `subject`'s requests. "Any principal of account X" stands for the
    principals of X the template does not single out (`named_arns`: its identities and
    the principals its policies name; `generated_arns`: the name spaces CloudFormation
    draws its unnamed identities' names from): those have subjects of their own."""
    kind = subject["kind"]
    if kind == "identity":
        identity = identities.get(subject["identity"]) or {"id": subject["identity"], "kind": "role"}
        return _identity_context(identity, organization)
    if kind == "any":
        return {**_of_an_unnamed_account(named_accounts | own_accounts), **_strangers_org()}
    if kind == "organization":  # a member account nobody names
        return {**_of_an_unnamed_account(named_accounts | own_accounts),
                "aws:principalorgid": Exact(frozenset({subject["id"].split(":", 1)[1]}))}
    if kind == "service":
        return _service(Exact(frozenset({subject["id"].split(":", 1)[1]})), named_accounts | own_accounts)
    account = account_token(subject.get("account", ""), own_accounts)
    own = account == SELF_ACCOUNT
    base = {**_not_a_service(), **_org(organization, own)}
    if account is not None:
        base.update(_caller(Exact(frozenset({account}))))
    if kind == "account":
        base["aws:principalarn"] = Matching(f"arn:aws:iam::{account or '*'}:*", named_arns,
                                            generated_arns if own else frozenset())
    elif kind in ("role", "user", "assumed-role") and account is not None:
        base["aws:principalarn"] = Exact(frozenset({principal_arn(subject, account)}))
    if kind in ("role", "user", "assumed-role"):  # a role calls as one of its sessions
        base["aws:principaltype"] = Exact(frozenset({"User" if kind == "user" else "AssumedRole"}))
    return base


def _of_an_unnamed_account(named_accounts: frozenset[str]) -> dict:
    """An IAM principal of an account the template and config never name."""
    stranger = _stranger(named_accounts)
    return {**_caller(Matching(ANY_ACCOUNT, named_accounts | {SELF_ACCOUNT}, stranger=True)),
            "aws:principalarn": Matching(f"arn:aws:iam::{stranger}:*", stranger=True), **_not_a_service()}


def _service(name, named_accounts: frozenset[str]) -> dict:
    # a service principal calls from an account of AWS's own, in no organization of the
    # template's, and has no principal ARN
    # aws:PrincipalType is in every request, and a service is none of the IAM principal
    # types it names (IAM User Guide, global condition context keys)
    return {"aws:principalisawsservice": Exact(frozenset({"true"})),
            "aws:principaltype": Matching("*", IAM_PRINCIPAL_TYPES),
            "aws:principalservicename": name,
            "kms:calleraccount": Matching(ANY_ACCOUNT, named_accounts | {SELF_ACCOUNT}),
            "aws:principalaccount": Absent(), "aws:principalarn": Absent(),
            "aws:principalorgid": Absent(), "aws:principalorgpaths": Absent()}


def any_service(named_accounts: frozenset[str] = frozenset()) -> dict:
    """The requests of some AWS service principal, whichever: `Principal: "*"` takes them in
    (a service principal is a principal)."""
    return _service(Matching("*"), named_accounts)


def acting_for_a_stranger(condition_keys: frozenset[str], named_accounts: frozenset[str],
                          own_words: frozenset[str]) -> dict:
    """What a service's requests carry when it acts for a resource of a stranger (an account
    the template and config never name): aws:SourceAccount is that account; aws:SourceArn
    and the AWS-reserved encryption-context keys (`kms:EncryptionContext:aws:…`, which name
    the resource) hold a value that names none of the template's accounts and none of the
    bucket ARNs its conditions name (bucket names are global); its organization is none
    the template names."""
    stranger = _stranger(named_accounts)
    theirs = Matching("*", own_words, frozenset(f"*{a}*" for a in named_accounts | {SELF_ACCOUNT}), stranger=True)
    facts = {"aws:sourceaccount": Exact(frozenset({stranger}), stranger=True),
             "aws:sourceowner": Exact(frozenset({stranger}), stranger=True),
             "aws:sourcearn": theirs,
             "aws:sourceorgid": OneOf((Absent(), Exact(frozenset({STRANGER_ORG}), stranger=True))),
             "aws:sourceorgpaths": OneOf((Absent(), Exact(frozenset({STRANGER_ORG_PATH}), stranger=True)))}
    for key in condition_keys:
        if key.startswith("kms:encryptioncontext:aws:"):
            facts[key] = theirs
    return facts


def principal_arn(subject: dict, account: str) -> str:
    """The aws:PrincipalArn of a role or user named by ARN (an assumed-role session's is
    its role's)."""
    iam_kind = "user" if subject["kind"] == "user" else "role"
    name = subject["id"].split(":", 2)[2] if subject["id"].count(":") >= 2 else ""
    return f"arn:aws:iam::{account}:{iam_kind}/{name}"


def _identity_context(identity: dict, organization: str | None) -> dict:
    kind = identity["kind"]
    arn = identity_arn(kind, identity["id"], identity.get("name"), identity.get("iam_path") or "/")
    facts = {**_caller(Exact(frozenset({SELF_ACCOUNT}))), **_not_a_service(),
             **_org(organization, own=True),
             "aws:principalarn": Exact(frozenset({arn})),
             "aws:principaltype": Exact(frozenset({"AssumedRole" if kind == "role" else "User"}))}
    if kind == "role":
        facts["aws:username"] = Absent()
    elif identity.get("name"):
        facts["aws:username"] = Exact(frozenset({identity["name"]}))
    return facts


def _stranger(named: frozenset[str]) -> str:
    number = int(STRANGER_ACCOUNT)
    while f"{number:012d}" in named:
        number -= 1
    return f"{number:012d}"
