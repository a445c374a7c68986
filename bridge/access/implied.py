"""Allows that a Deny always cancels: the Deny's Condition is implied by the Allow's.

Three-valued evaluation says "conditional" for an abstract subject when an Allow and a
Deny both depend on its requests, even where every request the Allow admits the Deny
refuses (the same `ArnLike aws:PrincipalArn` in both). A Condition is a conjunction of
(operator, key, values) tests; an Allow whose tests include all of a Deny's is refused by
that Deny wherever it applies (IAM User Guide, "Policy evaluation logic": an explicit deny
in any policy overrides any allow).
"""

from __future__ import annotations

import json

from .tri import Answer


def _tests(statement: dict) -> frozenset[tuple[str, str, str]]:
    block = (statement.get("condition") or {}).get("block") or {}
    out = set()
    for operator, tests in block.items():
        for key, values in (tests.items() if isinstance(tests, dict) else ()):
            values = values if isinstance(values, list) else [values]
            out.add((operator.lower(), key.lower(), json.dumps(sorted(json.dumps(v, sort_keys=True) for v in values))))
    return frozenset(out)


def cancelled(allows: list[tuple[dict, Answer]], denies: list[tuple[dict, Answer]], bits: int) -> int:
    """The actions of `bits` for which every allowing statement is cancelled by a Deny
    whose tests are among its own. `allows`/`denies`: (statement, its answer for the
    subject); a Deny counts only where its answer is not unknown."""
    out = 0
    deny_tests = [(_tests(st), answer.yes | answer.cond) for st, answer in denies]
    bit = 1
    while bit <= bits:
        if bits & bit:
            routes = [st for st, answer in allows if answer.any & bit]
            if routes and all(any(mask & bit and tests <= _tests(st) for tests, mask in deny_tests)
                              for st in routes):
                out |= bit
        bit <<= 1
    return out
