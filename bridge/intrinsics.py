"""Symbolic resolution of CloudFormation intrinsic functions.

A value that is unknown until deploy stays symbolic instead of being guessed. Strings
resolve to a list of alternatives (``Fn::If`` yields both branches); each alternative is
a `SymStr`: a tuple of literal text and `Sym` parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product
from typing import Any

from .sourcemap import escape_token

MAX_ALTERNATIVES = 64
"""Most values one string may take (Fn::If branches times Fn::FindInMap rows…); beyond
it the string is an error, never a silently shortened list."""
# Every intrinsic function CloudFormation knows (including AWS::LanguageExtensions' and the
# Rules section's); any other `Fn::` name is a template error, not an unknown value.
KNOWN_FUNCTIONS = frozenset((
    "Ref", "Condition", "Fn::Base64", "Fn::Cidr", "Fn::FindInMap", "Fn::GetAtt", "Fn::GetAZs",
    "Fn::ImportValue", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::Sub", "Fn::Transform",
    "Fn::If", "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Fn::Length", "Fn::ToJsonString",
    "Fn::Contains", "Fn::EachMemberEquals", "Fn::EachMemberIn", "Fn::RefAll", "Fn::ValueOf",
    "Fn::ValueOfAll",
))
PSEUDO_LITERALS = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class Sym:
    """A piece of a string known only at deploy time.

    kind: account (value "self"), region, stack, param, ref (a logical resource),
    getatt ("Resource.Attribute"), unknown (value says why).
    """

    kind: str
    value: str = ""

    def placeholder(self) -> str:
        if self.kind == "account":
            return "${AWS::AccountId}"
        if self.kind == "region":
            return "${AWS::Region}"
        if self.kind == "stack":
            return "${AWS::StackName}"
        if self.kind == "unknown":
            return "<" + self.value + ">"
        return "${" + self.value + "}"


SymStr = tuple  # tuple[str | Sym, ...]


class IntrinsicError(ValueError):
    """An intrinsic function used with the wrong shape."""


def render(value: SymStr) -> str:
    return "".join(p if isinstance(p, str) else p.placeholder() for p in value)


def is_literal(value: SymStr) -> bool:
    return all(isinstance(p, str) for p in value)


def literal(value: SymStr) -> str | None:
    return "".join(value) if is_literal(value) else None


def symbols(value: SymStr) -> list[Sym]:
    return [p for p in value if isinstance(p, Sym)]


def _concat(parts: list[SymStr]) -> SymStr:
    out: list = []
    for part in parts:
        for piece in part:
            if isinstance(piece, str) and out and isinstance(out[-1], str):
                out[-1] += piece
            elif piece != "":
                out.append(piece)
    return tuple(out)


class Resolver:
    """Resolves intrinsics against one template's parameters, resources and mappings."""

    def __init__(self, document: dict, parameter_values: dict[str, str] | None = None):
        self.resources = document.get("Resources") if isinstance(document.get("Resources"), dict) else {}
        self.mappings = document.get("Mappings") if isinstance(document.get("Mappings"), dict) else {}
        params = document.get("Parameters") if isinstance(document.get("Parameters"), dict) else {}
        self.parameters: dict[str, Any] = {}
        for name, spec in params.items():
            if parameter_values and name in parameter_values:
                self.parameters[name] = parameter_values[name]
            elif isinstance(spec, dict) and "Default" in spec and isinstance(spec["Default"], bool):
                # a YAML boolean default is the parameter's string "true"/"false"
                self.parameters[name] = "true" if spec["Default"] else "false"
            elif isinstance(spec, dict) and "Default" in spec and _scalar(spec["Default"]):
                self.parameters[name] = str(spec["Default"])
            else:
                self.parameters[name] = None
        for name, value in (parameter_values or {}).items():
            self.parameters.setdefault(name, value)
        self.list_parameters = frozenset(
            name for name, spec in params.items()
            if isinstance(spec, dict) and str(spec.get("Type", "")).startswith(("CommaDelimitedList", "List<")))
        self.implicit_resources: set[str] = set()
        self.sam_resources = _sam_resource_ids(document, self.resources)

    def is_resource(self, name: str) -> bool:
        if name in self.resources or name in self.implicit_resources:
            return True
        # SAM generates resources named after its own (FunctionRole, FunctionAliaslive,
        # ApiDeployment…) and ServerlessRestApi/ServerlessHttpApi for implicit APIs.
        return bool(self.sam_resources) and (name.startswith("Serverless") or any(
            name.startswith(rid) for rid in self.sam_resources))

    def reference_problems(self, value: Any, path: str) -> list[tuple[str, str]]:
        """(pointer, message) for every Ref, Fn::GetAtt or Fn::Sub in `value` that names
        nothing the template defines or is malformed, and every unknown intrinsic function."""
        problems: list[tuple[str, str]] = []
        stack = [(value, path)]
        while stack:
            node, at = stack.pop()
            if isinstance(node, list):
                stack.extend(reversed([(item, f"{at}/{i}") for i, item in enumerate(node)]))
                continue
            if not isinstance(node, dict):
                continue
            if len(node) == 1:
                (fn, arg), = node.items()
                check = _REFERENCE_CHECKS.get(fn)
                try:
                    if check is not None:
                        check(self, arg)
                    elif fn.startswith("Fn::") and fn not in KNOWN_FUNCTIONS:
                        raise IntrinsicError(f"unknown intrinsic function '{fn}'")
                except IntrinsicError as exc:
                    problems.append((at, str(exc)))
                    continue
            stack.extend(reversed([(v, f"{at}/{escape_token(k)}") for k, v in node.items()]))
        return problems

    def resource_type(self, name: str) -> str | None:
        res = self.resources.get(name)
        return res.get("Type") if isinstance(res, dict) else None

    # --- strings -------------------------------------------------------------

    def strings(self, value: Any) -> list[SymStr]:
        """All alternatives of a value that should be a string."""
        if isinstance(value, bool):
            return [(("true" if value else "false"),)]
        if isinstance(value, (str, int, float)):
            return [(str(value),)]
        if isinstance(value, dict) and len(value) == 1:
            (fn, arg), = value.items()
            handler = _STRING_FUNCTIONS.get(fn)
            if handler is not None:
                return _bounded(handler(self, arg))
            if fn in KNOWN_FUNCTIONS:
                return [(Sym("unknown", self._unresolved(fn, arg)),)]
            if fn.startswith("Fn::"):
                raise IntrinsicError(f"uses an unknown intrinsic function '{fn}'")
        raise IntrinsicError(f"expected a string, got {describe(value)}")

    def _unresolved(self, fn: str, arg: Any) -> str:
        """What a value the template does not determine is made of: `Fn::Split of
        parameter Others`."""
        names = sorted(set(_refs(arg)) & {n for n, v in self.parameters.items() if v is None})
        return f"{fn} of parameter{'s' if len(names) > 1 else ''} {', '.join(names)}" if names else fn

    def ref(self, name: Any) -> list[SymStr]:
        if not isinstance(name, str):
            raise IntrinsicError(f"Ref takes a name, got {describe(name)}")
        if name == "AWS::AccountId":
            return [(Sym("account", "self"),)]
        if name == "AWS::Region":
            return [(Sym("region"),)]
        if name in ("AWS::StackName", "AWS::StackId"):
            return [(Sym("stack"),)]
        if name in PSEUDO_LITERALS:
            return [(PSEUDO_LITERALS[name],)]
        if name == "AWS::NoValue":
            return []
        if name.startswith("AWS::"):
            return [(Sym("unknown", name),)]
        if name in self.parameters:
            value = self.parameters[name]
            return [(value,)] if value is not None else [(Sym("param", name),)]
        if self.is_resource(name):
            return [(Sym("ref", name),)]
        raise IntrinsicError(f"Ref to '{name}', which is neither a parameter nor a resource")

    def getatt(self, arg: Any) -> list[SymStr]:
        if isinstance(arg, str) and "." in arg:
            arg = arg.split(".", 1)
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            raise IntrinsicError(f"Fn::GetAtt takes [Resource, Attribute], got {describe(arg)}")
        resource, attribute = arg
        if not isinstance(attribute, str):
            return [(Sym("unknown", "Fn::GetAtt"),)]
        if not self.is_resource(resource):
            raise IntrinsicError(f"Fn::GetAtt on '{resource}', which is not a resource")
        return [(Sym("getatt", f"{resource}.{attribute}"),)]

    def sub(self, arg: Any) -> list[SymStr]:
        if isinstance(arg, str):
            text, variables = arg, {}
        elif (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)
              and isinstance(arg[1], dict)):
            text, variables = arg
        else:
            raise IntrinsicError(f"Fn::Sub takes a string or [string, variables], got {describe(arg)}")
        pieces: list[list[SymStr]] = []
        pos = 0
        for match in SUB_VARIABLE.finditer(text):
            pieces.append([(text[pos:match.start()],)])
            pos = match.end()
            name = match.group(1).strip()
            if name.startswith("!"):
                pieces.append([("${" + name[1:] + "}",)])
            elif name in variables:
                pieces.append(self.strings(variables[name]))
            elif "." in name and not name.startswith("AWS::"):
                pieces.append(self.getatt(name.split(".", 1)))
            elif not name:
                raise IntrinsicError("Fn::Sub has an empty variable ${}")
            else:
                pieces.append(self.ref(name))
        rest = text[pos:]
        if "${" in rest:
            raise IntrinsicError(f"Fn::Sub has an unclosed variable in '{text}'")
        pieces.append([(rest,)])
        return _combine(pieces)

    def join(self, arg: Any) -> list[SymStr]:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            raise IntrinsicError(f"Fn::Join takes [delimiter, list], got {describe(arg)}")
        delimiter, items = arg
        if not isinstance(items, list):
            items = self.string_list(items)  # a list parameter, or Fn::Split of a known string
            if items is None:
                return [(Sym("unknown", "Fn::Join"),)]
        pieces: list[list[SymStr]] = []
        for i, item in enumerate(items):
            if i:
                pieces.append([(delimiter,)])
            alternatives = self.strings(item)
            if not alternatives:
                continue
            pieces.append(alternatives)
        return _combine(pieces)

    def if_(self, arg: Any) -> list[SymStr]:
        if not (isinstance(arg, list) and len(arg) == 3):
            raise IntrinsicError(f"Fn::If takes [condition, then, else], got {describe(arg)}")
        return [alt for branch in arg[1:] for alt in self._optional_strings(branch)]

    def _optional_strings(self, value: Any) -> list[SymStr]:
        if value == {"Ref": "AWS::NoValue"}:
            return []
        return self.strings(value)

    def find_in_map(self, arg: Any) -> list[SymStr]:
        if not (isinstance(arg, list) and len(arg) in (3, 4)):
            raise IntrinsicError(f"Fn::FindInMap takes [map, key, key], got {describe(arg)}")
        name, first, second = arg[:3]
        table = self.mappings.get(name) if isinstance(name, str) else None
        if not isinstance(table, dict):
            return [(Sym("unknown", "Fn::FindInMap"),)]
        firsts = [literal(a) for a in self.strings(first)]
        seconds = [literal(a) for a in self.strings(second)]
        values: list[SymStr] = []
        for top_key, row in table.items():
            if not isinstance(row, dict) or (None not in firsts and top_key not in firsts):
                continue
            for sub_key, value in row.items():
                if (None in seconds or sub_key in seconds) and _scalar(value):
                    values.append((str(value),))
        return values or [(Sym("unknown", "Fn::FindInMap"),)]

    def select(self, arg: Any) -> list[SymStr]:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise IntrinsicError(f"Fn::Select takes [index, list], got {describe(arg)}")
        index, given = arg
        items = given if isinstance(given, list) else self.string_list(given)  # Fn::Split, a list parameter
        if isinstance(items, list) and isinstance(index, (int, str)) and str(index).isdigit():
            i = int(index)
            if i < len(items):
                return self.strings(items[i])
        return [(Sym("unknown", self._unresolved("Fn::Select", given)),)]

    # --- lists ---------------------------------------------------------------

    def string_list(self, value: Any) -> list[Any] | None:
        """The items of a value that stands for a list of strings where a list is expected
        (a Condition's values): a Ref to a CommaDelimitedList or List<…> parameter, whose
        value CloudFormation splits at commas, or Fn::Split of a string the template
        determines; None for anything else, or when the value is not known."""
        if not isinstance(value, dict) or len(value) != 1:
            return None
        (fn, arg), = value.items()
        if fn == "Ref" and isinstance(arg, str) and arg in self.list_parameters:
            given = self.parameters.get(arg)
            return [part.strip() for part in given.split(",")] if isinstance(given, str) else None
        if fn == "Fn::Split" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and arg[0]:
            try:
                alternatives = self.strings(arg[1])
            except IntrinsicError:
                return None
            if len(alternatives) == 1 and all(isinstance(piece, str) for piece in alternatives[0]):
                return "".join(alternatives[0]).split(arg[0])
        return None

    def items(self, value: Any) -> list[tuple[Any, str]]:
        """A string-or-list property as (item, pointer suffix) pairs; Fn::If yields both branches."""
        if isinstance(value, list):
            out = []
            for i, item in enumerate(value):
                out.extend((sub, f"/{i}{suffix}") for sub, suffix in self.items(item))
            return out
        if _is_if(value):
            out = []
            for b in (1, 2):
                branch = value["Fn::If"][b]
                if branch == {"Ref": "AWS::NoValue"}:
                    continue
                out.extend((sub, f"/Fn::If/{b}{suffix}") for sub, suffix in self.items(branch))
            return out
        listed = self.string_list(value)
        if listed is not None:  # the list's items all sit at the Ref (or Fn::Split)
            return [(item, "") for item in listed]
        return [(value, "")]


