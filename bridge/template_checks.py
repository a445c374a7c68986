"""Template errors CloudFormation itself rejects, in the parts kmspolicy reads.

`resource_count_problem` refuses a template over CloudFormation's resource quota before
any work is done. `template_problems` reports resources that are not a mapping with a
`Type`, `Properties` that are not a mapping, and, in keys and in the identities and
policies that can reach them, references to nothing the template defines and unknown
intrinsic functions. Each problem is (JSON pointer, message), like the normalizer's.

What hides part of the template is never taken as absent (`hidden_problems`): macros
(`Transform` names other than AWS::Serverless-2016-10-31 and AWS::LanguageExtensions,
`Fn::Transform` anywhere, AWS::Include among them), `Fn::ForEach` loops in Resources left
unexpanded (bridge/foreach.py expands those the template determines; a loop in Outputs
makes no resource), and nested stacks
(AWS::CloudFormation::Stack, AWS::Serverless::Application) that are handed one of this
template's keys: their template's identities and policies may use it and are not seen. A
nested stack that is given no key is not an error: its identities reach this template's
keys only through the account, like those of any other stack, which the account findings
already cover; its own keys are analysed when its template is.
"""

from __future__ import annotations

from typing import Any

from .intrinsics import Resolver, is_intrinsic, referenced_ids
from .sourcemap import escape_token, join_pointer

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


def template_problems(document: dict, resolver: Resolver, known: list[tuple[str, str]] = (),
                      scans: HidingScans | None = None) -> list[tuple[str, str]]:
    """Problems not already covered by `known` (a problem at or above the same pointer).
    `scans`: what the scans of the template's other variants found."""
    resources = document.get("Resources")
    if not isinstance(resources, dict):
        return []
    problems: list[tuple[str, str]] = []
    for rid, resource in resources.items():
        path = join_pointer("/Resources", rid)
        if rid.startswith("Fn::ForEach::") or rid == "Fn::Transform":  # hidden_problems
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
        if is_intrinsic(props):
            fn = next(iter(props))
            problems.append((join_pointer(path, "Properties"),
                             f"Properties of '{rid}': {macro_message(props[fn], fn)}"
                             if fn == "Fn::Transform" else
                             f"Properties of '{rid}' are given by {fn}, which cannot be read "
                             "here: the resource is not analysed"))
            continue
        if props is not None and not isinstance(props, dict):
            problems.append((join_pointer(path, "Properties"),
                             f"Properties of '{rid}' must be a mapping"))
            continue
        problems.extend(_reference_problems(rtype, resource, props or {}, path, resolver))
    problems.extend(p for p in hidden_problems(document, scans) if not _covered(p[0], problems))
    return [p for p in problems if not _covered(p[0], known)]


KNOWN_TRANSFORMS = ("AWS::Serverless-2016-10-31", "AWS::LanguageExtensions")
NESTED_STACK_TYPES = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")
KEY_TYPES = ("AWS::KMS::Key", "AWS::KMS::ReplicaKey")


def cannot_define_key(resources: dict) -> bool:
    """No resource is or may become a KMS key: each is a mapping whose Type is a string
    naming another type, and no Fn::ForEach loop creates resources. (What a macro or an
    AWS::Include may add is `hidden_problems`' to report.)"""
    return all(isinstance(resource, dict) and isinstance(resource.get("Type"), str)
               and resource["Type"] not in KEY_TYPES and not rid.startswith("Fn::ForEach::")
               for rid, resource in resources.items())


