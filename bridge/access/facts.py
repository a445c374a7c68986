"""What a subject's requests carry for each condition key (the evaluator's vocabulary).

Placeholder with the agreed interface until the condition evaluator lands; see
docs/conditions.md.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Absent:
    pass


@dataclass(frozen=True)
class Exact:
    values: frozenset


@dataclass(frozen=True)
class Matching:
    pattern: str
    excluded: frozenset = frozenset()


@dataclass(frozen=True)
class OneOf:
    facts: tuple


@dataclass(frozen=True)
class Outcome:
    value: bool | None
    unknown_keys: frozenset = frozenset()
    deciding_keys: frozenset = frozenset()


def evaluate(condition, context) -> Outcome:
    if not condition:
        return Outcome(True)
    return Outcome(None, frozenset(k.lower() for block in condition.values() if isinstance(block, dict)
                                   for k in block))
