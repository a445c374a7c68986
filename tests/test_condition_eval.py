"""The three-valued Condition evaluator (bridge/condition_eval.py), against the AWS rules.

Expected values are written out by hand from the AWS sentences quoted in
docs/conditions.md; none is computed with the evaluator's own helpers. T/F/N stand for
True, False, None ("unknown, or true for some requests and false for others").
"""

from __future__ import annotations

import re
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmspolicy.bridge import condition_glob as glob
from kmspolicy.bridge.condition_eval import Absent, Exact, Matching, OneOf, Outcome, evaluate, problems, split_by_test
from kmspolicy.bridge.condition_values import parse_operator

T, F, N = True, False, None


def exact(*values: str) -> Exact:
    return Exact(frozenset(values))


def value_of(condition, context) -> bool | None:
    return evaluate(condition, context).value


# ---------------------------------------------------------------- operator families × facts × variants

# (positive operator, negated operator or None, test value, a request value it matches, one it does not)
FAMILIES = [
    ("StringEquals", "StringNotEquals", "blue", "blue", "Blue"),
    ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "blue", "BLUE", "red"),
    ("StringLike", "StringNotLike", "o-*", "o-abc", "x-abc"),
    ("NumericEquals", "NumericNotEquals", "10", "10.0", "11"),
    ("NumericLessThan", None, 10, "9.5", "10"),
    ("NumericGreaterThanEquals", None, "10", "10", "9"),
    ("DateEquals", "DateNotEquals", "2024-01-01T00:00:00Z", "1704067200", "2024-01-02T00:00:00Z"),
    ("DateLessThan", None, "2024-01-01T00:00:00Z", "2023-12-31T23:59:59Z", "2024-01-01T00:00:00Z"),
    ("Bool", None, True, "true", "false"),
    ("BinaryEquals", None, "QmluYXJ5", "QmluYXJ5", "T3RoZXI="),
    ("IpAddress", "NotIpAddress", "203.0.113.0/24", "203.0.113.7", "198.51.100.1"),
    ("IpAddress", "NotIpAddress", "2001:DB8:1234:5678::/64", "2001:db8:1234:5678::1", "2001:db8::1"),
    ("ArnLike", "ArnNotLike", "arn:aws:iam::*:role/admin-*", "arn:aws:iam::111122223333:role/admin-x",
     "arn:aws:iam::111122223333:user/admin-x"),
    ("ArnEquals", "ArnNotEquals", "arn:aws:iam::*:role/admin-*", "arn:aws:iam::111122223333:role/admin-x",
     "arn:aws:iam::111122223333:user/admin-x"),
]

VARIANTS = ("plain", "IfExists", "Not", "NotIfExists", "ForAny", "ForAll", "ForAnyNot", "ForAllNot")

# The facts, by name: HIT/MISS present with a matching/non-matching value, BOTH the two as a
# multivalued set, EMPTY an empty set, SPLIT requests split between HIT and MISS, MAYBE
# between absent and HIT, UNKNOWN no fact at all; LITERAL the population of HIT alone, WIDE
# every string (matching and non-matching values).
EXPECTED = {
    #          plain IfEx Not NotIfEx ForAny ForAll ForAnyNot ForAllNot
    "HIT":     (T,   T,   F,  F,      T,     T,     F,        F),
    "MISS":    (F,   F,   T,  T,      F,     F,     T,        T),
    "ABSENT":  (F,   T,   T,  T,      F,     T,     F,        T),
    "UNKNOWN": (N,   N,   N,  N,      N,     N,     N,        N),
    "SPLIT":   (N,   N,   N,  N,      N,     N,     N,        N),
    "MAYBE":   (N,   T,   N,  N,      N,     T,     F,        N),
    "EMPTY":   (N,   N,   N,  N,      F,     T,     F,        T),
    "BOTH":    (N,   N,   N,  N,      T,     F,     T,        F),
    "LITERAL": (T,   T,   F,  F,      T,     T,     F,        F),
    "WIDE":    (N,   N,   N,  N,      N,     N,     N,        N),
}


def operator_name(positive: str, negated: str | None, variant: str) -> str | None:
    base = negated if "Not" in variant else positive
    if base is None:
        return None
    if variant.startswith("ForAny"):
        return "ForAnyValue:" + base
    if variant.startswith("ForAll"):
        return "ForAllValues:" + base
    return base + ("IfExists" if variant.endswith("IfExists") else "")


def fact_named(name: str, hit: str, miss: str):
    return {
        "HIT": exact(hit), "MISS": exact(miss), "ABSENT": Absent(), "UNKNOWN": None,
        "SPLIT": OneOf((exact(hit), exact(miss))), "MAYBE": OneOf((Absent(), exact(hit))),
        "EMPTY": Exact(frozenset()), "BOTH": exact(hit, miss),
        "LITERAL": Matching(hit), "WIDE": Matching("*"),
    }[name]


