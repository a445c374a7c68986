"""Every deployable variant of a template, deployed by the referee on its own terms.

kmspolicy names a template's variants (bridge/scenarios.py: one scenario per consistent
truth of its Conditions). For each, `realize(...)` finds concrete parameter values (and a
region, when a Condition tests AWS::Region) under which the referee's own resolver
(resolve.py) gives every Condition that same truth: a scenario no such values realize is
reported, never deployed on trust. `condition_parameters(document)` names the parameters
the Conditions read, which are left for the variants to choose rather than given one value.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

from .resolve import NotConcrete, Resolver
from .stack import Stack

OTHER_REGION = "eu-west-3"  # a region no Condition of the generated templates names
MAX_TRIES = 512


def _refs(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        if list(node) == ["Ref"] and isinstance(node["Ref"], str):
            out.add(node["Ref"])
        for value in node.values():
            _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)
    return out


def _literals(node: Any, out: list[str]) -> list[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "Ref":
                _literals(value, out)
    elif isinstance(node, list):
        for value in node:
            _literals(value, out)
    elif isinstance(node, (str, int, float)) and not isinstance(node, bool) and str(node) not in out:
        out.append(str(node))
    return out


def condition_parameters(document: dict) -> set[str]:
    conditions = document.get("Conditions")
    params = document.get("Parameters") if isinstance(document.get("Parameters"), dict) else {}
    return {n for n in _refs(conditions, set()) if n in params} if isinstance(conditions, dict) else set()


def realize(document: dict, truth: dict[str, bool], fixed: dict[str, str], given: dict,
            stack: Stack) -> tuple[dict, Stack] | None:
    """(parameters, stack) under which the referee's Conditions have `truth`, or None.
    `fixed`: the values kmspolicy's scenario fixes; `given`: what both sides were given."""
    conditions = document.get("Conditions") or {}
    specs = document.get("Parameters") if isinstance(document.get("Parameters"), dict) else {}
    literals = _literals(conditions, [])
    free = sorted(n for n in condition_parameters(document) if n not in given and n not in fixed)
    choices: list[list[tuple[str, str]]] = []
    for name in free:
        spec = specs.get(name) if isinstance(specs.get(name), dict) else {}
        allowed = spec.get("AllowedValues")
        values = [str(v) for v in allowed] if isinstance(allowed, list) and allowed else \
            [f"given-{name}"] + literals
        choices.append([(name, v) for v in dict.fromkeys(values)])
    regions = [stack.region]
    if "AWS::Region" in _refs(conditions, set()):
        regions += [v for v in literals if v.count("-") >= 2 and v[-1].isdigit()] + [OTHER_REGION]
    for region, combo in itertools.islice(itertools.product(dict.fromkeys(regions),
                                                            itertools.product(*choices)), MAX_TRIES):
        params = {**given, **fixed, **dict(combo)}
        deployed = replace(stack, region=region, parameters=params)
        resolver = Resolver(document, deployed)
        try:
            if all(resolver.condition(name) is value for name, value in truth.items()):
                return params, deployed
        except NotConcrete:
            continue
    return None
