"""kmspolicy's side of the comparison: its verdict for every key, subject and key action.

The one module of the referee that reads kmspolicy. `verdicts(path, parameters)` returns
`{"keys": {kid: {"subjects": {sid: subject}, "verdicts": {sid: {action: verdict}}}}}` with
verdict in allowed | conditional | unknown | reachable | denied, for every KMS action on a
key (kmspolicy.bridge.catalog). Today it evaluates the Rego access library
(`data.kmspolicy.lib.access.access`); when the Python access model lands this function is
re-pointed to `input["keys"][kid]["access"][sid]`, and nothing else in tests/oracle changes.
`explain(...)` gives kmspolicy's explain chain for a disagreement.
"""

from __future__ import annotations

import json

from kmspolicy.bridge import catalog
from kmspolicy.bridge.access import CAPABILITIES, AccessAnalyzer, AccessError, library_modules
from kmspolicy.bridge.engines.embedded import EmbeddedEngine
from kmspolicy.bridge.load import load_template
from kmspolicy.bridge.normalize import normalize

QUERY = "data.kmspolicy.lib.access.access"
_ORDER = ("denied", "reachable", "conditional", "allowed")  # later wins; explicit deny first


def key_actions() -> list[str]:
    return [a for a in catalog.ALL_ACTIONS if catalog.action_class(a) in CAPABILITIES]


_ENGINE: EmbeddedEngine | None = None


def _engine() -> EmbeddedEngine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = EmbeddedEngine(library_modules(), {"kmspolicy": {"config": {}}}, query=QUERY)
    return _ENGINE


def _verdict(action: str, access: dict) -> str:
    if action in set(access.get("denied") or ()):
        return "denied"
    for verdict in ("allowed", "conditional", "reachable", "unknown"):
        if action in set(access.get(verdict) or ()):
            return verdict
    return "denied"


def verdicts(path: str, parameters: dict | None = None) -> dict:
    template = load_template(path)
    normalized = normalize(template.document, path, parameters or {})
    input_doc = normalized.input
    access = _engine().evaluate(input_doc) if input_doc["keys"] else {}
    actions = key_actions()
    out = {}
    for kid, key in input_doc["keys"].items():
        subjects = {sid: dict(s) for sid, s in key["subjects"].items()}
        per = access.get(kid, {})
        out[kid] = {"subjects": subjects,
                    "verdicts": {sid: {a: _verdict(a, per.get(sid, {})) for a in actions}
                                 for sid in subjects}}
    return {"keys": out}


def explain(path: str, key: str, subject: str, action: str, parameters: dict | None = None) -> str:
    """kmspolicy's explain chain for one cell, as JSON text (for disagreement reports)."""
    try:
        explanation = AccessAnalyzer(parameters).explain(path, key, subject, action)
    except (AccessError, ValueError) as exc:
        return f"(kmspolicy explain failed: {exc})"
    return json.dumps(explanation.to_json()["cells"], indent=1)[:4000]