FAMILY_CASES = [
    pytest.param(positive, negated, value, hit, miss, fact, variant, EXPECTED[fact][index],
                 id=f"{positive}-{fact}-{variant}-{value}")
    for (positive, negated, value, hit, miss), fact, (index, variant)
    in product(FAMILIES, EXPECTED, enumerate(VARIANTS))
    if operator_name(positive, negated, variant) is not None
]


@pytest.mark.parametrize("positive,negated,value,hit,miss,fact,variant,expected", FAMILY_CASES)
def test_family_fact_variant(positive, negated, value, hit, miss, fact, variant, expected):
    operator = operator_name(positive, negated, variant)
    context = {} if fact == "UNKNOWN" else {"k": fact_named(fact, hit, miss)}
    assert value_of({operator: {"k": value}}, context) is expected


def test_the_family_table_covers_every_operator_family_but_null():
    families = {parse_operator(positive).family for positive, *_ in FAMILIES}
    assert families == {"String", "Numeric", "Date", "Bool", "Binary", "IpAddress", "Arn"}


# ---------------------------------------------------------------- Null

@pytest.mark.parametrize("fact,if_true,if_false", [
    (Absent(), T, F),
    (exact("2024-01-01T00:00:00Z"), F, T),
    (Matching("o-*"), F, T),
    (OneOf((Absent(), Matching("o-*"))), N, N),
    (None, N, N),
])
def test_null_checks_presence_only(fact, if_true, if_false):
    context = {} if fact is None else {"aws:tokenissuetime": fact}
    assert value_of({"Null": {"aws:TokenIssueTime": "true"}}, context) is if_true
    assert value_of({"Null": {"aws:TokenIssueTime": True}}, context) is if_true
    assert value_of({"Null": {"aws:TokenIssueTime": "false"}}, context) is if_false


@pytest.mark.parametrize("operator", ["ForAllValues:Null", "ForAnyValue:Null"])
def test_set_qualified_null_is_null_on_a_present_key_and_unknown_on_an_absent_one(operator):
    assert value_of({operator: {"k": "false"}}, {"k": exact("a", "b")}) is T
    assert value_of({operator: {"k": "true"}}, {"k": Matching("o-*")}) is F
    assert value_of({operator: {"k": "true"}}, {"k": Absent()}) is N  # the simulators disagree
    assert problems({operator: {"k": "true"}}) == []


def test_null_with_an_undetermined_value_is_unknown_only_where_the_key_is_present_or_absent_matters():
    assert value_of({"Null": {"k": None}}, {"k": Absent()}) is N
    assert value_of({"Null": {"k": ["true", None]}}, {"k": Absent()}) is T


# ---------------------------------------------------------------- matching facts (populations)

STRANGER = Matching("????????????", excluded=frozenset({"111122223333", "444455556666"}))


@pytest.mark.parametrize("condition,fact,expected", [
    # literal test values against a population
    ({"StringEquals": {"k": "111122223333"}}, STRANGER, F),
    ({"StringNotEquals": {"k": "111122223333"}}, STRANGER, T),
    ({"StringEquals": {"k": "999999999999"}}, STRANGER, N),
    ({"StringEquals": {"k": "12345"}}, STRANGER, F),
    ({"StringEquals": {"k": "555555555555"}}, Matching("555555555555"), T),
    ({"StringEquals": {"k": ["111122223333", "444455556666"]}}, STRANGER, F),
    ({"StringNotEquals": {"k": ["111122223333", "444455556666"]}}, STRANGER, T),
    # Like patterns: inclusion and intersection of glob languages
    ({"StringLike": {"k": "o-*"}}, Matching("o-*"), T),
    ({"StringLike": {"k": "o-*"}}, Matching("o-a?c*"), T),
    ({"StringLike": {"k": "o-*"}}, Matching("x*"), F),
    ({"StringLike": {"k": "o-*"}}, Matching("*"), N),
    ({"StringNotLike": {"k": "o-*"}}, Matching("x*"), T),
    ({"StringNotLike": {"k": "o-*"}}, Matching("o-*"), F),
    ({"StringLike": {"k": "????????????"}}, STRANGER, T),
    ({"StringLike": {"k": "1111*"}}, STRANGER, N),
    ({"StringLike": {"k": ["o-", "o-?*"]}}, Matching("o-*"), T),  # only the union covers
    ({"StringLike": {"k": "o-?*"}}, Matching("o-*"), N),
    ({"StringLike": {"k": "a*"}}, Matching("a?", excluded=frozenset({"ab"})), T),
    ({"StringEquals": {"k": "aa"}}, Matching("a?", excluded=frozenset(
        {"a" + chr(c) for c in range(0x20, 0x7F) if chr(c) != "a"})), N),  # other characters remain
    # excluded globs: every word of the glob is left out of the population
    ({"StringLike": {"k": "r/s-A-*"}}, Matching("r/*", excluded_globs=frozenset({"r/s-A-*"})), F),
    ({"StringLike": {"k": "r/s-*"}}, Matching("r/*", excluded_globs=frozenset({"r/s-A-*"})), N),
    ({"StringNotLike": {"k": "r/s-A-*"}}, Matching("r/*", excluded_globs=frozenset({"r/s-A-*"})), T),
    ({"StringEquals": {"k": "r/s-A-x"}}, Matching("r/*", excluded_globs=frozenset({"r/s-A-*"})), F),
    ({"StringEquals": {"k": "r/s-A-x"}}, Matching("r/s-A-x", excluded_globs=frozenset({"r/s-A-*"})), F),
    # IgnoreCase against a population
    ({"StringEqualsIgnoreCase": {"k": "Admin"}}, Matching("ADMIN"), T),
    ({"StringEqualsIgnoreCase": {"k": "Admin"}}, Matching("ADM*"), N),
    ({"StringNotEqualsIgnoreCase": {"k": "Admin"}}, Matching("x*"), T),
    ({"StringEquals": {"k": "Admin"}}, Matching("ADMIN"), F),
    # ARN populations
    ({"ArnLike": {"k": "arn:aws:iam::*:*"}}, Matching("arn:aws:iam::????????????:role/*"), T),
    ({"ArnLike": {"k": "arn:aws:iam::111122223333:*"}}, Matching("arn:aws:iam::*:role/*"), N),
    ({"ArnLike": {"k": "arn:aws:iam::*:*"}}, Matching("arn:aws:sts::*"), F),
    ({"ArnNotLike": {"k": "arn:aws:iam::*:*"}}, Matching("arn:aws:sts::*"), T),
    ({"ArnEquals": {"k": "arn:aws:iam::*:role/x"}}, Matching("arn:aws:iam::*:role/x"), N),  # account may hold ':'
    # non-string families: a literal population is one value; otherwise unknown
    ({"NumericEquals": {"k": 10}}, Matching("10"), T),
    ({"NumericEquals": {"k": 10}}, Matching("1?"), N),
    ({"IpAddress": {"k": "10.0.0.0/8"}}, Matching("10.*"), N),
    ({"Bool": {"k": "true"}}, Matching("true"), T),
])
def test_matching_facts(condition, fact, expected):
    assert value_of(condition, {"k": fact}) is expected


