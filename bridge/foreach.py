"""`Fn::ForEach` loops in Resources (AWS::LanguageExtensions), expanded as CloudFormation does.

    Fn::ForEach::Topics:
      - Name                      # the identifier
      - [Orders, Refunds]         # the collection: a literal list, or !Ref a list parameter
      - Topic${Name}:             # the output key: ${Name}, or &{Name} (alphanumerics only)
          Type: AWS::SNS::Topic   # the output value: !Ref Name and ${Name} in Fn::Sub
          ...

`expand(document, parameters)` returns the document with every loop whose collection the
template determines replaced by the resources it creates, and a `Remap` that points each
of them into the loop body (`/Resources/Fn::ForEach::Topics/2/Topic${Name}`). A loop over a
collection the template does not determine is left in place: `template_checks` reports it.
"""

from __future__ import annotations

import re
from typing import Any

from .intrinsics import Resolver
from .sourcemap import escape_token
from .variant import Remap

PREFIX = "Fn::ForEach::"


def expand(document: dict, parameters: dict[str, str] | None = None) -> tuple[dict, Remap]:
    resources = document.get("Resources")
    if not isinstance(resources, dict) or not any(k.startswith(PREFIX) for k in resources):
        return document, Remap()
    prefixes: dict[str, str] = {}
    out: dict = {}
    for rid, value in resources.items():
        if rid.startswith(PREFIX):
            expanded = _loop(value, "/Resources/" + escape_token(rid), document, parameters or {})
            if expanded is not None:
                for new_id in expanded:
                    if new_id in out or new_id in resources:
                        expanded = None  # CloudFormation rejects a duplicate logical ID
                        break
                if expanded is not None:
                    for new_id, (body, origin) in expanded.items():
                        out[new_id] = body
                        prefixes["/Resources/" + escape_token(new_id)] = origin
                    continue
        out[rid] = value
    return {**document, "Resources": out}, Remap(prefixes)


def _loop(value: Any, at: str, document: dict, parameters: dict) -> dict | None:
    if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and isinstance(value[2], dict)):
        return None
    identifier, collection, template = value
    items = _collection(collection, document, parameters)
    if items is None:
        return None
    out: dict[str, tuple[Any, str]] = {}
    for item in items:
        for key, body in template.items():
            origin = f"{at}/2/{escape_token(key)}"
            if key.startswith(PREFIX):
                inner = _loop(_substitute(body, identifier, item), origin, document, parameters)
                if inner is None:
                    return None
                out.update(inner)
                continue
            out[_key(key, identifier, item)] = (_substitute(body, identifier, item), origin)
    return out


def _collection(value: Any, document: dict, parameters: dict) -> list[str] | None:
    if isinstance(value, list):
        return [str(v) for v in value] if all(isinstance(v, (str, int, float)) and
                                              not isinstance(v, bool) for v in value) else None
    if isinstance(value, dict) and list(value) == ["Ref"]:  # a list parameter's value
        return Resolver(document, parameters).string_list(value)
    return None


def _key(key: str, identifier: str, item: str) -> str:
    key = key.replace("${" + identifier + "}", item)
    return key.replace("&{" + identifier + "}", re.sub(r"[^A-Za-z0-9]", "", item))


def _substitute(value: Any, identifier: str, item: str) -> Any:
    if isinstance(value, list):
        return [_substitute(v, identifier, item) for v in value]
    if not isinstance(value, dict):
        return value
    if value == {"Ref": identifier}:
        return item
    if list(value) == ["Fn::Sub"]:
        arg = value["Fn::Sub"]
        if isinstance(arg, str):
            return {"Fn::Sub": _sub_text(arg, identifier, item)}
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str):
            return {"Fn::Sub": [_sub_text(arg[0], identifier, item),
                                _substitute(arg[1], identifier, item)]}
    return {_key(k, identifier, item) if k.startswith(PREFIX) else k: _substitute(v, identifier, item)
            for k, v in value.items()}


def _sub_text(text: str, identifier: str, item: str) -> str:
    return re.sub(r"\$\{\s*" + re.escape(identifier) + r"\s*\}", item.replace("\\", "\\\\"), text)
