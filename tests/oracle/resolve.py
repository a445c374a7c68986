"""Concrete intrinsic functions: every value as CloudFormation would deploy it, or NotConcrete.

Ref (parameters from given values or Default, pseudo parameters, resources by their
physical IDs), Fn::Sub, Join, GetAtt (the ARNs and names of the resources the referee
models), Select, Split, FindInMap, If with Conditions evaluated, GetAZs, Base64. What
cannot be made concrete (ImportValue, an unmodelled attribute, a parameter with no value)
raises NotConcrete: the referee never guesses.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from .stack import Stack

NO_VALUE = object()  # AWS::NoValue: the property is removed


class NotConcrete(Exception):
    """A value the referee cannot make concrete; the message says which."""


_SUB = re.compile(r"\$\{([^}]*)\}")
_SSM_TYPE = "AWS::SSM::Parameter::Value"


class Resolver:
    def __init__(self, document: dict, stack: Stack):
        self.doc = document
        self.stack = stack
        self.resources = document.get("Resources") or {}
        self.parameters = document.get("Parameters") or {}
        self.mappings = document.get("Mappings") or {}
        self.conditions = document.get("Conditions") or {}
        self._condition_values: dict[str, bool] = {}

    # --- conditions ----------------------------------------------------------

    def condition(self, name: str) -> bool:
        if name not in self._condition_values:
            if name not in self.conditions:
                raise NotConcrete(f"unknown condition {name}")
            self._condition_values[name] = self._truth(self.conditions[name])
        return self._condition_values[name]

    def _truth(self, expr: Any) -> bool:
        if isinstance(expr, dict) and len(expr) == 1:
            (fn, arg), = expr.items()
            if fn == "Condition":
                return self.condition(arg)
            if fn == "Fn::Equals":
                left, right = (self.value(a) for a in arg)
                return _text(left) == _text(right)
            if fn == "Fn::And":
                return all(self._truth(a) for a in arg)
            if fn == "Fn::Or":
                return any(self._truth(a) for a in arg)
            if fn == "Fn::Not":
                return not self._truth(arg[0])
        raise NotConcrete(f"condition expression {json.dumps(expr)[:80]}")

    def exists(self, logical: str) -> bool:
        """Whether a resource is created (its Condition, if any, is true)."""
        resource = self.resources.get(logical)
        if not isinstance(resource, dict):
            return False
        cond = resource.get("Condition")
        return cond is None or self.condition(cond)

    # --- values --------------------------------------------------------------

    def value(self, node: Any, local: dict | None = None) -> Any:
        """`node` with every intrinsic resolved; NO_VALUE items dropped."""
        if isinstance(node, list):
            out = [self.value(item, local) for item in node]
            return [item for item in out if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (fn, arg), = node.items()
            handler = _FUNCTIONS.get(fn)
            if handler is not None:
                return handler(self, arg, local or {})
            if fn == "Condition" and isinstance(arg, str):
                return self.condition(arg)
        out = {}
        for key, item in node.items():
            item = self.value(item, local)
            if item is not NO_VALUE:
                out[key] = item
        return out

    def text(self, node: Any, local: dict | None = None) -> str:
        value = self.value(node, local)
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise NotConcrete(f"expected a string, got {json.dumps(value)[:60]}")
        return str(value)

    def ref(self, name: str, local: dict) -> Any:
        if name in local:
            return local[name]
        if name.startswith("AWS::"):
            if name == "AWS::NoValue":
                return NO_VALUE
            if name == "AWS::NotificationARNs":
                return []
            pseudo = self.stack.pseudo(name)
            if pseudo is None:
                raise NotConcrete(f"pseudo parameter {name}")
            return pseudo
        if name in self.parameters:
            return self.parameter(name)
        if name in self.resources:
            return self.physical(name, "Ref")
        raise NotConcrete(f"Ref {name}: no such parameter or resource")

    def parameter(self, name: str) -> Any:
        spec = self.parameters[name] if isinstance(self.parameters[name], dict) else {}
        kind = str(spec.get("Type", "String"))
        if name in self.stack.parameters:
            raw = self.stack.parameters[name]
        elif kind.startswith(_SSM_TYPE):
            raise NotConcrete(f"parameter {name} is read from SSM at deploy time")
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            raise NotConcrete(f"parameter {name} has no value")
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            return raw if isinstance(raw, list) else [p.strip() for p in str(raw).split(",")]
        return str(raw) if not isinstance(raw, str) else raw

    # --- resources -----------------------------------------------------------

    def properties(self, logical: str) -> dict:
        """The resource's Properties, `Properties: !If [...]` resolved to its branch."""
        props = self.resources[logical].get("Properties") or {}
        while isinstance(props, dict) and list(props) == ["Fn::If"]:
            condition, then, otherwise = props["Fn::If"]
            props = then if self.condition(condition) else otherwise
        return props if isinstance(props, dict) else {}

    def physical(self, logical: str, attribute: str) -> Any:
        """Ref (attribute "Ref") or GetAtt of a resource the referee models."""
        from .physical import attribute_of  # one module knows the resource types
        if not self.exists(logical):
            raise NotConcrete(f"{logical} is not created in this variant")
        return attribute_of(self, logical, attribute)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fn_ref(r: Resolver, arg: Any, local: dict) -> Any:
    return r.ref(r.text(arg, local) if not isinstance(arg, str) else arg, local)