@pytest.mark.parametrize("operator,expected", [
    ("ForAnyValue:StringLike", T), ("ForAllValues:StringLike", T),
    ("ForAnyValue:StringNotLike", F), ("ForAllValues:StringNotLike", F),
])
def test_a_single_valued_population_is_a_one_element_set(operator, expected):
    assert value_of({operator: {"k": "o-*"}}, {"k": Matching("o-ab*")}) is expected


def test_one_of_nests_and_combines_members():
    nested = OneOf((Absent(), OneOf((Matching("o-*"), exact("o-1")))))
    assert value_of({"StringLikeIfExists": {"k": "o-*"}}, {"k": nested}) is T
    assert value_of({"StringLike": {"k": "o-*"}}, {"k": nested}) is N
    assert value_of({"StringLike": {"k": "o-*"}}, {"k": OneOf((Matching("o-*"), exact("o-1")))}) is T
    assert value_of({"StringLike": {"k": "x*"}}, {"k": OneOf((Absent(), exact("o-1")))}) is F


# ---------------------------------------------------------------- wildcards in values

@pytest.mark.parametrize("condition,fact,expected", [
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:*"}}, exact("arn:aws:iam::111122223333:role/r"), T),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:*"}}, exact("arn:aws:sts::111122223333:assumed-role/r/s"), F),
    # fewer than six components: a wildcard "cannot span segments", so no ARN matches
    ({"ArnLike": {"aws:PrincipalArn": "arn:*"}}, exact("arn:aws:iam::111122223333:root"), F),
    ({"ArnLike": {"aws:PrincipalArn": "arn:*"}}, Matching("arn:aws:iam::*"), F),
    ({"ArnNotLike": {"aws:PrincipalArn": "arn:*"}}, Matching("arn:aws:iam::*"), T),
    ({"ArnLike": {"aws:PrincipalArn": "*"}}, exact("arn:aws:iam::111122223333:root"), F),
    ({"ArnLike": {"aws:PrincipalArn": "arn:*:*:*:*:*"}}, exact("arn:aws:iam::111122223333:root"), T),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}}, exact("arn:aws:iam::1:2:role/x"), F),
    ({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}}, exact("arn:aws:iam::1:2:role/x"), T),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:logs:*:*:*"}},
     exact("arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/f:*"), T),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:logs:*:*:*"}}, Matching("arn:aws:logs:us-east-1:????????????:*"), T),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:logs:*:*:*"}}, Matching("arn:aws:s3:::*"), F),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:logs:*:*:*"}}, exact("arn:aws:logs:us-east-1"), F),
    ({"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::bucket-?"}}, exact("arn:aws:s3:::bucket-1"), T),
    ({"StringLike": {"aws:userid": "*:*"}}, Matching("AROA*:*"), T),
    ({"StringLike": {"aws:userid": "*:*"}}, exact("AIDAEXAMPLEUSERID"), F),
    ({"StringLike": {"aws:userid": "*:*"}}, Matching("AIDA*"), N),
    ({"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::*:*"}}, exact("arn:aws:iam::111122223333:root"), F),
    ({"StringEquals": {"k": "*"}}, exact("*"), T),
    ({"StringEquals": {"k": "*"}}, exact("anything"), F),
    ({"StringLike": {"k": "*"}}, exact(""), T),
])
def test_wildcards_only_in_like_and_arn_operators(condition, fact, expected):
    key = next(iter(next(iter(condition.values())))).lower()
    assert value_of(condition, {key: fact}) is expected


