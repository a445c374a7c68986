"""Simulations the referee cannot tell apart, so that it is asked once for them.

Two KMS actions are equivalent for a set of policies when every statement of those
policies matches both or neither (Action/NotAction patterns) and iam-simulate knows the
same about both (its own iam-data record of the action: access level, resource types,
condition keys — everything but the name). Then the simulation's decision cannot depend
on which of the two is asked, and `canonical(sim)` asks for a representative. The
harness applies the rules iam-simulate does not model (key_spec.py, cross_account.py) to
the real action afterwards.

Likewise a context key no policy of the simulation names (in a condition or a policy
variable) cannot change its decision: iam-simulate reads the request context only there.
`canonical(sim)` leaves such keys out, except `kms:EncryptionContext:<key>`, whose being
ignored by iam-simulate is itself read back (session.py).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from .contexts import statements

DATA = Path(__file__).parent / "node_modules" / "@cloud-copilot" / "iam-data" / "data" / "actions" / "kms.json"


@lru_cache(maxsize=1)
def _actions() -> dict[str, str]:
    """{action name: what iam-simulate knows about it, as text}."""
    return {name: json.dumps({k: v for k, v in r.items() if k not in ("name", "description")}, sort_keys=True)
            for name, r in _records().items()}


@lru_cache(maxsize=1)
def _records() -> dict[str, dict]:
    return {f"kms:{r['name']}": r for r in json.loads(DATA.read_text(encoding="utf-8")).values()}


def condition_keys(action: str) -> list[str]:
    """The condition keys iam-simulate's data lists for a KMS action."""
    return list((_records().get(action) or {}).get("conditionKeys") or [])


@lru_cache(maxsize=4096)
def _pattern(text: str) -> re.Pattern:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text), re.I)


def _listed(value) -> list[str]:
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


def matches(statement: dict, action: str) -> bool:
    if "Action" in statement:
        return any(_pattern(p).fullmatch(action) for p in _listed(statement["Action"]))
    if "NotAction" in statement:
        return not any(_pattern(p).fullmatch(action) for p in _listed(statement["NotAction"]))
    return False


def _action_element(statement: dict) -> tuple | None:
    """What decides which actions a statement matches (None: it matches none)."""
    if "Action" in statement:
        return ("Action", *_listed(statement["Action"]))
    if "NotAction" in statement:
        return ("NotAction", *_listed(statement["NotAction"]))
    return None


@lru_cache(maxsize=65536)
def _matched(element: tuple) -> tuple[bool, ...]:
    """For an action element, whether it matches each KMS action (in _actions() order)."""
    statement = {element[0]: list(element[1:])}
    return tuple(matches(statement, name) for name in _actions())


@lru_cache(maxsize=65536)
def _representatives(elements: frozenset) -> dict[str, str]:
    """{action: the first action (in _actions() order) no element and no iam-data field tells
    from it}. A set suffices: the classes do not depend on statement order or repetition."""
    vectors = [_matched(e) for e in elements]
    first: dict[tuple, str] = {}
    return {name: first.setdefault((known, tuple(v[i] for v in vectors)), name)
            for i, (name, known) in enumerate(_actions().items())}


def _policies(sim: dict) -> list:
    return [sim.get("resourcePolicy")] + [p.get("policy") for p in sim.get("identityPolicies") or []] + \
        [p.get("policy") for p in sim.get("permissionBoundaryPolicies") or []]


class _PolicySet:
    def __init__(self, policies: list):
        self.policies = policies  # kept alive with their ids
        elements = frozenset(e for p in policies for st in statements(p) if (e := _action_element(st)))
        self.representatives = _representatives(elements)
        self.text = json.dumps(policies).lower()
        self._named: dict[str, bool] = {}

    def names(self, key: str) -> bool:
        """Whether a policy may read context key `key` (its name appears in the policies)."""
        known = self._named.get(key)
        if known is None:
            lower = key.lower()
            known = self._named[key] = lower in self.text or lower.startswith("kms:encryptioncontext:")
        return known


class Canonicalizer:
    """Representatives per policy set, cached by the identity of the policy objects (the
    harness shares one object per policy across its simulations) and by the set of action
    elements their statements hold."""

    def __init__(self):
        self._by_set: dict[tuple, _PolicySet] = {}

    def _set(self, sim: dict) -> _PolicySet:
        policies = _policies(sim)
        slot = tuple(id(p) for p in policies)
        known = self._by_set.get(slot)
        if known is None:
            known = self._by_set[slot] = _PolicySet(policies)
        return known

    def action_for(self, sim: dict) -> str:
        action = sim["request"]["action"]
        if action not in _actions():
            return action
        return self._set(sim).representatives[action]

    def canonical(self, sim: dict) -> dict:
        request = sim["request"]
        found = self._set(sim)
        action = found.representatives.get(request["action"], request["action"])
        context = request.get("contextVariables") or {}
        kept = {k: v for k, v in context.items() if found.names(k)}
        if action == request["action"] and len(kept) == len(context):
            return sim
        changed = {"action": action} if len(kept) == len(context) else {"action": action, "contextVariables": kept}
        return {**sim, "request": {**request, **changed}}
