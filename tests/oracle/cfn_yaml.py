"""Reads a CloudFormation/SAM template (YAML with short-form tags, or JSON) into plain data.

The referee's own reader: short-form tags become their long form (`!Ref X` ->
`{"Ref": "X"}`, `!GetAtt A.B` -> `{"Fn::GetAtt": ["A", "B"]}`), nothing else.
"""

from __future__ import annotations

import json

import yaml

_FN = ("Base64", "Cidr", "FindInMap", "GetAZs", "If", "ImportValue", "Join", "Select",
       "Split", "Sub", "Transform", "And", "Equals", "Not", "Or", "Length", "ToJsonString")


class _Loader(yaml.SafeLoader):
    pass


def _node(loader: _Loader, node: yaml.Node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _tag(name: str):
    def construct(loader: _Loader, node: yaml.Node):
        return {name: _node(loader, node)}
    return construct


def _getatt(loader: _Loader, node: yaml.Node):
    value = _node(loader, node)
    if isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::GetAtt": value}


_Loader.add_constructor("!Ref", _tag("Ref"))
_Loader.add_constructor("!Condition", _tag("Condition"))
_Loader.add_constructor("!GetAtt", _getatt)
for _name in _FN:
    _Loader.add_constructor(f"!{_name}", _tag(f"Fn::{_name}"))
# Timestamps and the like stay text, as CloudFormation reads them.
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
