"""The program the embedded engine runs (PolicySet.embedded_program): the entrypoint with
each rule package named and the catalog's table as data give the findings of the policies
as written, and anything else than the shipped entrypoint or catalog runs as written."""

from __future__ import annotations

import json
from random import Random

import pytest

from kmspolicy.bridge.bundle import load_bundle, policy_set
from kmspolicy.bridge.embedded_tables import (
    ACTIONMASK_MODULE,
    CATALOG_MODULE,
    TABLES,
    _numbered_in_name_order,
    names_by_byte,
)
from kmspolicy.bridge.engines.embedded import EmbeddedEngine
from kmspolicy.bridge.explicit_entrypoint import ENTRYPOINT_MODULE
from kmspolicy.bridge.pipeline import PolicySet

from .conftest import EXAMPLES, corpus_templates, example_templates


@pytest.fixture(scope="module")
def docs(analyzer) -> list[dict]:
    reports = [analyzer.analyze(str(path)) for path in example_templates() + corpus_templates()[:20]]
    return [report.input for report in reports if report.input and report.input["keys"]]


def canonical(findings: list[dict]) -> list[str]:
    return sorted(json.dumps(f, sort_keys=True) for f in findings)


def test_the_program_gives_the_findings_of_the_policies_as_written(docs):
    policies = PolicySet.builtin()
    modules, data = policies.embedded_program()
    assert modules[ENTRYPOINT_MODULE] != policies.modules[ENTRYPOINT_MODULE]
    assert modules[CATALOG_MODULE] != policies.modules[CATALOG_MODULE]
    assert data["kmspolicy"][TABLES]["key_action_bits"]["kms:Decrypt"] > 0
    as_written = EmbeddedEngine(policies.modules, policies.data())
    program = EmbeddedEngine(modules, data)
    assert len(docs) > 10
    found = 0
    for doc in docs:
        expected = canonical(as_written.findings(doc))
        assert canonical(program.findings(doc)) == expected, doc["file"]
        found += len(expected)
    assert found > 0


def test_the_catalog_keeps_its_lines():
    """Only the table's own lines change, so errors keep their line numbers."""
    policies = PolicySet.builtin()
    modules, _ = policies.embedded_program()
    written = policies.modules[CATALOG_MODULE].splitlines()
    run = modules[CATALOG_MODULE].splitlines()
    first = written.index("key_action_bits := {")
    last = written.index("}", first)
    assert len(run) == len(written)
    assert run[:first] == written[:first] and run[last + 1:] == written[last + 1:]
    assert run[first] == f"key_action_bits := data.kmspolicy.{TABLES}.key_action_bits"


def test_a_pack_package_is_in_the_entrypoint():
    policies = policy_set([load_bundle(str(EXAMPLES / "org-bundle" / "policies"))])
    modules, _ = policies.embedded_program()
    assert 'data.kmspolicy.rules["acme_deletion_window"].findings' in modules[ENTRYPOINT_MODULE]
    assert 'data.kmspolicy.rules["account_delegation"].findings' in modules[ENTRYPOINT_MODULE]


def test_rule_data_names_are_in_the_entrypoint():
    policies = PolicySet.builtin()
    policies.extra_data = {"kmspolicy": {"rules": {"from_data": {"findings": []}}}}
    modules, _ = policies.embedded_program()
    assert 'data.kmspolicy.rules["from_data"].findings' in modules[ENTRYPOINT_MODULE]


def test_a_replaced_entrypoint_or_catalog_runs_as_written():
    builtin = PolicySet.builtin()
    replaced = dict(builtin.modules)
    replaced[ENTRYPOINT_MODULE] += "\n# changed\n"
    replaced[CATALOG_MODULE] += "\n# changed\n"
    policies = PolicySet(replaced)
    modules, data = policies.embedded_program()
    assert modules[ENTRYPOINT_MODULE] == replaced[ENTRYPOINT_MODULE]
    assert modules[CATALOG_MODULE] == replaced[CATALOG_MODULE]
    assert TABLES not in data["kmspolicy"]


def test_a_replaced_actionmask_module_runs_as_written():
    replaced = dict(PolicySet.builtin().modules)
    replaced[ACTIONMASK_MODULE] += "\n# changed\n"
    modules, data = PolicySet(replaced).embedded_program()
    assert modules[ACTIONMASK_MODULE] == replaced[ACTIONMASK_MODULE]
    assert "names_by_byte" not in data["kmspolicy"][TABLES]


def test_an_unreadable_package_path_keeps_the_entrypoint():
    modules = {**PolicySet.builtin().modules,
               "pack/odd.rego": 'package kmspolicy.rules["odd-name"]\n\nfindings contains 1 if false\n'}
    run, _ = PolicySet(modules).embedded_program()
    assert run[ENTRYPOINT_MODULE] == modules[ENTRYPOINT_MODULE]


def test_the_tables_path_in_use_keeps_the_catalog():
    policies = PolicySet.builtin()
    policies.extra_data = {"kmspolicy": {TABLES: {"mine": 1}}}
    modules, data = policies.embedded_program()
    assert modules[CATALOG_MODULE] == policies.modules[CATALOG_MODULE]
    assert data["kmspolicy"][TABLES] == {"mine": 1}


def test_sorted_names_from_the_table_are_those_of_the_catalog():
    """The table version of actionmask.sorted_names answers as the module as written, for
    every single action, every byte value at every shift, and masks across bytes."""
    policies = PolicySet.builtin()
    modules, data = policies.embedded_program()
    assert modules[ACTIONMASK_MODULE] != policies.modules[ACTIONMASK_MODULE]
    assert len(modules[ACTIONMASK_MODULE].splitlines()) == len(policies.modules[ACTIONMASK_MODULE].splitlines())
    query = "data.kmspolicy.lib.actionmask.sorted_names(input.mask)"
    table = EmbeddedEngine(modules, data, query=query)
    as_written = EmbeddedEngine(policies.modules, policies.data(), query=query)
    bits = data["kmspolicy"][TABLES]["key_action_bits"]
    key_mask = sum(bits.values())
    random = Random(21)
    masks = [*bits.values(), 0, key_mask, key_mask - bits["kms:Decrypt"], key_mask * 2 + 1,
             *(value << shift for shift in range(0, key_mask.bit_length(), 8) for value in range(256)),
             *(random.getrandbits(key_mask.bit_length()) for _ in range(200))]
    for mask in masks:
        expected = as_written.evaluate({"mask": mask})
        assert table.evaluate({"mask": mask}) == expected, mask
        assert expected == sorted(name for name, bit in bits.items() if mask & bit)


def test_names_by_byte_needs_bits_in_name_order():
    assert names_by_byte({"a": 1, "b": 512})[1]["names"][2] == ["b"]
    assert not _numbered_in_name_order({"a": 2, "b": 1})
    assert _numbered_in_name_order({"a": 1, "b": 4})


def test_names_by_byte_holds_the_sorted_names_of_each_byte_value():
    rng = Random(7)
    for _ in range(40):
        bits = {f"n{rng.randint(0, 99)}": rng.getrandbits(rng.randint(1, 44)) or 1 for _ in range(rng.randint(1, 30))}
        for row in names_by_byte(bits):
            for value, names in enumerate(row["names"]):
                assert names == sorted(name for name, bit in bits.items() if (bit >> row["shift"]) & value)
