"""kmspolicy's side of the comparison: its verdict for every key, subject and key action.

The one module of the referee that reads kmspolicy. `verdicts(path, parameters)` returns
`{"keys": {kid: {"subjects": {sid: subject}, "verdicts": {sid: {action: verdict}}}}}` for
one deployable variant (`scenarios_of` lists them, bridge/scenarios.py), with
verdict in allowed | conditional | unknown | reachable | denied, for every KMS action on a
key (kmspolicy.bridge.catalog), read from the access model's answers in the rule input
(`input["keys"][kid]["access"][sid]`, bridge/access) with the precedence of
`kmspolicy access`: allowed, conditional, reachable, unknown, denied.
`explain(...)` gives kmspolicy's explain chain for a disagreement.
"""

from __future__ import annotations

import json

from kmspolicy.bridge import catalog, scenarios
from kmspolicy.bridge.access.report import CAPABILITIES, AccessAnalyzer, AccessError
from kmspolicy.bridge.load import load_template
from kmspolicy.bridge.normalize import normalize


def _config(account: str | None) -> dict:
    """kmspolicy is told the account the referee deploys into (config `accounts`): any other
    literal account is then another account's, as it is where the referee deploys."""
    return {"accounts": [account]} if account else {}


def key_actions() -> list[str]:
    return [a for a in catalog.ALL_ACTIONS if catalog.action_class(a) in CAPABILITIES]


def _verdict(bit: int, access: dict) -> str:
    for verdict in ("allowed", "conditional", "reachable", "unknown"):
        if access.get(verdict, 0) & bit:
            return verdict
    return "denied"


def scenarios_of(path: str, parameters: dict | None = None) -> tuple[list, str | None]:
    """kmspolicy's deployable variants of the template ([None]: it has no Conditions), and
    the note when it merges them instead (too many to analyse one by one)."""
    plan = scenarios.plan(load_template(path).document, parameters or {})
    if plan.scenarios:
        return list(plan.scenarios), None
    return ([], plan.note) if plan.note else ([None], None)


def verdicts(path: str, parameters: dict | None = None, scenario=None, account: str | None = None) -> dict:
    template = load_template(path)
    normalized = normalize(template.document, path, parameters or {}, _config(account), scenario=scenario)
    input_doc = normalized.input
    bits = catalog.key_action_bits()
    actions = key_actions()
    out = {}
    for kid, key in input_doc["keys"].items():
        subjects = {sid: dict(s) for sid, s in key["subjects"].items()}
        per = key.get("access", {})
        rejected = [i["message"] for i in key.get("invalid") or [] if i.get("outcome") == "rejected"]
        out[kid] = {"subjects": subjects, "rejected": rejected[0] if rejected else None,
                    "verdicts": {sid: {a: _verdict(bits[a], per.get(sid, {})) for a in actions}
                                 for sid in subjects}}
    return {"keys": out}


def explain(path: str, key: str, subject: str, action: str, parameters: dict | None = None,
            account: str | None = None) -> str:
    """kmspolicy's explain chain for one cell, as JSON text (for disagreement reports)."""
    try:
        explanation = AccessAnalyzer(parameters, _config(account)).explain(path, key, subject, action)
    except (AccessError, ValueError) as exc:
        return f"(kmspolicy explain failed: {exc})"
    return json.dumps(explanation.to_json()["cells"], indent=1)[:4000]