def hidden_problems(document: dict, scans: HidingScans | None = None) -> list[tuple[str, str]]:
    """The parts of the template that CloudFormation fills in at deploy or elsewhere.
    `scans`: what the scans of the template's other variants found."""
    may_hide = scans.may_hide if scans is not None else may_hide_any
    problems: list[tuple[str, str]] = []
    transform = document.get("Transform")
    items = list(enumerate(transform)) if isinstance(transform, list) else [(None, transform)]
    for i, item in items:
        at = "/Transform" if i is None else f"/Transform/{i}"
        name = item.get("Name") if isinstance(item, dict) else item
        if transform is not None and name not in KNOWN_TRANSFORMS:
            problems.append((at, macro_message(item, "Transform")))
    stack: list[tuple[Any, str]] = [(v, join_pointer("", k)) for k, v in document.items()
                                    if k != "Transform" and may_hide(v)]
    while stack:
        node, at = stack.pop()
        if isinstance(node, list):
            stack.extend((v, f"{at}/{i}") for i, v in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            here = f"{at}/{escape_token(key)}"
            if key == "Fn::Transform":
                problems.append((here, macro_message(value, "Fn::Transform")))
            elif key.startswith("Fn::ForEach::") and at.startswith("/Resources"):
                problems.append((here, "Fn::ForEach over a collection the template does not "
                                       "determine: the resources it creates are not analysed"))
            else:
                stack.append((value, here))
    problems.extend(_nested_stack_problems(document))
    return sorted(problems)


def may_hide_any(value: Any) -> bool:
    """Whether a mapping inside `value` has an Fn::Transform or Fn::ForEach key (checked
    without building the pointers of the nodes that have none)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if _names_hiding(node):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _names_hiding(mapping: dict) -> bool:
    keys = "\n".join(mapping)  # a false alarm only costs the walk that builds pointers
    return "Fn::Transform" in keys or "Fn::ForEach::" in keys


class HidingScans:
    """`may_hide_any` for the variants of one template: their documents share the sections
    and resources `variant.choose` left as they are, and each of those is scanned once.
    A kept answer holds its node, so the node's id() names it while kept. `nothing_hides`:
    the template's text holds no key that hides (LoadedTemplate.may_hide), so none is scanned."""

    MAX_KEPT = 4096

    def __init__(self, nothing_hides: bool = False) -> None:
        self._kept: dict[int, tuple[Any, bool]] = {}
        self.nothing_hides = nothing_hides

    def may_hide(self, value: Any) -> bool:
        """A top-level section: a Resources mapping is new in each variant, its resources are not."""
        if self.nothing_hides:
            return False
        if isinstance(value, dict):
            return _names_hiding(value) or any(self._scanned(v) for v in value.values())
        return self._scanned(value)

    def _scanned(self, node: Any) -> bool:
        if not isinstance(node, dict | list):
            return False
        kept = self._kept.get(id(node))
        if kept is not None and kept[0] is node:
            return kept[1]
        if len(self._kept) >= self.MAX_KEPT:
            self._kept.clear()
        answer = may_hide_any(node)
        self._kept[id(node)] = (node, answer)
        return answer


def macro_message(value: Any, where: str) -> str:
    """What a Transform item or an Fn::Transform argument hides."""
    name = value.get("Name") if isinstance(value, dict) else value
    if name == "AWS::Include":
        params = value.get("Parameters") if isinstance(value, dict) else None
        location = params.get("Location") if isinstance(params, dict) else None
        source = f" from {location}" if isinstance(location, str) else ""
        return (f"{where} AWS::Include inserts a template snippet{source} at deploy: what it "
                "includes is not analysed")
    shown = name if isinstance(name, str) else "a macro the template does not name"
    return f"{where} {shown} rewrites the template at deploy: what it produces is not analysed"


def _nested_stack_problems(document: dict) -> list[tuple[str, str]]:
    resources = document.get("Resources")
    if not isinstance(resources, dict):
        return []
    keys = {rid for rid, r in resources.items() if isinstance(r, dict) and r.get("Type") in KEY_TYPES}
    out = []
    for rid, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") not in NESTED_STACK_TYPES:
            continue
        given = sorted(referenced_ids(resource.get("Properties"), keys))
        if given:
            out.append((join_pointer("/Resources", rid),
                        f"nested stack '{rid}' ({resource['Type']}) is given {', '.join(given)}: "
                        "the identities and policies its template defines may use the key and "
                        "are not analysed"))
    return out


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
