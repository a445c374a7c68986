"""The input as the engine is given it (engine_input.py): with the built-in rules alone the
names derived from action masks are left out, and the built-in rules find the same on it;
a rule pack gets the whole input."""

from __future__ import annotations

import json

import pytest

from kmspolicy.bridge.bundle import load_bundle, policy_set
from kmspolicy.bridge.engine_input import DERIVED_PATTERN_FIELDS, DERIVED_STATEMENT_FIELDS, for_builtin_rules
from kmspolicy.bridge.pipeline import Analyzer, PolicySet, make_engine

from .conftest import EXAMPLES, corpus_templates, example_templates


class RecordingEngine:
    def __init__(self, engine):
        self.engine = engine
        self.inputs: list[dict] = []

    def findings(self, input_doc: dict):
        self.inputs.append(input_doc)
        return self.engine.findings(input_doc)


def _statements(input_doc: dict) -> list[dict]:
    out = [st for key in input_doc["keys"].values() for st in key["statements"]]
    for identity in input_doc["identities"].values():
        out += identity["statements"] + ((identity.get("boundary") or {}).get("statements") or [])
    return out


def _derived_fields(input_doc: dict) -> set[str]:
    found = set()
    for st in _statements(input_doc):
        found |= {f for f in DERIVED_STATEMENT_FIELDS if f in st}
        found |= {f"pattern {f}" for p in st.get("patterns", []) for f in DERIVED_PATTERN_FIELDS if f in p}
    return found


@pytest.fixture(scope="module")
def docs(analyzer) -> list[dict]:
    reports = [analyzer.analyze(str(path)) for path in example_templates() + corpus_templates()]
    return [report.input for report in reports if report.input and report.input["keys"]]


def test_the_builtin_rules_find_the_same_without_the_derived_names(docs):
    engine = make_engine(PolicySet.builtin())
    with_identities = 0
    for doc in docs:
        trimmed = for_builtin_rules(doc)
        assert not _derived_fields(trimmed)
        expected = sorted(map(json.dumps, engine.findings(doc)))
        assert sorted(map(json.dumps, engine.findings(trimmed))) == expected, doc["file"]
        with_identities += bool(doc["identities"])
    assert with_identities > 5


def test_the_whole_input_is_kept_beside_it(docs):
    doc = next(d for d in docs if d["identities"])
    before = json.dumps(doc, sort_keys=True)
    for_builtin_rules(doc)
    assert json.dumps(doc, sort_keys=True) == before
    assert _derived_fields(doc) >= {"actions", "classes", "pattern actions"}


def test_the_engine_gets_the_trimmed_input_with_the_builtin_rules_alone():
    policies = PolicySet.builtin()
    engine = RecordingEngine(make_engine(policies))
    Analyzer(policies, engine).analyze(str(EXAMPLES / "seed" / "template.yaml"))
    assert engine.inputs and not any(_derived_fields(i) for i in engine.inputs)


def test_a_pack_gets_the_whole_input():
    policies = policy_set([load_bundle(str(EXAMPLES / "org-bundle" / "policies"))])
    assert not policies.builtin_only
    engine = RecordingEngine(make_engine(policies))
    Analyzer(policies, engine).analyze(str(EXAMPLES / "seed" / "template.yaml"))
    assert engine.inputs and all("actions" in _derived_fields(i) for i in engine.inputs)
