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


def test_rego_test_rules_pass_on_real_opa():
    opa = require_in_ci("opa_bindings")
    engine = opa.OpaEngine()
    for name, source in MODULES.items():
        engine.add_policy(name, source)
    engine.add_data(DATA)
    packages = sorted({c.package for c in CASES})
    assert packages
    for package in packages:
        assert engine.eval_document(f"{package}.test_cases") is True, package
