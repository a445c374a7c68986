"""How an intended principal is written in a key policy so that the template deploys.

KMS rejects a key policy naming a principal that does not exist yet, and a reference to a
role (`!GetAtt Role.Arn`) makes the key wait for the role: fine, unless the role itself
waits for the key (its policies reference it, as a SAM function's implicit role does with
`KMSDecryptPolicy: {KeyId: !Ref Key}`), which is a circular dependency. Such a principal
is named through the account principal with an `aws:PrincipalArn` condition: condition
values are not checked against existing principals, and the role's own IAM policy, which
already allows the actions, completes the bilateral grant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..sourcemap import split_pointer
from .deps import depends_on

ACCOUNT_PRINCIPAL = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}


class NamingError(ValueError):
    """An intended principal cannot be written in the key policy (exit 2, no patch)."""


@dataclass
class Naming:
    principal: Any  # the value of Principal.AWS
    condition: dict | None = None
    notes: list[str] = field(default_factory=list)
    through_account: bool = False  # the account principal, narrowed by aws:PrincipalArn


def node_at(document: Any, pointer: str) -> Any:
    node = document
    for token in split_pointer(pointer):
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def as_value(text: str) -> Any:
    """A principal ARN typed by the operator, as a template value."""
    return {"Fn::Sub": text} if "${" in text else text


def name_identity(document: dict, identity: dict, key_id: str) -> Naming:
    """A role or user the template defines."""
    resources = document.get("Resources") or {}
    iid = identity["id"]
    shown = identity.get("owner") or iid
    if not depends_on(resources, iid, key_id):
        return Naming({"Fn::GetAtt": [iid, "Arn"]},
                      notes=[f"{shown}: named by !GetAtt {iid}.Arn; {iid} does not depend on {key_id}, "
                             "so it exists before the key is created."])
    kind = "user" if identity["kind"] == "user" else "role"
    path = identity.get("iam_path") or "/"
    prefix = f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:{kind}{path}"
    why = (f"{shown}: !GetAtt {iid}.Arn here would be a circular dependency ({iid} depends on "
           f"{key_id}), and KMS rejects a principal that does not exist yet, so the account "
           "principal is narrowed to it by aws:PrincipalArn; its own IAM policy completes the grant.")
    name = _literal_name(resources.get(iid), kind)
    if name is not None:
        return Naming(ACCOUNT_PRINCIPAL, {"ArnEquals": {"aws:PrincipalArn": {"Fn::Sub": prefix + name}}},
                      [why], through_account=True)
    pattern = f"{prefix}${{AWS::StackName}}-{iid}-*"
    return Naming(ACCOUNT_PRINCIPAL, {"ArnLike": {"aws:PrincipalArn": {"Fn::Sub": pattern}}},
                  [why, f"{iid} has no fixed name: CloudFormation names it <stack name>-{iid}-<suffix> "
                        "(shortened past 64 characters; give it a name to match it exactly)."],
                  through_account=True)


def _literal_name(resource: Any, kind: str) -> str | None:
    """The name a template gives a role or user, as `Fn::Sub` text (None: generated)."""
    props = resource.get("Properties") if isinstance(resource, dict) else None
    value = (props or {}).get("RoleName" if kind == "role" else "UserName")
    if isinstance(value, str):
        return value.replace("${", "${!")
    if isinstance(value, dict) and list(value) == ["Ref"] and isinstance(value["Ref"], str):
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and list(value) == ["Fn::Sub"] and isinstance(value["Fn::Sub"], str):
        return value["Fn::Sub"]
    return None
