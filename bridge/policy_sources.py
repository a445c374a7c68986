"""What a policy reference attaches (ManagedPolicyArns items, SAM `Policies` names,
PermissionsBoundary values): a customer managed policy of the template, an AWS managed
policy of the catalog, or a policy whose content the template does not show.

SAM turns a `Policies` name into an ARN as aws-sam-translator's `_get_managed_policy_arn`
does: the caller's map, then the map of AWS managed policies bundled with the translator
for the partition, then (names only) IAM's list of AWS managed policies (ListPolicies,
Scope AWS); a string starting with `arn:` is taken as an ARN, and a name found nowhere is
passed on as is (CloudFormation then rejects it). Both maps are AWS's own list of AWS
managed policies, which is what the catalog holds, so a name is looked up there.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import catalog
from .intrinsics import Sym, SymStr, literal, render
from .principals import split_symbolic

MANAGED_POLICY = "AWS::IAM::ManagedPolicy"


@dataclass(frozen=True)
class Source:
    """kind: customer (policy = logical id), aws (managed = the catalog entry), unknown."""

    kind: str
    text: str
    policy: str | None = None
    managed: dict | None = None
    reason: str | None = None


def _unknown(text: str, reason: str) -> Source:
    return Source("unknown", text, reason=reason)


class PolicySources:
    def __init__(self, resources: dict):
        self.resources = resources
        self.by_name = managed_policy_names(resources)

    def is_managed(self, rid: object) -> bool:
        """Whether `rid` is the logical id of one of the template's ManagedPolicies."""
        resource = self.resources.get(rid) if isinstance(rid, str) else None
        return isinstance(resource, dict) and resource.get("Type") == MANAGED_POLICY

    def of(self, alt: SymStr, *, sam_name: bool = False) -> Source:
        """The source one alternative of a policy reference designates. `sam_name`: a SAM
        `Policies` string, which may be a policy name instead of an ARN."""
        text = render(alt)
        if len(alt) == 1 and isinstance(alt[0], Sym):
            return self._symbol(alt[0], text)
        plain = literal(alt)
        if plain is not None and sam_name and not plain.startswith("arn:"):
            managed = catalog.aws_managed_policy_named(plain)
            if managed is not None:
                return Source("aws", text, managed=managed)
            return _unknown(text, f"SAM looks the name '{plain}' up among the AWS managed policies "
                                  f"when it deploys; {catalog.managed_catalog_source()} has no "
                                  "policy of that name")
        return self._arn(alt, text)

    def _symbol(self, sym: Sym, text: str) -> Source:
        if sym.kind == "ref" and self.is_managed(sym.value):
            return Source("customer", text, policy=sym.value)
        if sym.kind == "getatt":
            rid, _, attribute = sym.value.partition(".")
            if self.is_managed(rid) and attribute == "PolicyArn":
                return Source("customer", text, policy=rid)
        if sym.kind == "param":
            return _unknown(text, f"parameter {sym.value} has no value, so the policy is not known")
        if sym.kind == "unknown":
            return _unknown(text, f"the policy ARN comes from {sym.value}, whose policy the "
                                  "template does not show")
        return _unknown(text, f"{text} is not a managed policy the template defines")

    def _arn(self, alt: SymStr, text: str) -> Source:
        segments = split_symbolic(alt, ":")
        if len(segments) != 6 or literal(segments[0]) != "arn" or literal(segments[2]) != "iam":
            return _unknown(text, f"{text} is not an IAM policy ARN")
        resource = literal(segments[5])
        account = segments[4]
        if resource is None:
            return _unknown(text, f"the policy in {text} is not known until deploy")
        if not resource.startswith("policy/"):
            return _unknown(text, f"{text} is not an IAM policy ARN")
        if literal(account) == "aws":
            managed = catalog.aws_managed_policy(resource[len("policy/"):])
            if managed is not None:
                return Source("aws", text, managed=managed)
            return _unknown(text, f"AWS managed policy not in {catalog.managed_catalog_source()}")
        if len(account) == 1 and isinstance(account[0], Sym) and account[0].kind == "account":
            rid = self.by_name.get(resource[len("policy/"):])
            if rid is not None:
                return Source("customer", text, policy=rid)
        return _unknown(text, "a customer managed policy the template does not define "
                              "(another stack's or account's)")


def managed_policy_names(resources: dict) -> dict[str, str]:
    """{"path/name" after `policy/` in the ARN: logical id} of the template's ManagedPolicies
    whose ManagedPolicyName (and Path) are literal."""
    out: dict[str, str] = {}
    for rid, resource in resources.items():
        if not (isinstance(resource, dict) and resource.get("Type") == MANAGED_POLICY):
            continue
        props = resource.get("Properties")
        props = props if isinstance(props, dict) else {}
        name, path = props.get("ManagedPolicyName"), props.get("Path", "/")
        if isinstance(name, str) and isinstance(path, str):
            out[path.strip("/") + "/" + name if path.strip("/") else name] = rid
    return out
