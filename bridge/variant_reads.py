"""What the analysis of a deployable variant can read, so that variants alike in it are
analysed once.

A template's Conditions often vary only resources the analysis never reads (a VPC made or
not, an EventBridge rule for alerts): their variants give the same rule input, findings
and errors. `VariantReads(document)` finds the resources the analysis can read and
`key(scenario)` what a scenario shows of them: for each, whether it is deployed and the
branch of every Fn::If inside it, and the values the scenario fixes for the parameters
they (or the template's other sections) name. Scenarios with the same key are analysed
once; `key` is None when the template's reads cannot be bounded (Fn::ForEach in
Resources).

Read are: keys, aliases, IAM and SAM resources and nested stacks (by type namespace, so a
type added to the normalizer is covered); any resource with a `Role` property
(`_mark_references`) or a `Metadata.kmspolicy` block; any resource the template checks
could report (not a mapping, no string Type, Properties not a plain mapping, a macro or a
loop inside); and, transitively, every resource these refer to (Ref, Fn::GetAtt, Fn::Sub,
or a string that is its logical id), since resolving a reference reads its target.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .intrinsics import is_intrinsic, referenced_ids
from .scenarios import Scenario
from .template_checks import NESTED_STACK_TYPES, may_hide_any
from .variant import named_conditions

READ_NAMESPACES = ("AWS::KMS::", "AWS::IAM::", "AWS::Serverless::")
_OUTSIDE_RESOURCES = ("Resources", "Conditions", "Outputs", "Rules", "Parameters")


class VariantReads:
    def __init__(self, document: dict, may_hide: Callable[[Any], bool] = may_hide_any):
        """`may_hide`: whether a resource may hold a key that hides (HidingScans.may_hide)."""
        resources = document.get("Resources")
        self.resources: dict = resources if isinstance(resources, dict) else {}
        self.bounded = not any(rid.startswith("Fn::ForEach::") for rid in self.resources)
        self.read = self._closure([rid for rid, r in self.resources.items() if _read_itself(rid, r, may_hide)])
        self.named = {rid: tuple(sorted(named_conditions(self.resources[rid]))) for rid in self.read}
        parameters = document.get("Parameters")
        names = set(parameters) if isinstance(parameters, dict) else set()
        sections = [v for k, v in document.items() if k not in _OUTSIDE_RESOURCES]
        read = [self.resources[rid] for rid in self.read]
        self.parameters = referenced_ids(sections, names) | _mentioned(read, names)

    def _closure(self, seeds: list[str]) -> list[str]:
        ids = set(self.resources)
        read = set(seeds)
        stack = list(seeds)
        while stack:
            resource = self.resources[stack.pop()]
            for target in _mentioned([resource], ids):
                if target not in read:
                    read.add(target)
                    stack.append(target)
        return sorted(read)

    def key(self, scenario: Scenario) -> tuple | None:
        if not self.bounded:
            return None
        truth = scenario.truth()
        seen = []
        for rid in self.read:
            resource = self.resources[rid]
            condition = resource.get("Condition") if isinstance(resource, dict) else None
            if truth.get(condition, True) is False:
                seen.append((rid, False))
            else:
                seen.append((rid, True, tuple(truth.get(name) for name in self.named[rid])))
        fixed = tuple((name, value) for name, value in scenario.parameters if name in self.parameters)
        return tuple(seen), fixed


def _read_itself(rid: str, resource: Any, may_hide: Callable[[Any], bool]) -> bool:
    if not isinstance(resource, dict) or rid == "Fn::Transform":
        return True
    rtype = resource.get("Type")
    if not isinstance(rtype, str) or not rtype:
        return True
    if rtype.startswith(READ_NAMESPACES) or rtype in NESTED_STACK_TYPES:
        return True
    props = resource.get("Properties")
    if props is not None and (not isinstance(props, dict) or is_intrinsic(props)):
        return True
    metadata = resource.get("Metadata")
    if isinstance(metadata, dict) and "kmspolicy" in metadata:
        return True
    return (isinstance(props, dict) and "Role" in props) or may_hide(resource)


def _mentioned(values: list, names: set[str]) -> set[str]:
    """The `names` that `values` refer to (Ref, Fn::GetAtt, Fn::Sub) or write out as a
    string or a key, anywhere inside (an intent entry, DependsOn, a literal policy target)."""
    found = referenced_ids(values, names)
    stack = list(values)
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if node in names:
                found.add(node)
        elif isinstance(node, dict):
            found.update(k for k in node if k in names)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found
