"""The statements of the least-privilege key policy, one job per statement.

- root: `break-glass` keeps the account principal for the root user only (aws:PrincipalArn
  equal to the account's `:root`); `delegate` delegates the key to the account's IAM
  policies, a choice the intent states.
- deployer: what CloudFormation calls on the key while it creates, reads, updates and
  deletes it (the `handlers` permissions of the AWS::KMS::Key or AWS::KMS::ReplicaKey
  resource provider schema, less kms:CreateKey and kms:ListKeys, which are not key-scoped;
  kms:ReplicateKey on a multi-Region primary, for its replicas; the AWS::KMS::Alias
  handlers' alias actions when the template has an alias for the key), kms:PutKeyPolicy
  included, which the policy lockout safety check requires of the caller of CreateKey and
  PutKeyPolicy.
- administrators: the management and read actions the key supports that each has now (all
  of them for one the current policy gives none), listed one by one: no use action, no
  kms:CreateGrant, no kms:PutKeyPolicy, so none can give itself use.
- kept as written: every Deny of the old policy (dropping one could only widen access)
  and every Allow to AWS services or service-linked roles (the services that encrypt for
  the stack need them; fix does not narrow them).
- users: exactly the use actions each requests (its identity policies, or what the key
  policy gave a principal outside the template), and kms:CreateGrant only with
  kms:GrantIsForAWSResource where it asks for grants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .. import catalog
from ..access.keytypes import use_actions
from .naming import ACCOUNT_PRINCIPAL, Naming

DEPLOYER_ACTIONS = (
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus",
    "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:EnableKey", "kms:DisableKey",
    "kms:UpdateKeyDescription", "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
)
# AWS::KMS::ReplicaKey's handlers (kms:ReplicateKey is called on the primary, not the replica)
REPLICA_DEPLOYER_ACTIONS = (
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:EnableKey", "kms:DisableKey",
    "kms:UpdateKeyDescription", "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
)
ALIAS_ACTIONS = ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias")
ROTATION_ACTIONS = ("kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:RotateKeyOnDemand",
                    "kms:GetKeyRotationStatus", "kms:ListKeyRotations")
IMPORT_ACTIONS = ("kms:ImportKeyMaterial", "kms:DeleteImportedKeyMaterial", "kms:GetParametersForImport")
MULTI_REGION_ACTIONS = ("kms:ReplicateKey", "kms:UpdatePrimaryRegion", "kms:SynchronizeMultiRegionKey")
ADMIN_EXTRA = ("kms:RevokeGrant",)  # removes access, gives none
GRANT_CONDITION = {"Bool": {"kms:GrantIsForAWSResource": "true"}}


@dataclass
class Statement:
    role: str  # root | deployer | admin | user | grant
    sid: str
    naming: Naming
    actions: list[str]
    notes: list[str] = field(default_factory=list)
    extra_condition: dict | None = None
    who: str = ""  # the subject id it serves
    kept: Any = None  # a statement of the old policy carried over as written
    iam_user: bool = False  # it names an IAM user (long-term credentials), as the intent asks

    def document(self) -> dict:
        if self.kept is not None:
            return self.kept
        out: dict[str, Any] = {"Sid": self.sid, "Effect": "Allow", "Principal": {"AWS": self.naming.principal},
                               "Action": self.actions[0] if len(self.actions) == 1 else list(self.actions),
                               "Resource": "*"}
        condition = _merge_conditions(self.naming.condition, self.extra_condition)
        if condition:
            out["Condition"] = condition
        return out


def _merge_conditions(*blocks: dict | None) -> dict:
    out: dict = {}
    for block in blocks:
        for operator, values in (block or {}).items():
            out.setdefault(operator, {}).update(values)
    return out


def root_statement(mode: str) -> Statement:
    if mode == "delegate":
        return Statement("root", "AccountDelegation", Naming(ACCOUNT_PRINCIPAL), ["kms:*"],
                         ["Account delegation, by choice (root: delegate): the account's IAM policies "
                          "decide who else may use and manage this key."])
    root = {"ArnEquals": {"aws:PrincipalArn": ACCOUNT_PRINCIPAL}}
    return Statement("root", "RootUserBreakGlass", Naming(ACCOUNT_PRINCIPAL, root), ["kms:*"],
                     ["Break-glass: the account's root user only (aws:PrincipalArn); without the "
                      "condition the account principal delegates the key to every IAM policy of the account."])


def deployer_actions(key: dict, has_alias: bool) -> list[str]:
    """A multi-Region primary also lets the deployer create its replicas (kms:ReplicateKey)."""
    if key.get("type") == "AWS::KMS::ReplicaKey":
        base: tuple[str, ...] = REPLICA_DEPLOYER_ACTIONS
    else:
        base = DEPLOYER_ACTIONS + (("kms:ReplicateKey",) if key.get("multi_region") else ())
    return [*base, *(ALIAS_ACTIONS if has_alias else ())]


def admin_actions(key: dict) -> list[str]:
    """Management and read actions this key supports, plus RevokeGrant."""
    skip = set()
    symmetric_aws = key.get("key_spec") == "SYMMETRIC_DEFAULT" and key.get("origin") in (None, "AWS_KMS") \
        and not key.get("custom_key_store") and key.get("type") != "AWS::KMS::ReplicaKey"
    if not symmetric_aws:
        skip.update(ROTATION_ACTIONS)
    if key.get("origin") != "EXTERNAL":
        skip.update(IMPORT_ACTIONS)
    if not key.get("multi_region"):
        skip.update(MULTI_REGION_ACTIONS)
    if key.get("key_spec") in (None, "SYMMETRIC_DEFAULT") or str(key.get("key_spec")).startswith("HMAC_"):
        skip.add("kms:GetPublicKey")
    chosen = [a for a in catalog.ALL_ACTIONS if catalog.action_class(a) in ("manage", "read") and a not in skip]
    return sorted(chosen) + list(ADMIN_EXTRA)


def supported_use(key: dict) -> set[str]:
    actions = use_actions(key.get("key_spec"), key.get("key_usage"))
    if actions is None:
        return {a for a in catalog.ALL_ACTIONS if catalog.action_class(a) == "use"}
    return set(actions)


def ordered(actions: set[str]) -> list[str]:
    return sorted(actions)


def sid_of(prefix: str, label: str, taken: set[str]) -> str:
    """An alphanumeric Sid from a principal's label (its last ARN segment)."""
    tail = re.split(r"[:/]", label)[-1] or label
    words = [w for w in re.split(r"[^0-9A-Za-z]+", tail) if w]
    base = prefix + ("".join(w[0].upper() + w[1:] for w in words) or "Principal")
    sid, n = base, 2
    while sid in taken:
        sid, n = f"{base}{n}", n + 1
    taken.add(sid)
    return sid
