"""Three-valued evaluation of IAM Condition blocks over populations of requests.

A *subject* stands for a set of requests, described by a context of facts about condition
keys. `evaluate` answers True (the Condition holds for every request), False (for none) or
None (unknown, or it holds for some requests and not others). The AWS sentences that
decide each rule are quoted next to the code and collected in docs/conditions.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import eq, ge, gt, le, lt

from . import condition_glob as glob
from .condition_problems import condition_problems
from .condition_values import (
    ARN,
    BOOL,
    IP,
    NULL,
    PARSERS,
    STRING,
    VARIABLE_FAMILIES,
    Literal,
    Operator,
    Text,
    Variable,
    as_text,
    parse_address,
    parse_bool,
    parse_operator,
    split_variables,
)


@dataclass(frozen=True)
class Absent:
    """The key is not in the request context."""


@dataclass(frozen=True)
class Exact:
    """Present with exactly these values (single-valued key: one; multivalued: the set).
    `stranger`: the values are a stranger's, which no value the template gives names (a
    parameter's included, whatever it is)."""
    values: frozenset[str]
    stranger: bool = False


@dataclass(frozen=True)
class Matching:
    """Present, single-valued; the requests carry every string of the glob but the
    `excluded` words and the words of the `excluded_globs`."""
    pattern: str
    excluded: frozenset[str] = frozenset()
    excluded_globs: frozenset[str] = frozenset()
    stranger: bool = False  # as for Exact

    def leaves_out(self, word: str) -> bool:
        return glob.excludes(word, self.excluded, self.excluded_globs)


@dataclass(frozen=True)
class OneOf:
    """The requests are split between these facts."""
    facts: tuple


@dataclass(frozen=True)
class Tested:
    """Present, single-valued, with a value that `test` matches (or, `holds` False, does
    not): one side of a case split on a test that Allows share. `test` is a plain
    operator's family, comparison and case with its resolved values (`_signature`)."""
    test: tuple
    holds: bool


Fact = Absent | Exact | Matching | OneOf | Tested
Context = Mapping[str, Fact]

# A key missing from the context: absent, or present with any value.
UNKNOWN_FACT = OneOf((Absent(), Matching("*")))


@dataclass(frozen=True)
class Outcome:
    value: bool | None
    unknown_keys: frozenset[str]
    deciding_keys: frozenset[str]


@dataclass(frozen=True)
class _Tri:
    """One three-valued result and the keys whose facts left it unknown."""
    value: bool | None
    unknown: frozenset[str] = frozenset()


# ---------------------------------------------------------------- three-valued logic

def _or(values: Iterable[bool | None]) -> bool | None:
    values = list(values)
    if True in values:
        return True
    return False if all(v is False for v in values) else None


def _and(values: Iterable[bool | None]) -> bool | None:
    values = list(values)
    if False in values:
        return False
    return True if all(v is True for v in values) else None


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


def _agreement(values: Iterable[bool | None]) -> bool | None:
    """True if all are True, False if all are False, else None (a split population)."""
    values = list(values)
    if values and all(v is True for v in values):
        return True
    if values and all(v is False for v in values):
        return False
    return None


# ---------------------------------------------------------------- test values

@dataclass(frozen=True)
class _Values:
    """A key's test values, resolved against the context; None stands for unknown."""
    resolved: tuple
    unknown: frozenset[str]  # variable keys that left a value unresolved

    @property
    def known(self) -> tuple:
        return tuple(v for v in self.resolved if v is not None)

    @property
    def any_unknown(self) -> bool:
        return any(v is None for v in self.resolved)


def _raw_values(value: object) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def _resolve_values(operator: Operator, value: object, context: Context) -> _Values:
    resolved, unknown = [], set()
    for raw in _raw_values(value):
        one, missing = _resolve_one(operator, raw, context)
        resolved.append(one)
        unknown |= missing
    return _Values(tuple(resolved), frozenset(unknown))


def _resolve_one(operator: Operator, raw: object, context: Context) -> tuple[object, set[str]]:
    if raw is None or isinstance(raw, dict | list | tuple):
        return None, set()  # a value the template does not determine (or IAM rejects)
    if operator.family == NULL:
        return parse_bool(raw), set()
    if operator.family in (STRING, ARN):
        return _pattern_of(operator, raw, context)
    if operator.family in VARIABLE_FAMILIES:  # Bool
        text, missing = _substitute(split_variables(as_text(raw)), context)
        return (None if text is None else parse_bool(text)), missing
    return PARSERS[operator.family](raw), set()


def _substitute(pieces, context: Context) -> tuple[str | None, set[str]]:
    parts, missing = [], set()
    for piece in pieces:
        text = piece.text if isinstance(piece, Text | Literal) else _variable_value(piece, context)
        if text is None:
            missing.add(piece.key)
        parts.append(text)
    return (None if missing else "".join(parts)), missing


