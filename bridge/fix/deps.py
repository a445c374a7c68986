"""Which resources a resource depends on, as CloudFormation orders them: `Ref`, `Fn::GetAtt`,
`Fn::Sub` variables and `DependsOn`. A key policy that references a role which itself
depends on the key is a circular dependency (cfn-lint E3004), so such a role must be named
without a reference. A SAM function's implicit role `<Function>Role` is generated from the
function's `Policies`, `PermissionsBoundary` and `RolePath`, so it depends on what those reference.
"""

from __future__ import annotations

from typing import Any

from .. import sam
from ..intrinsics import referenced_ids

_IMPLICIT_ROLE_SOURCES = ("Policies", "PermissionsBoundary", "RolePath", "AssumeRolePolicyDocument")


def direct_dependencies(resources: dict, rid: str) -> set[str]:
    """The logical IDs `rid` references or names in DependsOn."""
    ids = set(resources) | set(_implicit_roles(resources))
    owner = _implicit_role_owner(resources, rid)
    if owner is not None:
        props = _props(resources[owner])
        return referenced_ids([props.get(name) for name in _IMPLICIT_ROLE_SOURCES], ids) - {rid}
    resource = resources.get(rid)
    if not isinstance(resource, dict):
        return set()
    found = referenced_ids(resource.get("Properties"), ids)
    depends = resource.get("DependsOn")
    for name in depends if isinstance(depends, list) else [depends]:
        if isinstance(name, str) and name in ids:
            found.add(name)
    if resource.get("Type") in sam.SAM_ROLE_OWNERS and "Role" not in _props(resource):
        found.add(sam.implicit_role_id(rid))
    return found - {rid}


def depends_on(resources: dict, rid: str, target: str) -> bool:
    """Whether creating `rid` needs `target` first (transitively)."""
    seen: set[str] = set()
    stack = [rid]
    while stack:
        current = stack.pop()
        for dep in direct_dependencies(resources, current):
            if dep == target:
                return True
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return False


def _props(resource: Any) -> dict:
    props = resource.get("Properties") if isinstance(resource, dict) else None
    return props if isinstance(props, dict) else {}


def _implicit_roles(resources: dict) -> dict[str, str]:
    return {sam.implicit_role_id(rid): rid for rid, r in resources.items()
            if isinstance(r, dict) and r.get("Type") in sam.SAM_ROLE_OWNERS and "Role" not in _props(r)}


def _implicit_role_owner(resources: dict, rid: str) -> str | None:
    if rid in resources:
        return None
    return _implicit_roles(resources).get(rid)
