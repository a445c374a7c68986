"""The Rego rule tests: every case on the embedded engine, every test rule on real OPA."""

from __future__ import annotations

import pytest

from kmspolicy.bridge.regotest import run_cases
from kmspolicy.bridge.rules import builtin_policy_dir, read_policy_dir

from .conftest import require_in_ci

MODULES = {f"kmspolicy/{name}": source for name, source in
           read_policy_dir(builtin_policy_dir() / "kmspolicy", include_tests=True).items()}
DATA = {"kmspolicy": {"config": {}}}
CASES = run_cases(MODULES, DATA)


def test_every_rule_has_cases():
    rule_files = {n for n in MODULES if n.startswith("kmspolicy/rules/") and not n.endswith("_test.rego")}
    tested = {c.file.replace("_test.rego", ".rego") for c in CASES}
    assert rule_files <= tested, f"rules without cases: {sorted(rule_files - tested)}"
    for rule in rule_files:
        names = [c.name for c in CASES if c.file == rule.replace(".rego", "_test.rego")]
        assert any(n.startswith("fail_") for n in names) and any(n.startswith("success_") for n in names), rule


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case_on_embedded_engine(case):
    assert case.passed, case.message


def test_every_case_passes_on_real_opa():
    require_in_ci("opa_bindings")
    results = run_cases(MODULES, DATA, engine="opa")
    assert {r.id for r in results} == {c.id for c in CASES}
    failed = [f"{r.id}: {r.message}" for r in results if not r.passed]
    assert failed == []