def _variable_value(variable: Variable, context: Context) -> str | None:
    """AWS: "If AWS cannot resolve a variable ..." — unknown, unless the key is absent and
    a default is given ("Specifying default values"). Multivalued keys cannot be used as
    variables ("Single-valued vs. multivalued context keys")."""
    fact = context.get(variable.key, UNKNOWN_FACT)
    if isinstance(fact, Exact) and len(fact.values) == 1:
        return next(iter(fact.values))
    if isinstance(fact, Matching) and glob.is_literal(glob.glob_tokens(fact.pattern)) \
            and not fact.leaves_out(fact.pattern):
        return fact.pattern
    if isinstance(fact, Absent):
        return variable.default
    return None


def _pattern_of(operator: Operator, raw: object, context: Context) -> tuple[glob.Pattern | None, set[str]]:
    """A String or ARN test value as a glob pattern (substituted text is literal)."""
    tokens: list = []
    missing: set[str] = set()
    wildcards = operator.comparison == "like"  # "StringEquals ... exact matching"
    for piece in split_variables(as_text(raw)):
        if isinstance(piece, Text):
            tokens.extend(glob.glob_tokens(piece.text) if wildcards else glob.literal_tokens(piece.text))
            continue
        text = piece.text if isinstance(piece, Literal) else _variable_value(piece, context)
        if text is None:
            missing.add(piece.key)
        else:
            tokens.extend(glob.literal_tokens(text))
    if missing:
        return None, missing
    pattern = tuple(tokens)
    if operator.family == ARN:
        components = _arn_components(pattern)
        return (glob.arn_tokens(components) if len(components) == 6 else glob.NOTHING), missing
    return (glob.caseless_tokens(pattern) if operator.ignore_case else pattern), missing


def _arn_components(pattern: glob.Pattern) -> list[glob.Pattern]:
    """Split at the first five colons: "Each of the six colon-delimited components of the
    ARN is checked separately" (AWS, ARN condition operators). A pattern with fewer
    components (`arn:*`, `*`) matches no ARN: a wildcard "cannot span segments" (AWS,
    IAM JSON policy elements: Resource); other IAM evaluators answer such a value "Invalid ARN"."""
    components: list[list] = [[]]
    for token in pattern:
        if token == ("c", ":") and len(components) < 6:
            components.append([])
        else:
            components[-1].append(token)
    return [tuple(c) for c in components]


# ---------------------------------------------------------------- one present value

def _value_matches(operator: Operator, present: str, test: object) -> bool:
    """Does one request value match one (known) test value? Before negation."""
    family = operator.family
    if family in (STRING, ARN):
        return glob.matches(test, present)
    if family == BOOL:
        return present.lower() == test
    if family == IP:
        address = parse_address(present)
        return address is not None and address.version == test.version and address in test
    parsed = PARSERS[family](present)  # a request value of another type matches nothing
    return parsed is not None and _COMPARISONS[operator.comparison](parsed, test)


_COMPARISONS = {"eq": eq, "lt": lt, "le": le, "gt": gt, "ge": ge}


def _concrete(operator: Operator, present: str, values: _Values, stranger: bool = False) -> bool | None:
    """One request value against the test values: OR of the values, NOR if negated
    ("Conditions with multiple context keys or values")."""
    unknown = False if _names_no_stranger(operator, stranger) else None
    matched = _or([unknown if v is None else _value_matches(operator, present, v) for v in values.resolved])
    return _not(matched) if operator.negated else matched


def _names_no_stranger(operator: Operator, stranger: bool) -> bool:
    """A value the template does not determine (a parameter's) is still one it gives: an
    exact string comparison with it never matches a stranger's value. (A pattern might be
    `*`, which matches anyone.)"""
    return stranger and operator.family == STRING and operator.comparison == "eq"


def _population(operator: Operator, fact: Matching, values: _Values) -> bool | None:
    """Every string of the glob but the excluded ones, against the test values."""
    if operator.family not in (STRING, ARN):
        population = glob.glob_tokens(fact.pattern)
        if glob.is_literal(population) and not fact.leaves_out(fact.pattern):
            return _concrete(operator, fact.pattern, values)
        return None
    matched = _matched_population(fact, values, _names_no_stranger(operator, fact.stranger))
    return _not(matched) if operator.negated else matched


def _matched_population(fact: Matching, values: _Values, unknown_misses: bool = False) -> bool | None:
    population = glob.glob_tokens(fact.pattern)
    if not glob.overlaps(population, fact.excluded, values.known, fact.excluded_globs):
        return None if values.any_unknown and not unknown_misses else False
    return True if glob.covers(population, fact.excluded, values.known, fact.excluded_globs) else None


# ---------------------------------------------------------------- one fact

def _absent(operator: Operator, values: _Values) -> bool | None:
    if operator.family == NULL:  # "true": the key is absent; "false": it is present
        return _or([None if v is None else v == "true" for v in values.resolved])
    # AWS: ForAllValues "also returns true if there are no context keys in the request";
    # ForAnyValue returns false then (also with IfExists: repost.aws QU9HFmDzP0QGuU-fd7rS6B7w).
    if operator.qualifier == "forallvalues":
        return True
    if operator.qualifier == "foranyvalue":
        return False
    # AWS: "If the key ... is not present in the request context, the values do not match
    # and the condition is false. If the policy condition requires that the key is not
    # matched, such as StringNotLike or ArnNotLike, ... the condition is true."
    return operator.if_exists or operator.negated


