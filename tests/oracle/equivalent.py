"""Actions one simulation cannot tell apart, so that the referee is asked once for them.

Two KMS actions are equivalent for a set of policies when every statement of those
policies matches both or neither (Action/NotAction patterns) and iam-simulate knows the
same about both (its own iam-data record of the action: access level, resource types,
condition keys — everything but the name). Then the simulation's decision cannot depend
on which of the two is asked, and `canonical(sim)` asks for a representative. The
harness applies the rules iam-simulate does not model (key_spec.py, cross_account.py) to
the real action afterwards.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

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


def _statements(policy) -> list[dict]:
    if not isinstance(policy, dict):
        return []
    sts = policy.get("Statement")
    return [s for s in (sts if isinstance(sts, list) else [sts]) if isinstance(s, dict)]


def _matches(statement: dict, action: str) -> bool:
    if "Action" in statement:
        return any(_pattern(p).fullmatch(action) for p in _listed(statement["Action"]))
    if "NotAction" in statement:
        return not any(_pattern(p).fullmatch(action) for p in _listed(statement["NotAction"]))
    return False


def _policies(sim: dict) -> list:
    return [sim.get("resourcePolicy")] + [p.get("policy") for p in sim.get("identityPolicies") or []] + \
        [p.get("policy") for p in sim.get("permissionBoundaryPolicies") or []]


class Canonicalizer:
    """Representatives per policy set, cached by the identity of the policy objects (the
    harness shares one object per policy across its simulations)."""

    def __init__(self):
        self._by_set: dict[tuple, tuple[list, dict[str, str]]] = {}

    def action_for(self, sim: dict) -> str:
        action = sim["request"]["action"]
        if action not in _actions():
            return action
        policies = _policies(sim)
        slot = tuple(id(p) for p in policies)
        if slot not in self._by_set:
            statements = [st for p in policies for st in _statements(p)]
            first: dict[tuple, str] = {}
            chosen = {}
            for name, known in _actions().items():
                signature = (known, tuple(_matches(st, name) for st in statements))
                chosen[name] = first.setdefault(signature, name)
            self._by_set[slot] = (policies, chosen)  # the policies kept alive with their ids
        return self._by_set[slot][1][action]

    def canonical(self, sim: dict) -> dict:
        action = self.action_for(sim)
        if action == sim["request"]["action"]:
            return sim
        return {**sim, "request": {**sim["request"], "action": action}}