@pytest.mark.parametrize("condition,expected", [
    ({"StringLike": {"k": "*"}}, N),  # still false when the key is absent
    ({"StringLikeIfExists": {"k": "*"}}, T),
    ({"StringNotLike": {"k": "*"}}, N),
    ({"ForAllValues:StringLike": {"k": "*"}}, T),
    ({"ForAnyValue:StringLike": {"k": "*"}}, N),
    ({"ArnLikeIfExists": {"k": "arn:*:*:*:*:*"}}, N),  # a present non-ARN value fails
    ({"ArnLikeIfExists": {"k": "*"}}, N),  # absent: true; present: no ARN matches "*"
])
def test_an_unknown_key_decides_only_what_does_not_depend_on_it(condition, expected):
    assert value_of(condition, {}) is expected


# ---------------------------------------------------------------- policy variables

HOME = {"StringLike": {"s3:prefix": "home/${aws:username}/*"}}


@pytest.mark.parametrize("condition,context,expected", [
    (HOME, {"aws:username": exact("alice"), "s3:prefix": exact("home/alice/docs")}, T),
    (HOME, {"aws:username": exact("alice"), "s3:prefix": exact("home/bob/docs")}, F),
    (HOME, {"s3:prefix": exact("home/alice/docs")}, N),
    (HOME, {"aws:username": Absent(), "s3:prefix": exact("home/alice/docs")}, N),
    (HOME, {"aws:username": exact("a", "b"), "s3:prefix": exact("home/a/x")}, N),
    (HOME, {"aws:username": exact("alice"), "s3:prefix": Absent()}, F),  # absent: false whatever the variable
    (HOME, {"s3:prefix": Absent()}, F),
    ({"StringLike": {"s3:prefix": "home/${aws:username, 'guest'}/*"}},
     {"aws:username": Absent(), "s3:prefix": exact("home/guest/x")}, T),
    ({"StringLike": {"s3:prefix": "home/${aws:username, 'guest'}/*"}},
     {"aws:username": exact("alice"), "s3:prefix": exact("home/guest/x")}, F),
    # substituted text is literal: a `*` in the user name is no wildcard
    ({"StringLike": {"k": "home/${aws:username}"}}, {"aws:username": exact("a*"), "k": exact("home/abc")}, F),
    ({"StringLike": {"k": "home/${aws:username}"}}, {"aws:username": exact("a*"), "k": exact("home/a*")}, T),
    # escapes
    ({"StringLike": {"k": "a${*}"}}, {"k": exact("a*")}, T),
    ({"StringLike": {"k": "a${*}"}}, {"k": exact("ab")}, F),
    ({"StringLike": {"k": "a${?}"}}, {"k": exact("ab")}, F),
    ({"StringLike": {"k": "a${?}"}}, {"k": exact("a?")}, T),
    ({"StringEquals": {"k": "cost${$}"}}, {"k": exact("cost$")}, T),
    # variable names are case-insensitive, tag keys inside them too
    ({"StringEquals": {"aws:ResourceTag/team": "${AWS:PrincipalTag/Team}"}},
     {"aws:principaltag/team": exact("blue"), "aws:resourcetag/team": exact("blue")}, T),
    ({"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
     {"aws:principaltag/team": exact("blue"), "aws:resourcetag/team": exact("red")}, F),
    ({"StringNotEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
     {"aws:principaltag/team": exact("blue"), "aws:resourcetag/team": exact("red")}, T),
    ({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:root"}},
     {"aws:principalaccount": exact("111122223333"), "aws:principalarn": exact("arn:aws:iam::111122223333:root")}, T),
    ({"Bool": {"k": "${aws:PrincipalTag/flag}"}}, {"aws:principaltag/flag": exact("true"), "k": exact("true")}, T),
    ({"Bool": {"k": "${aws:PrincipalTag/flag}"}}, {"k": exact("true")}, N),
    ({"StringEquals": {"k": "${aws:username, 'guest'}"}}, {"aws:username": exact("a", "b"), "k": exact("guest")}, N),
    ({"StringEquals": {"k": "${aws:username, 'guest'}"}}, {"aws:username": OneOf((Absent(), exact("guest"))),
                                                             "k": exact("guest")}, N),
    # a population as the variable's fact: a literal one substitutes, a wider one is unknown
    ({"StringEquals": {"k": "${aws:username}"}}, {"aws:username": Matching("bob"), "k": exact("bob")}, T),
    ({"StringEquals": {"k": "${aws:username}"}}, {"aws:username": Matching("b*"), "k": exact("bob")}, N),
    # Numeric operators take no policy variables: the text is not a number
    ({"NumericEquals": {"k": "${aws:username}"}}, {"aws:username": exact("1"), "k": exact("1")}, N),
])
def test_policy_variables(condition, context, expected):
    assert value_of(condition, context) is expected


def test_an_unresolved_variable_names_its_key_as_unknown():
    outcome = evaluate(HOME, {"s3:prefix": exact("home/alice/docs")})
    assert outcome == Outcome(None, frozenset({"s3:prefix", "aws:username"}), frozenset())


# ---------------------------------------------------------------- values the template does not determine

@pytest.mark.parametrize("condition,fact,expected", [
    ({"StringEquals": {"k": None}}, exact("a"), N),
    ({"StringEquals": {"k": None}}, Absent(), F),
    ({"StringNotEquals": {"k": None}}, Absent(), T),
    ({"StringEquals": {"k": ["a", None]}}, exact("a"), T),
    ({"StringEquals": {"k": ["a", None]}}, exact("b"), N),
    ({"StringNotEquals": {"k": ["a", None]}}, exact("a"), F),
    ({"StringNotEquals": {"k": ["a", None]}}, exact("b"), N),
    ({"StringLike": {"k": ["o-*", None]}}, Matching("o-1*"), T),
    ({"StringLike": {"k": ["o-*", None]}}, Matching("x*"), N),
    ({"NumericLessThan": {"k": None}}, exact("1"), N),
    ({"IpAddressIfExists": {"k": None}}, Absent(), T),
    ({"ForAllValues:StringEquals": {"k": None}}, Exact(frozenset()), T),
])
def test_undetermined_values(condition, fact, expected):
    assert value_of(condition, {"k": fact}) is expected


# ---------------------------------------------------------------- comparisons per family

@pytest.mark.parametrize("operator,test,present,expected", [
    ("NumericLessThan", "10", "9", T), ("NumericLessThan", "10", "10", F),
    ("NumericLessThanEquals", "10", "10", T), ("NumericGreaterThan", 10, "10.5", T),
    ("NumericGreaterThan", 10, "10", F), ("NumericGreaterThanEquals", "1.5", "1.50", T),
    ("NumericEquals", "10", "abc", F), ("NumericNotEquals", "10", "abc", T),
    ("NumericEquals", 3600, "3600", T),
    ("DateLessThan", "2025-01-01T00:00:00Z", "2024-06-01T12:00:00Z", T),
    ("DateGreaterThan", 1700000000, "2024-01-01T00:00:00+00:00", T),
    ("DateGreaterThanEquals", "2024-01-01", "2024-01-01T00:00:00Z", T),
    ("DateLessThanEquals", "2024-01-01T01:00:00+01:00", "2024-01-01T00:00:00Z", T),
    ("DateEquals", "2024-01-01T00:00:00Z", "not a date", F),
    ("IpAddress", "203.0.113.0/24", "203.0.114.1", F),
    ("IpAddress", "203.0.113.5", "203.0.113.5", T),
    ("IpAddress", "::/0", "203.0.113.5", F),
    ("IpAddress", "0.0.0.0/0", "vpc-endpoint", F),
    ("NotIpAddress", "0.0.0.0/0", "2001:db8::1", T),
    ("Bool", "false", "false", T), ("Bool", False, "false", T), ("Bool", "true", "false", F),
    ("BinaryEquals", "QmluYXJ5", "QmluYXJ5", T), ("BinaryEquals", "QmluYXJ5", "T3RoZXI=", F),
])
def test_family_comparisons(operator, test, present, expected):
    assert value_of({operator: {"k": test}}, {"k": exact(present)}) is expected


# ---------------------------------------------------------------- several keys, values and operators

def test_several_keys_in_one_operator_are_anded():
    condition = {"StringEquals": {"a": "1", "b": "2"}}
    assert evaluate(condition, {"a": exact("1"), "b": exact("2")}) == Outcome(T, frozenset(), frozenset({"a", "b"}))
    assert evaluate(condition, {"a": exact("1"), "b": exact("3")}) == Outcome(F, frozenset(), frozenset({"b"}))
    assert evaluate(condition, {"a": exact("1")}) == Outcome(N, frozenset({"b"}), frozenset())
    assert evaluate(condition, {"a": exact("0")}) == Outcome(F, frozenset(), frozenset({"a"}))


def test_several_operators_are_anded_even_on_one_key():
    condition = {"StringLike": {"k": "o-*"}, "StringNotEquals": {"k": "o-bad"}}
    assert value_of(condition, {"k": exact("o-good")}) is T
    assert value_of(condition, {"k": exact("o-bad")}) is F
    assert value_of(condition, {"k": Matching("o-*")}) is N
    assert value_of(condition, {"k": Matching("o-*", excluded=frozenset({"o-bad"}))}) is T


def test_condition_keys_are_case_insensitive_and_string_values_are_not():
    assert value_of({"StringEquals": {"AWS:PrincipalTag/Team": "blue"}}, {"aws:principaltag/team": exact("blue")}) is T
    assert value_of({"StringEquals": {"aws:principaltag/team": "blue"}}, {"AWS:PrincipalTag/Team": exact("blue")}) is T
    assert value_of({"StringEquals": {"k": "blue"}}, {"k": exact("BLUE")}) is F
    assert value_of({"StringLike": {"k": "b*"}}, {"k": exact("Blue")}) is F

def test_arn_operators_are_case_sensitive():
    assert value_of({"ArnLike": {"k": "arn:aws:iam::*:role/Admin"}}, {"k": exact("arn:aws:iam::1:role/admin")}) is F
    assert value_of({"ArnLike": {"k": "arn:aws:iam::*:*"}}, {"k": exact("ARN:aws:iam::1:root")}) is F
    assert value_of({"ArnLike": {"k": "arn:aws:iam::*:*"}}, {"k": exact("arn:aws:IAM::1:root")}) is F


def test_operator_names_are_case_sensitive():
    # IAM: "MalformedPolicyDocument: Invalid Condition type : stringEquals"
    # (ministryofjustice/modernisation-platform-environments#8893)
    assert value_of({"stringEquals": {"k": "blue"}}, {"k": exact("blue")}) is N
    assert value_of({"forAnyValue:StringEquals": {"k": "blue"}}, {"k": exact("blue")}) is N
    assert value_of({"StringEqualsifexists": {"k": "blue"}}, {"k": Absent()}) is N


def test_an_empty_or_missing_condition_holds():
    assert evaluate(None, {}) == Outcome(T, frozenset(), frozenset())
    assert evaluate({}, {}) == Outcome(T, frozenset(), frozenset())


def test_a_block_iam_rejects_is_unknown():
    assert value_of({"StringEqualz": {"k": "a"}}, {"k": exact("a")}) is N
    assert value_of(["StringEquals"], {}) is N
    assert value_of({"NullIfExists": {"k": "true"}}, {"k": Absent()}) is N


# ---------------------------------------------------------------- AWS documentation examples

# IAM User Guide, "Multivalued context keys examples", Deny with ForAllValues:StringNotLike
# {"aws:TagKeys": "key1*"}: its table of request contexts and results.
@pytest.mark.parametrize("tag_keys,matches", [
    (exact("key1:legal"), F),
    (exact("key1:hr", "key1:personnel"), F),
    (exact("key2:audit"), T),
    (Absent(), T),  # "No aws:TagKeys in the request context: Match"
])
def test_aws_example_forallvalues_stringnotlike(tag_keys, matches):
    assert value_of({"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}, {"aws:tagkeys": tag_keys}) is matches


# IAM User Guide, "Condition operator to check existence of condition keys": the statement
# with {"Null": {"aws:TokenIssueTime": "true"}} applies only to long-term credentials.
def test_aws_example_null_token_issue_time():
    condition = {"Null": {"aws:TokenIssueTime": "true"}}
    assert value_of(condition, {"aws:tokenissuetime": Absent()}) is T
    assert value_of(condition, {"aws:tokenissuetime": exact("2011-05-03T00:00:00Z")}) is F


# "If the key that you specify in a policy condition is not present in the request context,
# the values do not match and the condition is false. If the policy condition requires that
# the key is not matched, such as StringNotLike or ArnNotLike, ... the condition is true."
def test_aws_sentence_on_absent_keys():
    absent = {"aws:sourcearn": Absent()}
    assert value_of({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}, absent) is F
    assert value_of({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::*"}}, absent) is T
    assert value_of({"StringNotLike": {"aws:SourceArn": "arn:aws:s3:::*"}}, absent) is T


# repost.aws "ForAnyValue:StringEqualsIfExists behaving unexpectedly": ListQueues (no
# aws:TagKeys) is denied, i.e. the Allow's condition is false.
def test_repost_foranyvalue_ifexists_on_an_absent_key_is_false():
    condition = {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["team"]}}
    assert value_of(condition, {"aws:tagkeys": Absent()}) is F


# "If a single negated matching condition operator includes multiple values for a context
# key, those values are evaluated using a logical NOR."
def test_aws_sentence_nor_for_negated_operators():
    condition = {"StringNotEquals": {"aws:PrincipalTag/department": ["finance", "hr"]}}
    assert value_of(condition, {"aws:principaltag/department": exact("hr")}) is F
    assert value_of(condition, {"aws:principaltag/department": exact("legal")}) is T


# KMS Developer Guide pattern (KMS-SEMANTICS.md §10): Principal "*" with kms:CallerAccount.
def test_kms_caller_account_separates_the_account_from_strangers():
    condition = {"StringEquals": {"kms:CallerAccount": "111122223333", "kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    own = {"kms:calleraccount": exact("111122223333"), "kms:viaservice": exact("s3.us-east-1.amazonaws.com")}
    stranger = {"kms:calleraccount": STRANGER, "kms:viaservice": exact("s3.us-east-1.amazonaws.com")}
    assert value_of(condition, own) is T
    assert evaluate(condition, stranger) == Outcome(F, frozenset(), frozenset({"kms:calleraccount"}))


# IAM User Guide, aws:PrincipalOrgPaths: "ForAnyValue:StringLike" over the paths of the
# principal's account (multivalued).
@pytest.mark.parametrize("paths,expected", [
    (exact("o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"), T),
    (exact("o-a1b2c3d4e5/r-ab12/ou-ab12-33333333/", "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"), T),
    (exact("o-a1b2c3d4e5/r-ab12/ou-ab12-33333333/"), F),
    (Absent(), F),
    (Matching("o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"), T),
    (Matching("o-a1b2c3d4e5/*"), N),
    (Matching("o-zzzzzzzzzz/*"), F),
])
def test_aws_example_principal_org_paths(paths, expected):
    condition = {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"]}}
    assert value_of(condition, {"aws:principalorgpaths": paths}) is expected


def test_org_id_absent_outside_organizations():
    facts = {"aws:principalorgid": OneOf((Absent(), Matching("o-*")))}
    assert value_of({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}, facts) is N
    assert value_of({"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}, facts) is N
    assert value_of({"StringLikeIfExists": {"aws:PrincipalOrgID": "o-*"}}, facts) is T
    assert value_of({"Null": {"aws:PrincipalOrgID": "false"}}, facts) is N


# ---------------------------------------------------------------- problems()

@pytest.mark.parametrize("condition,where", [
    ({"StringEqualz": {"k": "a"}}, "StringEqualz"),
    ({"stringEquals": {"k": "a"}}, "stringEquals"),
    ({"ForAllValues:StringLikeIfexists": {"k": "a"}}, "ForAllValues:StringLikeIfexists"),
    ({"ForSomeValues:StringEquals": {"k": "a"}}, "ForSomeValues:StringEquals"),
    ({"NullIfExists": {"k": "true"}}, "NullIfExists"),
    ({"StringEquals": "k"}, "StringEquals"),
    ({"StringEquals": {}}, "StringEquals"),
    ({"NumericEquals": {"k": "ten"}}, "NumericEquals/k"),
    ({"NumericLessThan": {"k": True}}, "NumericLessThan/k"),
    ({"NumericEquals": {"k": "${aws:username}"}}, "NumericEquals/k"),
    ({"DateLessThan": {"aws:CurrentTime": "tomorrow"}}, "DateLessThan/aws:CurrentTime"),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/33"}}, "IpAddress/aws:SourceIp"),
    ({"NotIpAddress": {"aws:SourceIp": "not-an-ip"}}, "NotIpAddress/aws:SourceIp"),
    ({"Bool": {"aws:SecureTransport": "yes"}}, "Bool/aws:SecureTransport"),
    ({"BinaryEquals": {"k": "not base64!"}}, "BinaryEquals/k"),
    ({"Null": {"k": "maybe"}}, "Null/k"),
    ({"StringEquals": {"k": [{"Ref": "X"}]}}, "StringEquals/k"),
    ({"StringEquals": {"k": []}}, "StringEquals/k"),
    (["StringEquals"], "Condition"),
])
def test_problems_iam_rejects(condition, where):
    found = problems(condition)
    assert [w for w, _ in found] == [where]
    assert all(message and "\n" not in message for _, message in found)


@pytest.mark.parametrize("condition", [
    None, {},
    {"StringEquals": {"k": ["a", 1, True, None]}},
    {"ForAllValues:StringLike": {"aws:TagKeys": "key1*"}},
    {"NumericLessThanIfExists": {"k": 1.5}},
    {"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z", "aws:EpochTime": 1700000000}},
    {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}},
    {"Bool": {"aws:SecureTransport": False, "k": "${aws:PrincipalTag/flag}"}},
    {"BinaryEquals": {"k": "QmluYXJ5"}},
    {"Null": {"k": "true"}},
    {"ArnLike": {"aws:SourceArn": "arn:aws:logs:*:*:*"}},
])
def test_problems_accepts_what_iam_accepts(condition):
    assert problems(condition) == []


# ---------------------------------------------------------------- glob automata on their own

def reference_match(pattern: str, word: str) -> bool:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, word, re.DOTALL) is not None


def reference_arn_match(pattern: str, word: str) -> bool:
    components = pattern.split(":", 5)
    parts = word.split(":", len(components) - 1)
    return len(parts) == len(components) and all(map(reference_match, components, parts))


def all_words(letters: str, longest: int):
    for length in range(longest + 1):
        for letters_ in product(letters, repeat=length):
            yield "".join(letters_)


WORDS = list(all_words("ab:c", 5))  # "c" stands for a character no pattern mentions
patterns = st.text(alphabet="ab:*?", max_size=4)
excluded_words = st.frozensets(st.text(alphabet="ab:", max_size=3), max_size=3)


@settings(max_examples=300, deadline=None)
@given(patterns, st.text(alphabet="ab:c", max_size=6))
def test_matches_agrees_with_a_regular_expression(pattern, word):
    assert glob.matches(glob.glob_tokens(pattern), word) == reference_match(pattern, word)


@settings(max_examples=300, deadline=None)
@given(patterns, excluded_words, st.lists(patterns, max_size=2))
def test_inclusion_agrees_with_brute_force(population, excluded, tests):
    witness = glob.word_outside(glob.glob_tokens(population), excluded, [glob.glob_tokens(t) for t in tests])

    def outside(word):
        return reference_match(population, word) and word not in excluded and \
            not any(reference_match(t, word) for t in tests)

    if witness is None:
        assert not any(outside(word) for word in WORDS)
    else:
        assert outside(witness)


@settings(max_examples=300, deadline=None)
@given(patterns, excluded_words, st.lists(patterns, max_size=2))
def test_intersection_agrees_with_brute_force(population, excluded, tests):
    witness = glob.word_inside(glob.glob_tokens(population), excluded, [glob.glob_tokens(t) for t in tests])

    def inside(word):
        return reference_match(population, word) and word not in excluded and \
            any(reference_match(t, word) for t in tests)

    if witness is None:
        assert not any(inside(word) for word in WORDS)
    else:
        assert inside(witness)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab:*?", max_size=7), st.text(alphabet="ab:c", max_size=7))
def test_arn_patterns_match_component_by_component(pattern, word):
    tokens = glob.arn_tokens([glob.glob_tokens(c) for c in pattern.split(":", 5)])
    assert glob.matches(tokens, word) == reference_arn_match(pattern, word)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="aB:", max_size=4), st.text(alphabet="AbA:c", max_size=4))
def test_caseless_literals_compare_lower_cased(literal, word):
    tokens = glob.caseless_tokens(glob.literal_tokens(literal))
    assert glob.matches(tokens, word) == (literal.lower() == word.lower())


@pytest.mark.parametrize("population,excluded,tests,covered,met", [
    ("o-*", (), ["o-*"], T, T),
    ("o-*", (), ["o-", "o-?*"], T, T),
    ("o-*", (), ["o-?*"], F, T),
    ("*", (), ["*"], T, T),
    ("", (), ["*"], T, T),
    ("a?", ("ab",), ["aa"], F, T),
    ("ab", ("ab",), ["x"], T, F),  # an empty population is covered by anything and meets nothing
    ("??", (), ["*a*", "*b*"], F, T),  # "cc" (any other character) is in neither
    ("a*", (), ["b*"], F, F),
])
def test_glob_inclusion_and_intersection_cases(population, excluded, tests, covered, met):
    tokens = [glob.glob_tokens(t) for t in tests]
    assert glob.covers(glob.glob_tokens(population), excluded, tokens) is covered
    assert glob.overlaps(glob.glob_tokens(population), excluded, tokens) is met


@settings(max_examples=300, deadline=None)
@given(patterns, excluded_words, st.lists(patterns, min_size=1, max_size=2), st.booleans())
def test_population_outcomes_agree_with_the_words_they_stand_for(population, excluded, tests, negated):
    """Every word the brute force finds in the population bounds what evaluate may answer."""
    operator = "StringNotLike" if negated else "StringLike"
    outcome = value_of({operator: {"k": tests}}, {"k": Matching(population, frozenset(excluded))})
    words = [w for w in WORDS if reference_match(population, w) and w not in excluded]
    results = {any(reference_match(t, w) for t in tests) != negated for w in words}
    if True in results:
        assert outcome is not False
    if False in results:
        assert outcome is not True


def test_a_test_splits_a_present_value_into_the_requests_it_matches_and_the_others():
    inside, outside = split_by_test("IpAddress", "198.51.100.0/24", {})
    for operator, on_inside in (("IpAddress", True), ("NotIpAddress", False), ("NotIpAddressIfExists", False)):
        condition = {operator: {"aws:SourceIp": "198.51.100.0/24"}}
        assert evaluate(condition, {"aws:sourceip": inside}).value is on_inside
        assert evaluate(condition, {"aws:sourceip": outside}).value is (not on_inside)
    # another range, a qualified operator: the split says nothing about them; Null: present
    assert evaluate({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:sourceip": inside}).value is None
    assert evaluate({"ForAnyValue:IpAddress": {"aws:SourceIp": "198.51.100.0/24"}},
                    {"aws:sourceip": inside}).value is None
    assert evaluate({"Null": {"aws:SourceIp": "false"}}, {"aws:sourceip": outside}).value is True
    # no split on a value the template does not determine, nor on Null or a set operator
    assert split_by_test("StringEquals", "${aws:username}", {}) is None
    assert split_by_test("Null", "true", {}) is None
    assert split_by_test("ForAllValues:StringEquals", "a", {}) is None
