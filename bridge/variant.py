"""One deployable variant of a template's Resources, with its pointers mapped back.

`choose(document, truth)` returns the document as CloudFormation deploys it when the
template's Conditions have the truth `truth`: every `Fn::If` replaced by its branch,
`AWS::NoValue` removing the property or list item that holds it, and resources whose
`Condition` is false left out. A `Remap` turns a JSON pointer into the rewritten document
back into the pointer of the same node in the file (`/…/KeyPolicy` → `/…/KeyPolicy/Fn::If/2`),
so findings and errors are located on the template's own lines.
"""

from __future__ import annotations

from typing import Any

from .sourcemap import escape_token

NO_VALUE = {"Ref": "AWS::NoValue"}
_REMOVED = object()


class Remap:
    """Pointer prefixes of a rewritten document → the pointers they came from."""

    def __init__(self, prefixes: dict[str, str] | None = None, then: Remap | None = None):
        self.prefixes = prefixes or {}
        self.then = then  # an earlier rewrite this one was applied after

    def __bool__(self) -> bool:
        return bool(self.prefixes) or bool(self.then)

    def pointer(self, value: str) -> str:
        out = value
        end = len(value)
        while end > 0:
            prefix = value[:end]
            if prefix in self.prefixes:
                out = self.prefixes[prefix] + value[end:]
                break
            end = value.rfind("/", 0, end)
        return self.then.pointer(out) if self.then else out

    def data(self, value: Any) -> Any:
        """`value` with every pointer into Resources mapped back."""
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, str) and value.startswith("/Resources/"):
            return self.pointer(value)
        return value


def choose(document: dict, truth: dict[str, bool]) -> tuple[dict, Remap]:
    resources = document.get("Resources")
    if not isinstance(resources, dict):
        return document, Remap()
    prefixes: dict[str, str] = {}
    kept = {}
    for rid, resource in resources.items():
        if isinstance(resource, dict) and truth.get(resource.get("Condition"), True) is False:
            continue
        path = "/Resources/" + escape_token(rid)
        value = _walk(resource, path, path, truth, prefixes)
        if value is not _REMOVED:
            kept[rid] = value
    return {**document, "Resources": kept}, Remap(prefixes)


def _walk(node: Any, new: str, old: str, truth: dict, prefixes: dict) -> Any:
    if isinstance(node, dict):
        if node == NO_VALUE:
            return _REMOVED
        arg = node.get("Fn::If") if len(node) == 1 else None
        if isinstance(arg, list) and len(arg) == 3 and arg[0] in truth:
            index = 1 if truth[arg[0]] else 2
            branch = f"{old}/Fn::If/{index}"
            prefixes[new] = branch
            return _walk(arg[index], new, branch, truth, prefixes)
        out = {}
        for key, value in node.items():
            token = escape_token(key)
            chosen = _walk(value, f"{new}/{token}", f"{old}/{token}", truth, prefixes)
            if chosen is not _REMOVED:
                out[key] = chosen
        return out
    if isinstance(node, list):
        items: list = []
        for i, value in enumerate(node):
            j = len(items)
            inner: dict[str, str] = {}  # kept only with the item (a removed one frees j)
            chosen = _walk(value, f"{new}/{j}", f"{old}/{i}", truth, inner)
            if chosen is _REMOVED:
                continue
            if i != j:
                inner.setdefault(f"{new}/{j}", f"{old}/{i}")
            prefixes.update(inner)
            items.append(chosen)
        return items
    return node
