"""Template errors CloudFormation itself rejects, in the parts kmspolicy reads.

`resource_count_problem` refuses a template over CloudFormation's resource quota before
any work is done. `template_problems` reports resources that are not a mapping with a
`Type`, `Properties` that are not a mapping, and, in keys and in the identities and
policies that can reach them, references to nothing the template defines and unknown
intrinsic functions. Each problem is (JSON pointer, message), like the normalizer's.
"""

from __future__ import annotations

from typing import Any

from .intrinsics import Resolver
from .sourcemap import join_pointer

MAX_RESOURCES = 500
"""CloudFormation's quota of resources per template; beyond it the file is refused."""

# Resource type → the properties whose references matter for key access (None: all).
_CHECKED_PROPERTIES: dict[str, tuple[str, ...] | None] = {
    "AWS::KMS::Key": None,
    "AWS::KMS::ReplicaKey": None,
    "AWS::IAM::Policy": None,
    "AWS::IAM::ManagedPolicy": None,
    "AWS::IAM::RolePolicy": None,
    "AWS::IAM::UserPolicy": None,
    "AWS::IAM::GroupPolicy": None,
    "AWS::IAM::Role": ("Policies", "ManagedPolicyArns", "RoleName"),
    "AWS::IAM::User": ("Policies", "ManagedPolicyArns", "Groups", "UserName"),
    "AWS::IAM::Group": ("Policies", "ManagedPolicyArns", "GroupName"),
    "AWS::Serverless::Function": ("Role", "Policies"),
    "AWS::Serverless::StateMachine": ("Role", "Policies"),
}


def resource_count_problem(resources: dict) -> str | None:
    if len(resources) > MAX_RESOURCES:
        return (f"template has {len(resources):,} resources, more than CloudFormation's limit "
                f"of {MAX_RESOURCES} (MAX_RESOURCES); the file is not analyzed")
    return None


def template_problems(document: dict, resolver: Resolver,
                      known: list[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """Problems not already covered by `known` (a problem at or above the same pointer)."""
    resources = document.get("Resources")
    if not isinstance(resources, dict):
        return []
    problems: list[tuple[str, str]] = []
    for rid, resource in resources.items():
        path = join_pointer("/Resources", rid)
        if rid.startswith("Fn::ForEach::"):  # AWS::LanguageExtensions loop, expanded at deploy
            continue
        if not isinstance(resource, dict):
            problems.append((path, f"resource '{rid}' must be a mapping with a Type"))
            continue
        rtype = resource.get("Type")
        if not isinstance(rtype, str) or not rtype:
            problems.append((join_pointer(path, "Type") if "Type" in resource else path,
                             f"resource '{rid}' needs a Type that is a string"))
            continue
        props = resource.get("Properties")
        if props is not None and not isinstance(props, dict):
            problems.append((join_pointer(path, "Properties"),
                             f"Properties of '{rid}' must be a mapping"))
            continue
        problems.extend(_reference_problems(rtype, resource, props or {}, path, resolver))
    return [p for p in problems if not _covered(p[0], known)]


def _reference_problems(rtype: str, resource: dict, props: dict, path: str,
                        resolver: Resolver) -> list[tuple[str, str]]:
    if rtype not in _CHECKED_PROPERTIES:
        return []
    names = _CHECKED_PROPERTIES[rtype]
    parts: list[tuple[Any, str]] = [(props, join_pointer(path, "Properties"))] if names is None \
        else [(props[n], join_pointer(path, "Properties", n)) for n in names if n in props]
    metadata = resource.get("Metadata")
    if isinstance(metadata, dict) and "kmspolicy" in metadata:
        parts.append((metadata["kmspolicy"], join_pointer(path, "Metadata", "kmspolicy")))
    return [problem for value, at in parts for problem in resolver.reference_problems(value, at)]


def _covered(pointer: str, known) -> bool:
    return any(pointer == k or pointer.startswith(k + "/") for k, _ in known)
