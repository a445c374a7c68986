"""Allows that a Deny always cancels: the Deny's Condition is implied by the Allow's.

Three-valued evaluation says "conditional" for an abstract subject when an Allow and a
Deny both depend on its requests, even where every request the Allow admits the Deny
refuses (the same `ArnLike aws:PrincipalArn` in both). A Condition is a conjunction of
(operator, key, values) tests; an Allow whose tests include all of a Deny's is refused by
that Deny wherever it applies (IAM User Guide, "Policy evaluation logic": an explicit deny
in any policy overrides any allow). A Deny's test that holds for every request of the
subject (`aws:PrincipalAccount` of a principal of the named account), or for every
request the Allow admits (`StringLike kms:ViaService *.amazonaws.com` where the Allow asks
`StringEquals kms:ViaService s3.<region>.amazonaws.com`), constrains nothing and is left out
of that comparison.
"""

from __future__ import annotations

import json

from ..condition_eval import UNKNOWN_FACT, Exact, Matching, OneOf
from ..condition_values import ARN, STRING, parse_operator
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


def set_keys(statements) -> set[str]:
    """Keys some statement tests with ForAnyValue/ForAllValues: multivalued ones."""
    out = set()
    for st in statements:
        for (operator, key, _), _block in _each_test(st):
            if operator.startswith(("forallvalues:", "foranyvalue:")):
                out.add(key)
    return out


def imposed(statement: dict, context: dict, multivalued: set[str], only=None) -> dict:
    """The facts an Allow's tests impose on the requests it admits: a plain (not IfExists,
    not negated, case-sensitive) String or ARN match of a single-valued key admits only
    requests where the key is present with one of its values (policy variables impose
    nothing). Over a key the subject's `context` leaves open or describes as a population
    (`Matching`), the imposed fact takes its place: it describes a superset of the requests
    both admit, so what holds for all of them holds for those. `only`: the keys to read."""
    facts = {}
    for (_, key, _), block in _each_test(statement):
        (name, tests), = block.items()
        operator = parse_operator(name)
        values = next(iter(tests.values()))
        values = values if isinstance(values, list) else [values]
        known = context.get(key, UNKNOWN_FACT)
        if (operator is None or operator.family not in (STRING, ARN) or operator.comparison not in ("eq", "like")
                or operator.negated or operator.ignore_case or operator.if_exists or operator.qualifier
                or key in multivalued or (known != UNKNOWN_FACT and not isinstance(known, Matching))
                or (only is not None and not only(key)) or not values
                or not all(isinstance(v, str) and "${" not in v for v in values)):
            continue
        members = tuple(Matching(v) if operator.comparison == "like" and any(c in v for c in "*?")
                        or operator.family == ARN else Exact(frozenset({v})) for v in values)
        fact = members[0] if len(members) == 1 else OneOf(members)
        facts[key] = fact if key not in facts else facts[key]  # two tests of one key: the first
    return facts


def principal_key(key: str) -> bool:
    """A key that describes the caller, the same in every request it makes."""
    return key.startswith("aws:principal") or key in ("kms:calleraccount", "aws:userid", "aws:username")


def cancelled(allows: list[tuple[dict, Answer, bool]], denies: list[tuple[dict, Answer]], bits: int,
              evaluator: Evaluator | None = None, context: dict | None = None,
              identity_allows: list[tuple[dict, Answer]] = ()) -> int:
    """The actions of `bits` for which every allowing statement is cancelled by a Deny
    whose tests are among its own (with `evaluator` and the subject's `context`: whose
    tests that the subject's facts leave open are). `allows`: (key-policy statement, its
    answer for the subject, whether it grants only with the subject's identity policy);
    such a one is also cancelled where every Allow of `identity_allows` (all the identity
    policy has) is. `denies`: (statement, its answer); a Deny counts only where its answer
    is not unknown."""
    out = 0
    multivalued = set_keys([st for st, _, _ in allows] + [st for st, _ in identity_allows]
                           + [st for st, _ in denies])
    open_for: dict[int, list[tuple[frozenset, int]]] = {}  # the Deny tests an Allow leaves open

    def deny_tests(allow: dict) -> list[tuple[frozenset, int]]:
        if id(allow) not in open_for:
            if evaluator is None:
                open_for[id(allow)] = [(_tests(st), answer.yes | answer.cond) for st, answer in denies]
            else:
                # the requests the Allow admits: the subject's, with the facts its tests impose
                ctx = {**context, **imposed(allow, context or {}, multivalued)}
                open_for[id(allow)] = [(_open_tests(st, answer.yes | answer.cond, evaluator, ctx),
                                        answer.yes | answer.cond) for st, answer in denies]
        return open_for[id(allow)]

    def refused(allow: dict, bit: int) -> bool:
        return any(mask & bit and tests <= _tests(allow) for tests, mask in deny_tests(allow))

    bit = 1
    while bit <= bits:
        if bits & bit:
            routes = [(st, through) for st, answer, through in allows if answer.any & bit]
            own = [st for st, answer in identity_allows if answer.any & bit]
            own_refused = bool(own) and all(refused(st, bit) for st in own)
            if routes and all(refused(st, bit) or (through and own_refused) for st, through in routes):
                out |= bit
        bit <<= 1
    return out