def _present(operator: Operator, values: _Values) -> bool | None:
    """Null on a key that is present."""
    return _or([None if v is None else v == "false" for v in values.resolved])


def _exact(operator: Operator, fact: Exact, values: _Values) -> bool | None:
    if operator.family == NULL:
        return _present(operator, values) if fact.values else None
    results = [_concrete(operator, present, values, fact.stranger) for present in sorted(fact.values)]
    if operator.qualifier == "forallvalues":
        return _and(results)  # an empty set: true, like an absent key
    if operator.qualifier == "foranyvalue":
        return _or(results)
    if len(results) == 1:
        return results[0]
    # A plain operator on a multivalued key: AWS says such keys "require a condition set
    # operator". Only an answer that does not depend on any/all is given.
    return _agreement(results)


def _signature(operator: Operator, values: _Values) -> tuple | None:
    """What decides a plain test on a single value: negation and IfExists aside, two tests
    with one signature match the same present values."""
    if operator.family == NULL or operator.qualifier or not values.resolved or values.any_unknown:
        return None
    return operator.family, operator.comparison, operator.ignore_case, frozenset(values.resolved)


def _tested(operator: Operator, fact: Tested, values: _Values) -> bool | None:
    if operator.family == NULL:
        return _present(operator, values)
    if _signature(operator, values) != fact.test:
        return None
    return fact.holds != operator.negated


def split_by_test(name: object, value: object, context: Context) -> tuple[Tested, Tested] | None:
    """The two cases of a present single-valued key that one test splits it into: its
    value matches the test, or does not (None: the test decides no such split)."""
    operator = parse_operator(name)
    if operator is None:
        return None
    signature = _signature(operator, _resolve_values(operator, value, context))
    return None if signature is None else (Tested(signature, True), Tested(signature, False))


def _fact_result(operator: Operator, fact: Fact, values: _Values) -> bool | None:
    if isinstance(fact, Tested):
        return _tested(operator, fact, values)
    if isinstance(fact, OneOf):
        return _agreement(_fact_result(operator, member, values) for member in fact.facts)
    if isinstance(fact, Absent):
        if operator.family == NULL and operator.qualifier:
            # ForAllValues:Null and ForAnyValue:Null pass IAM's checks (PMapper, "validated
            # against the Simulator API") but AWS documents neither; the simulators disagree
            # on an absent key (public evaluators disagree: as Null, or per-value quantifier).
            return None
        return _absent(operator, values)
    if isinstance(fact, Exact):
        return _exact(operator, fact, values)
    if operator.family == NULL:
        return _present(operator, values)
    return _population(operator, fact, values)


def _key_result(operator: Operator, key: str, value: object, context: Context) -> _Tri:
    fact = context.get(key, UNKNOWN_FACT)
    values = _resolve_values(operator, value, context)
    result = _fact_result(operator, fact, values)
    if result is not None:
        return _Tri(result)
    return _Tri(None, frozenset({key}) | values.unknown)


# ---------------------------------------------------------------- the block

def evaluate(condition: Mapping[str, Mapping[str, object]] | None, context: Context) -> Outcome:
    """Operators AND, keys AND, values OR (NOR when negated): AWS, "Conditions with
    multiple context keys or values"."""
    if not condition:
        return Outcome(True, frozenset(), frozenset())
    if not isinstance(condition, Mapping):
        return Outcome(None, frozenset(), frozenset())
    context = {k.lower(): v for k, v in context.items()}
    results: dict[str, list[_Tri]] = {}
    for name, block in condition.items():
        for key, tri in _operator_results(name, block, context):
            results.setdefault(key, []).append(tri)
    return _combine(results)


def _operator_results(name: object, block: object, context: Context) -> list[tuple[str, _Tri]]:
    operator = parse_operator(name)
    if operator is None or not isinstance(block, Mapping) or not block:
        return [("", _Tri(None))]  # IAM rejects it: see problems()
    if operator.family == NULL and operator.if_exists:
        return [("", _Tri(None))]
    return [(str(key).lower(), _key_result(operator, str(key).lower(), value, context))
            for key, value in block.items()]


def _combine(results: dict[str, list[_Tri]]) -> Outcome:
    per_key = {key: _and(t.value for t in tris) for key, tris in results.items()}
    value = _and(per_key.values())
    if value is False:
        deciding = frozenset(k for k, v in per_key.items() if v is False)
        return Outcome(False, frozenset(), deciding - {""})
    if value is True:
        return Outcome(True, frozenset(), frozenset(per_key) - {""})
    unknown = frozenset().union(*(t.unknown for tris in results.values() for t in tris if t.value is None))
    return Outcome(None, unknown - {""}, frozenset())


def problems(condition: object) -> list[tuple[str, str]]:
    """(operator or "operator/key", message) for each thing IAM would reject."""
    return condition_problems(condition)
