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
    _keep_only(resources)
    for rid, resource in resources.items():
        if isinstance(resource, dict) and truth.get(resource.get("Condition"), True) is False:
            continue
        value, own = _chosen(rid, resource, truth)
        prefixes.update(own)
        if value is not _REMOVED:
            kept[rid] = value
    return {**document, "Resources": kept}, Remap(prefixes)


MAX_CHOSEN = 4096
"""Resources whose chosen forms are kept (all are dropped beyond)."""
_kept: dict[tuple[int, str], tuple[Any, tuple[str, ...], dict[tuple, tuple[Any, dict[str, str]]]]] = {}
_kept_of: list = [None]  # the Resources the kept forms are of: one template's, so memory stays flat


def _keep_only(resources: dict) -> None:
    """The chosen forms of another template's resources are dropped."""
    if _kept_of[0] is not resources:
        _kept.clear()
        _kept_of[0] = resources


def _chosen(rid: str, resource: Any, truth: dict[str, bool]) -> tuple[Any, dict[str, str]]:
    """A resource as the truth deploys it, and its pointer prefixes; computed once for each
    truth of the Conditions its Fn::Ifs name (a template's variants share the rest). The
    entry holds the resource, so its id() names it while kept."""
    entry = _kept.get((id(resource), rid))
    if entry is None or entry[0] is not resource:
        if len(_kept) >= MAX_CHOSEN:
            _kept.clear()
        entry = _kept[(id(resource), rid)] = (resource, tuple(sorted(named_conditions(resource))), {})
    _, names, forms = entry
    seen_as = tuple(truth.get(name) for name in names)
    form = forms.get(seen_as)
    if form is None:
        path = "/Resources/" + escape_token(rid)
        own: dict[str, str] = {}
        form = forms[seen_as] = (_walk(resource, path, path, truth, own), own)
    return form


def named_conditions(node: Any) -> set[str]:
    """The Conditions the Fn::Ifs inside a node name."""
    found: set[str] = set()
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            arg = node.get("Fn::If") if len(node) == 1 else None
            if isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str):
                found.add(arg[0])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


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