def _fn_getatt(r: Resolver, arg: Any, local: dict) -> Any:
    if isinstance(arg, str):
        arg = arg.split(".", 1)
    logical, attribute = r.text(arg[0], local), r.text(arg[1], local)
    if logical not in r.resources:
        raise NotConcrete(f"GetAtt {logical}: no such resource")
    return r.physical(logical, attribute)


def _fn_sub(r: Resolver, arg: Any, local: dict) -> str:
    if isinstance(arg, list):
        template, variables = arg[0], arg[1] if len(arg) > 1 else {}
        local = {**local, **{k: r.value(v, local) for k, v in (variables or {}).items()}}
    else:
        template = arg
    if not isinstance(template, str):
        raise NotConcrete("Fn::Sub of a non-string")

    def one(match: re.Match) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in local:
            return _text(local[name])
        if "." in name and not name.startswith("AWS::"):
            logical, attribute = name.split(".", 1)
            return _text(_fn_getatt(r, [logical, attribute], local))
        return _text(r.ref(name, local))

    return _SUB.sub(one, template)


def _fn_join(r: Resolver, arg: Any, local: dict) -> str:
    sep, items = arg
    items = r.value(items, local)
    if not isinstance(items, list):
        raise NotConcrete("Fn::Join of a non-list")
    return r.text(sep, local).join(_text(i) for i in items)


def _fn_select(r: Resolver, arg: Any, local: dict) -> Any:
    index, items = int(r.text(arg[0], local)), r.value(arg[1], local)
    if not isinstance(items, list) or not 0 <= index < len(items):
        raise NotConcrete("Fn::Select out of range")
    return items[index]


def _fn_split(r: Resolver, arg: Any, local: dict) -> list:
    return r.text(arg[1], local).split(r.text(arg[0], local))


def _fn_findinmap(r: Resolver, arg: Any, local: dict) -> Any:
    names = [r.text(a, local) for a in arg[:3]]
    try:
        return r.value(r.mappings[names[0]][names[1]][names[2]], local)
    except (KeyError, TypeError):
        if len(arg) > 3 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
            return r.value(arg[3]["DefaultValue"], local)
        raise NotConcrete(f"FindInMap {names}: no such entry") from None


def _fn_if(r: Resolver, arg: Any, local: dict) -> Any:
    name, yes, no = arg
    return r.value(yes if r.condition(name) else no, local)


def _fn_getazs(r: Resolver, arg: Any, local: dict) -> list:
    return [f"{r.stack.region}{z}" for z in "abcdef"]


def _fn_base64(r: Resolver, arg: Any, local: dict) -> str:
    return base64.b64encode(r.text(arg, local).encode()).decode()


def _not_concrete(name: str):
    def handler(r: Resolver, arg: Any, local: dict) -> Any:
        raise NotConcrete(f"{name} is decided outside the template")
    return handler


def _fn_tojson(r: Resolver, arg: Any, local: dict) -> str:
    return json.dumps(r.value(arg, local), separators=(",", ":"))


_FUNCTIONS = {
    "Ref": _fn_ref, "Fn::GetAtt": _fn_getatt, "Fn::Sub": _fn_sub, "Fn::Join": _fn_join,
    "Fn::Select": _fn_select, "Fn::Split": _fn_split, "Fn::FindInMap": _fn_findinmap,
    "Fn::If": _fn_if, "Fn::GetAZs": _fn_getazs, "Fn::Base64": _fn_base64,
    "Fn::ToJsonString": _fn_tojson,
    "Fn::ImportValue": _not_concrete("Fn::ImportValue"), "Fn::Cidr": _not_concrete("Fn::Cidr"),
    "Fn::Transform": _not_concrete("Fn::Transform"), "Fn::Length": _not_concrete("Fn::Length"),
}