def is_intrinsic(value: Any) -> bool:
    """A mapping that is one intrinsic function (Ref, Condition, Fn::…), not data."""
    return isinstance(value, dict) and len(value) == 1 and \
        (next(iter(value)) in ("Ref", "Condition") or next(iter(value)).startswith("Fn::"))


def _sam_resource_ids(document: dict, resources: dict) -> tuple[str, ...]:
    transform = document.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    if not any(isinstance(n, str) and n.startswith("AWS::Serverless") for n in names):
        return ()
    return tuple(rid for rid, r in resources.items()
                 if isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::Serverless::"))


def _is_if(value: Any) -> bool:
    return isinstance(value, dict) and list(value) == ["Fn::If"] and \
        isinstance(value["Fn::If"], list) and len(value["Fn::If"]) == 3


def _combine(pieces: list[list[SymStr]]) -> list[SymStr]:
    combos = product(*pieces)
    out: list[SymStr] = []
    for combo in combos:
        out.append(_concat(list(combo)))
        _bounded(out)
    return out


def _bounded(alternatives: list[SymStr]) -> list[SymStr]:
    if len(alternatives) > MAX_ALTERNATIVES:
        raise IntrinsicError(f"has more than {MAX_ALTERNATIVES} possible values (Fn::If and "
                             "Fn::FindInMap combinations; limit MAX_ALTERNATIVES)")
    return alternatives


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping" + (f" ({next(iter(value))})" if len(value) == 1 else "")
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"[:60]
    return f"{type(value).__name__} {value!r}"[:60]


_REFERENCE_CHECKS = {
    "Ref": Resolver.ref,
    "Fn::GetAtt": Resolver.getatt,
    "Fn::Sub": Resolver.sub,
}

_STRING_FUNCTIONS = {
    "Ref": Resolver.ref,
    "Fn::GetAtt": Resolver.getatt,
    "Fn::Sub": Resolver.sub,
    "Fn::Join": Resolver.join,
    "Fn::If": Resolver.if_,
    "Fn::FindInMap": Resolver.find_in_map,
    "Fn::Select": Resolver.select,
    "Fn::ImportValue": lambda self, arg: [(Sym("unknown", "Fn::ImportValue"),)],
}


def referenced_ids(value: Any, ids: set[str]) -> set[str]:
    """Logical IDs among `ids` that `value` refers to (Ref, Fn::GetAtt in either form, Fn::Sub
    variables), anywhere inside it."""
    found: set[str] = set()
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            ref, att, sub = node.get("Ref"), node.get("Fn::GetAtt"), node.get("Fn::Sub")
            if isinstance(ref, str) and ref in ids:
                found.add(ref)
            if isinstance(att, list) and att and att[0] in ids:
                found.add(att[0])
            if isinstance(att, str) and att.split(".", 1)[0] in ids:
                found.add(att.split(".", 1)[0])
            text = sub if isinstance(sub, str) else (sub[0] if isinstance(sub, list) and sub else "")
            if isinstance(text, str):
                found |= {k for k in ids if "${" + k + "}" in text or "${" + k + "." in text}
            stack.extend(node.values())
    return found


def _refs(value: Any):
    """The names every `Ref` inside a value refers to."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and isinstance(value["Ref"], str):
            yield value["Ref"]
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)
