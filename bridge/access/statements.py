"""Which statements apply to a subject: principals, accounts, resources."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import catalog
from .tri import NO, UNKNOWN, YES

ACCOUNT_IN_TEXT = re.compile(r"(?<!\d)\d{12}(?!\d)")


ACCOUNT_LITERAL = re.compile(r"\d{12}")


@dataclass
class KeyStatement:
    index: int
    effect: str
    mode: str  # Principal | NotPrincipal
    mask: int
    ids: frozenset[str]
    accounts: frozenset[str]
    anyone: bool
    raw: dict
    scope: str = "yes"  # whether its Resource takes in the key: yes | no | unknown
    own_accounts: frozenset[str] = frozenset()  # literal IDs of the stack's own account ("self")
    unresolved: bool = False  # it names a principal the template does not determine

    def applies_to(self, subject: dict, has_boundary: bool = False) -> str | None:
        """How the statement reaches the subject: "named" (it names the subject),
        "everyone" (`*`, or NotPrincipal not excluding it), "account" (it names the
        subject's account: for an Allow, IAM policies decide), or None."""
        sid, account = subject["id"], subject.get("account")
        if account in self.own_accounts:
            account = "self"
        if self.mode == "NotPrincipal":
            if self.effect == "Deny" and has_boundary:
                return "everyone"  # IAM User Guide: NotPrincipal with Deny denies every bounded principal
            if sid in self.ids or account in self.accounts or self.anyone:
                return None
            return "everyone"
        if subject["kind"] == "account" and account in self.accounts:
            return "account" if self.effect == "Allow" else "named"
        if sid in self.ids:
            return "named"
        if self.anyone:
            return "everyone"
        if account in self.accounts:
            # an Allow to the account leaves it to IAM policies; a Deny applies to all of it
            return "account" if self.effect == "Allow" else "named"
        return None


    def may_name_anyone(self, subject: dict) -> bool:
        """An Allow naming a principal the template does not determine (a parameter
        without a value) may name the account or "*": for the account's principals and for
        strangers it may apply (unknown, never "no"; KP016 says which principal)."""
        return self.unresolved and self.effect == "Allow" and self.mode == "Principal" \
            and subject["kind"] in ("account", "any", "organization")

    def may_name_own_account(self, subject: dict) -> bool:
        """The statement names a literal account ID while nothing says which accounts are
        the stack's (no config `accounts`, no CDK environment): it may be the stack's own,
        so for the stack's principals it may apply (unknown, never "no"). Once the own
        accounts are listed, any other is another account."""
        return not self.own_accounts and self.mode == "Principal" and subject.get("account") == "self" \
            and any(ACCOUNT_LITERAL.fullmatch(a or "") for a in self.accounts)


def stored_mask(st: dict) -> int:
    """A normalized statement's action mask (its actions' when it has none stored)."""
    return st["action_mask"] if "action_mask" in st else catalog.action_mask(st["actions"])


def key_statements(key: dict, own_accounts: frozenset[str] = frozenset()) -> list[KeyStatement]:
    """The key's statements; an account named by a literal ID of the stack's own account
    (config `accounts`, a CDK stack's environment) is the stack's account, "self"."""
    out = []
    for st in key["statements"]:
        principals = st.get("principals") or []
        out.append(KeyStatement(
            index=st["index"], effect=st["effect"], mode=st.get("principal_mode") or "Principal",
            mask=stored_mask(st),
            ids=frozenset(p["id"] for p in principals),
            accounts=frozenset("self" if p["account"] in own_accounts else p["account"]
                               for p in principals if p["kind"] == "account"),
            anyone=any(p["kind"] == "any" for p in principals), raw=st,
            scope=st.get("key_scope", "yes"), own_accounts=own_accounts,
            unresolved=any(p["kind"] == "unknown" for p in principals)))
    return out


def covers(st: dict, key_id: str) -> str:
    """Whether an identity-policy statement's resources take in the key: yes, no, or
    unknown (a resource the template does not determine)."""
    resources = st.get("resources") or {}
    if key_id in resources.get("keys", []):
        return YES
    return UNKNOWN if resources.get("unresolved") else NO


def named_accounts(input_doc: dict) -> frozenset[str]:
    """Literal account IDs the template names (principals and condition values)."""
    found: set[str] = set()
    for key in input_doc.get("keys", {}).values():
        for st in key["statements"]:
            for p in st.get("principals") or []:
                if ACCOUNT_IN_TEXT.fullmatch(p.get("account") or ""):
                    found.add(p["account"])
            _accounts_in(st.get("condition", {}).get("block"), found)
    return frozenset(found)


def named_arns(input_doc: dict, own_accounts: frozenset[str]) -> frozenset[str]:
    """The principal ARNs the template singles out: its identities, the roles and users
    its key policies name, and the literal aws:PrincipalArn values of its conditions (an
    account's root user stays with the account)."""
    from .concrete import identity_arn
    from .subjects import account_token, principal_arn

    found: set[str] = set()
    for iid, identity in input_doc.get("identities", {}).items():
        if identity["kind"] in ("role", "user"):
            found.add(identity_arn(identity["kind"], iid, identity.get("name"), identity.get("iam_path") or "/"))
    for key in input_doc.get("keys", {}).values():
        for st in key["statements"]:
            for p in st.get("principals") or []:
                account = account_token(p.get("account") or "", own_accounts)
                if p["kind"] in ("role", "user", "assumed-role") and account and not p.get("identity"):
                    found.add(principal_arn({"id": p["id"], "kind": p["kind"]}, account))
            for operator, block in ((st.get("condition") or {}).get("block") or {}).items():
                for key_name, values in (block.items() if isinstance(block, dict) else ()):
                    if key_name.lower() == "aws:principalarn" and "like" not in operator.lower():
                        found.update(v for v in values if isinstance(v, str) and not v.endswith(":root")
                                     and "*" not in v and "?" not in v)
    return frozenset(found)


def generated_name_spaces(input_doc: dict) -> frozenset[str]:
    """The ARN globs CloudFormation names the template's unnamed roles and users from."""
    from .concrete import generated_name_space

    return frozenset(generated_name_space(identity["kind"], iid, identity.get("iam_path") or "/")
                     for iid, identity in input_doc.get("identities", {}).items()
                     if identity["kind"] in ("role", "user") and identity.get("name") is None)


def _accounts_in(value, found: set[str]) -> None:
    if isinstance(value, dict):
        for v in value.values():
            _accounts_in(v, found)
    elif isinstance(value, list):
        for v in value:
            _accounts_in(v, found)
    elif isinstance(value, str):
        found.update(ACCOUNT_IN_TEXT.findall(value))


__all__ = ["NO", "KeyStatement", "covers", "generated_name_spaces", "key_statements", "named_accounts", "named_arns"]
