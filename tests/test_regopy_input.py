"""regopy given the input as a value (regopy_input.StoredInput) stores the document it
stores from the JSON text (embedded.json_term): the same strings, escapes and all, and
the same object order, so every query answers the same."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import regopy

from kmspolicy.bridge.engines.embedded import input_term
from kmspolicy.bridge.engines.regopy_input import StoredInput

DOCUMENTS = [
    {"s": "plain", "n": 35184372088831, "f": 1.5, "t": True, "z": None, "l": [3, 1, 2]},
    {"s": 'a "quoted" word', "b": "back\\slash", "nl": "line\nbreak\ttab", "c": "\x00\x1f"},
    {"s": "é, ü, 漢字 and 🙂", "k": {"zeta": 1, "alpha": 2, "Émile": 3, "a\"b": 4, "a b": 5}},
    {"keys": {"Key\\1": {"path": "/Resources/Key~1\\x", "sid": "it's \"x\""}}, "empty": {}, "none": []},
]
QUERIES = [
    "input",
    "[k | some k, _ in input]",
    "[k | some k, _ in object.get(input, \"k\", {})]",
    "{k: count(v) | some k, v in input; is_string(v)}",
    "[v | some v in input; is_string(v)]",
    "input.s == \"a \\\"quoted\\\" word\"",
    "[x | some x in object.get(input, \"l\", [])]",
    "{k: v | some k, v in input; is_string(v); v < \"m\"}",
    "format_int(object.get(input, \"n\", 0), 10)",
    "sum([v | some v in object.get(input, \"l\", [])])",
    "sort([v | some v in input; is_string(v)])",
    "object.union(object.get(input, \"k\", {}), {\"alpha\": 9})",
    "object.remove(input, [\"s\"])",
    "object.keys(input)",
    "[v | some v in input; is_string(v); regex.match(`^[a-z ]+$`, v)]",
    "[v | some v in input; is_string(v); glob.match(\"p*\", [], v)]",
    "[v | some v in input; is_string(v); startswith(v, \"a\")]",
    "[v | some v in input; is_string(v); endswith(v, \"d\")]",
    "[v | some v in input; is_string(v); contains(v, \" \")]",
    "[trim_prefix(v, \"a\") | some v in input; is_string(v)]",
    "[trim_suffix(v, \"n\") | some v in input; is_string(v)]",
    "concat(\"|\", [v | some v in input; is_string(v)])",
    "[is_number(v) | some v in input]",
    "[is_array(v) | some v in input]",
    "numbers.range(0, count(object.get(input, \"l\", [])))",
    "bits.and(object.get(input, \"n\", 0), 12)",
    "bits.or(object.get(input, \"n\", 0), 12)",
    "object.get(input, \"n\", 0) == 35184372088831",
    "object.get(input, \"f\", 0) < 2",
    "{v | some v in input; is_string(v)} | {\"plain\"}",
    "object.get(input, \"s\", \"\") in {\"plain\"}",
    "object.get({\"plain\": 1}, object.get(input, \"s\", \"\"), 0)",
    "object.union_n([object.get(input, \"k\", {}), {\"x\": 1}])",
    "[v | some v in input; v == null]",
    "[v | some v in input; v == true]",
    "bits.xor(object.get(input, \"n\", 0), 12)",
    "bits.rsh(object.get(input, \"n\", 0), 4)",
    "array.concat(object.get(input, \"l\", []), [v | some v in input; is_string(v)])",
    "union({{v | some v in input; is_string(v)}, set()})",
]


def _answers(set_input) -> list:
    rego = regopy.Interpreter()
    set_input(rego)
    out = []
    for query in QUERIES:
        try:
            out.append(str(rego.query(query)))
        except (regopy.RegoError, ValueError) as exc:
            out.append(f"error: {exc}")
    return out


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_value_and_the_text_give_the_same_answers(document):
    by_text = _answers(lambda rego: rego.set_input_term(input_term(document)))
    by_value = _answers(lambda rego: rego.set_input(StoredInput(document).input))
    assert by_value == by_text


class _Label(str):
    pass


def test_subclasses_and_tuples_are_given_as_their_json_kind():
    document = {"s": _Label("plain"), "t": ("a", 2), "o": OrderedDict([("b", 1), ("a", 2)]), _Label("k"): True}
    expected = {"s": "plain", "t": ["a", 2], "o": {"a": 2, "b": 1}, "k": True}
    by_text = _answers(lambda rego: rego.set_input_term(input_term(expected)))
    assert _answers(lambda rego: rego.set_input(StoredInput(document).input)) == by_text


def test_a_value_json_cannot_write_is_refused():
    with pytest.raises(ValueError, match="cannot give regopy a object as input"):
        StoredInput({"x": object()})


def test_plain_tells_whether_a_string_is_stored_escaped_or_beyond_ascii():
    assert StoredInput(DOCUMENTS[0]).plain
    assert not StoredInput(DOCUMENTS[1]).plain
    assert not StoredInput(DOCUMENTS[2]).plain
    assert not StoredInput({"k": {"a\"b": 1}}).plain
    assert not StoredInput(["x", {"y": ["\u00e9"]}]).plain


def test_json_marshal_differs_so_packs_get_the_text():
    """Why only the built-in rules (which never call it) are given the input as a value."""
    document = DOCUMENTS[0]
    text, value = regopy.Interpreter(), regopy.Interpreter()
    text.set_input_term(input_term(document))
    value.set_input(StoredInput(document).input)
    assert "plain" in str(text.query("json.marshal(input)"))
    assert str(value.query("json.marshal(input)")) != str(text.query("json.marshal(input)"))


def test_the_value_is_handed_over_with_the_builtin_rules_alone():
    from kmspolicy.bridge.bundle import load_bundle, policy_set
    from kmspolicy.bridge.pipeline import PolicySet, make_engine

    from .conftest import EXAMPLES

    assert make_engine(PolicySet.builtin())._input_as_value
    assert not make_engine(policy_set([load_bundle(str(EXAMPLES / "org-bundle" / "policies"))]))._input_as_value


def test_every_builtin_the_builtin_rules_call_is_among_those_compared():
    from kmspolicy.bridge.rego_scan import scan
    from kmspolicy.bridge.rules import builtin_modules

    modules = builtin_modules()
    scans = [scan(source) for source in modules.values()]
    defined = set().union(*(s.local_functions() for s in scans))
    imported = set().union(*(s.import_aliases() for s in scans))
    called = {name for s in scans for name, _, _ in s.calls()
              if name not in defined and name.split(".")[0] not in imported}
    compared = {name for query in QUERIES for name, _, _ in scan(query).calls()}
    assert called, "no builtin call found: the scan is broken"
    assert called - compared == set()
