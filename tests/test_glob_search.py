"""The glob search on bit-set states (bridge/condition_glob.py) finds the very witness the
frozenset search it replaced found (tests/glob_reference.py), on random patterns of every
token kind: globs, ARN components, caseless literals, excluded words and globs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kmspolicy.bridge import condition_glob as glob
from tests import glob_reference as reference

globs = st.text(alphabet="ab:*?", max_size=6)
words = st.text(alphabet="ab:", max_size=4)


@st.composite
def patterns(draw):
    text = draw(globs)
    kind = draw(st.sampled_from(["glob", "literal", "arn", "caseless", "nothing"]))
    if kind == "literal":
        return glob.literal_tokens(text)
    if kind == "arn":
        return glob.arn_tokens([glob.glob_tokens(c) for c in text.split(":", 5)])
    if kind == "caseless":
        return glob.caseless_tokens(glob.literal_tokens(text.replace("a", "A")))
    if kind == "nothing":
        return glob.glob_tokens(text) + glob.NOTHING
    return glob.glob_tokens(text)


@settings(max_examples=1500, deadline=None)
@given(patterns(), st.lists(words, max_size=2), st.lists(globs, max_size=2),
       st.lists(patterns(), max_size=3), st.booleans())
def test_the_search_finds_the_reference_witness(population, excluded, excluded_globs, tests, inside):
    args = (population, tuple(excluded), tuple(excluded_globs), tuple(tests), inside)
    assert glob._search.__wrapped__(*args) == reference.search(*args)


@settings(max_examples=500, deadline=None)
@given(patterns(), patterns())
def test_meeting_agrees_with_the_reference(population, pattern):
    assert glob._meets.__wrapped__(population, pattern) == (reference.meets(population, pattern) is not None)


@settings(max_examples=1500, deadline=None)
@given(patterns(), st.text(alphabet="aAb:c", max_size=8))
def test_matching_agrees_with_the_reference(pattern, word):
    assert glob.matches(pattern, word) == reference.matches(pattern, word)


def test_a_long_witness_behind_a_star_is_the_reference_one():
    population = glob.glob_tokens("*")
    tests = (glob.glob_tokens("arn:aws:logs:stack-region:000000000000:*"),
             glob.glob_tokens("ec2.*.amazonaws.com"), glob.glob_tokens("dynamodb.*.amazonaws.com"))
    for excluded_globs in ((), ("*000000000000*",)):
        for inside in (True, False):
            args = (population, (), excluded_globs, tests, inside)
            assert glob._search.__wrapped__(*args) == reference.search(*args)
    assert glob._search.__wrapped__(population, (), (), tests, True) == "ec2..amazonaws.com"
