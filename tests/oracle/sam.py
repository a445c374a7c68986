"""SAM functions' implicit roles, made explicit as AWS::IAM::Role resources.

A function (or state machine) without `Role` gets the role `<Id>Role` (trusting its
service), with `AWSLambdaBasicExecutionRole` for functions, every `Policies` item (a
managed policy name or ARN, a policy document, a SAM policy template expanded from
aws-sam-translator's own catalog) and `PermissionsBoundary` (from the function or
`Globals`). The result is a document whose roles the rest of the referee reads like any
other.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

from . import managed
from .resolve import NotConcrete

_TYPES = {
    "AWS::Serverless::Function": ("Function", "lambda.amazonaws.com", "service-role/AWSLambdaBasicExecutionRole"),
    "AWS::Serverless::StateMachine": ("StateMachine", "states.amazonaws.com", None),
}


@lru_cache(maxsize=1)
def policy_templates() -> dict:
    import samtranslator

    path = Path(samtranslator.__file__).parent / "policy_templates_data" / "policy_templates.json"
    return json.loads(path.read_text(encoding="utf-8"))["Templates"]


def expand(document: dict) -> dict:
    """A copy of `document` with every implicit SAM role added as a resource."""
    resources = document.get("Resources") or {}
    if not any(isinstance(r, dict) and r.get("Type") in _TYPES for r in resources.values()):
        return document
    doc = copy.deepcopy(document)
    globals_ = doc.get("Globals") or {}
    for logical, resource in list(doc["Resources"].items()):
        if not isinstance(resource, dict) or resource.get("Type") not in _TYPES:
            continue
        section, service, basic = _TYPES[resource["Type"]]
        props = resource.get("Properties") or {}
        if props.get("Role") is not None:
            continue
        role = {
            "Type": "AWS::IAM::Role",
            "Properties": _role(logical, props, service, basic, (globals_.get(section) or {})),
        }
        if "Condition" in resource:
            role["Condition"] = resource["Condition"]
        doc["Resources"][f"{logical}Role"] = role
    return doc


def _role(logical: str, props: dict, service: str, basic: str | None, globals_: dict) -> dict:
    items = props.get("Policies")
    if items is None:
        items = []
    if not isinstance(items, list):
        items = [items]
    managed_arns = [{"Fn::Sub": f"arn:${{AWS::Partition}}:iam::aws:policy/{basic}"}] if basic else []
    inline = []
    for index, item in enumerate(items):
        name = f"{logical}RolePolicy{index}"
        if isinstance(item, str):
            arn = item if item.startswith("arn:") else managed.arn_for_name(item)
            managed_arns.append(arn if arn else {"Fn::ImportValue": f"unknown managed policy {item}"})
        elif isinstance(item, dict) and "Statement" in item:
            inline.append({"PolicyName": name, "PolicyDocument": item})
        elif isinstance(item, dict) and len(item) == 1 and next(iter(item)) in policy_templates():
            ((template, params),) = item.items()
            inline.append({"PolicyName": name, "PolicyDocument": _template(template, params)})
        elif (
            isinstance(item, dict)
            and len(item) == 1
            and next(iter(item)) in ("Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Fn::ImportValue", "Fn::Join")
        ):
            managed_arns.append(item)
        else:
            inline.append(
                {
                    "PolicyName": name,
                    "PolicyDocument": {"Fn::ImportValue": f"unrecognized SAM policy {json.dumps(item)[:60]}"},
                }
            )
    role = {
        "AssumeRolePolicyDocument": {
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}}]
        },
        "ManagedPolicyArns": managed_arns,
        "Policies": inline,
    }
    boundary = props.get("PermissionsBoundary", globals_.get("PermissionsBoundary"))
    if boundary is not None:
        role["PermissionsBoundary"] = boundary
    return role


def _template(name: str, params: dict | None) -> dict:
    """The policy template's definition with its parameters substituted (as `Fn::Sub` locals)."""
    definition = policy_templates()[name]["Definition"]
    params = params if isinstance(params, dict) else {}
    return _substitute(copy.deepcopy(definition), params)


def _substitute(node, params: dict):
    if isinstance(node, list):
        return [_substitute(n, params) for n in node]
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in params:
            return params[node["Ref"]]
        return {k: _substitute(v, params) for k, v in node.items()}
    return node


__all__ = ["expand", "NotConcrete"]
