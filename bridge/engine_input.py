"""The input as the engine is given it.

A rule pack gets the whole input (bridge/schema/input-v2.json). The built-in rules read
every action set as a mask (`action_mask`, lib/actionmask.rego), so when they run alone
the names derived from those masks are left out: a statement's `actions` and `classes` and
each action pattern's `actions`, half of a typical input, which the engine would
otherwise parse in every query. `kmspolicy input` prints the whole input either way."""

from __future__ import annotations

DERIVED_STATEMENT_FIELDS = ("actions", "classes")
DERIVED_PATTERN_FIELDS = ("actions",)


def for_builtin_rules(input_doc: dict) -> dict:
    """`input_doc` without the derived names; shares every other value with it."""
    return {**input_doc,
            "keys": {kid: {**key, "statements": _statements(key["statements"])}
                     for kid, key in input_doc["keys"].items()},
            "identities": {iid: _identity(identity) for iid, identity in input_doc["identities"].items()}}


def _identity(identity: dict) -> dict:
    out = {**identity, "statements": _statements(identity["statements"])}
    boundary = identity.get("boundary")
    if boundary and boundary.get("statements"):
        out["boundary"] = {**boundary, "statements": _statements(boundary["statements"])}
    return out


def _statements(statements: list[dict]) -> list[dict]:
    return [_statement(st) for st in statements]


def _statement(statement: dict) -> dict:
    out = {k: v for k, v in statement.items() if k not in DERIVED_STATEMENT_FIELDS}
    if "patterns" in statement:
        out["patterns"] = [{k: v for k, v in p.items() if k not in DERIVED_PATTERN_FIELDS}
                           for p in statement["patterns"]]
    return out
