"""Allows that a Deny always cancels: the Deny's Condition is implied by the Allow's.

Three-valued evaluation says "conditional" for an abstract subject when an Allow and a
Deny both depend on its requests, even where every request the Allow admits the Deny
refuses (the same `ArnLike aws:PrincipalArn` in both). A Condition is a conjunction of
(operator, key, values) tests; an Allow whose tests include all of a Deny's is refused by
that Deny wherever it applies (IAM User Guide, "Policy evaluation logic": an explicit deny
in any policy overrides any allow). A Deny's test that holds for every request of the
subject (`aws:PrincipalAccount` of a principal of the named account) constrains nothing
and is left out of that comparison.
"""

from __future__ import annotations

import json

from .conditions import Evaluator
from .tri import Answer


def _each_test(statement: dict):
    """(test, its one-test Condition block) for each (operator, key, values) test."""
    block = (statement.get("condition") or {}).get("block") or {}
    for operator, tests in block.items():
        for key, values in (tests.items() if isinstance(tests, dict) else ()):
            listed = values if isinstance(values, list) else [values]
            test = (operator.lower(), key.lower(), json.dumps(sorted(json.dumps(v, sort_keys=True) for v in listed)))
            yield test, {operator: {key: values}}


def _tests(statement: dict) -> frozenset[tuple[str, str, str]]:
    return frozenset(test for test, _ in _each_test(statement))


def _open_tests(statement: dict, mask: int, evaluator: Evaluator, context: dict) -> frozenset:
    """A Deny's tests but those that hold for every request of the subject on the actions
    of `mask` (the subject's facts decide them)."""
    return frozenset(test for test, block in _each_test(statement)
                     if evaluator.outcome({"condition": {"block": block}}, mask, context).yes & mask != mask)


def cancelled(allows: list[tuple[dict, Answer]], denies: list[tuple[dict, Answer]], bits: int,
              evaluator: Evaluator | None = None, context: dict | None = None) -> int:
    """The actions of `bits` for which every allowing statement is cancelled by a Deny
    whose tests are among its own (with `evaluator` and the subject's `context`: whose
    tests that the subject's facts leave open are). `allows`/`denies`: (statement, its
    answer for the subject); a Deny counts only where its answer is not unknown."""
    out = 0
    deny_tests = [(_open_tests(st, answer.yes | answer.cond, evaluator, context) if evaluator is not None
                   else _tests(st), answer.yes | answer.cond) for st, answer in denies]
    bit = 1
    while bit <= bits:
        if bits & bit:
            routes = [st for st, answer in allows if answer.any & bit]
            if routes and all(any(mask & bit and tests <= _tests(st) for tests, mask in deny_tests)
                              for st in routes):
                out |= bit
        bit <<= 1
    return out
