"""What `kmspolicy fix` writes passes cfn-lint: no error or warning the original did not
have, in particular no circular dependency (E3004). cfn-lint lives in a venv of its own
(`make cfn-lint-deps`); CI installs it, elsewhere the test is skipped without it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmspolicy.cli.main import main
from tests.test_fix import CASES, CONFIG, PROVEN

ROOT = Path(__file__).resolve().parents[1]


def _cfn_lint() -> str | None:
    for candidate in (os.environ.get("KMSPOLICY_CFN_LINT"), str(ROOT / ".cfn-lint-venv/bin/cfn-lint"),
                      str(ROOT / ".bench-venv/bin/cfn-lint"), shutil.which("cfn-lint")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="module")
def cfn_lint() -> str:
    found = _cfn_lint()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("cfn-lint is not installed under CI (make cfn-lint-deps)")
        pytest.skip("cfn-lint not installed (make cfn-lint-deps)")
    return found


def _problems(cfn_lint: str, template: Path) -> set[tuple[str, str]]:
    """(rule, message) of every problem cfn-lint reports; line numbers move with the patch."""
    out = subprocess.run([cfn_lint, "--format", "json", str(template)], capture_output=True, text=True,
                         check=False, timeout=600)
    assert out.returncode in (0, 2, 4, 6, 8, 10, 12, 14), out.stderr  # bit 1: an internal error
    return {(m["Rule"]["Id"], m["Message"]) for m in json.loads(out.stdout or "[]")}


def test_cfn_lint_sees_a_circular_dependency(cfn_lint, tmp_path):
    """The check below can fail: cfn-lint reports a cycle between a key and a role."""
    cycle = {"Resources": {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": {"Fn::GetAtt": ["Role", "Arn"]}}, "Action": "kms:*",
             "Resource": "*"}]}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "use", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": {"Fn::GetAtt": ["Key", "Arn"]}}]}}]}}}}
    target = tmp_path / "cycle.json"
    target.write_text(json.dumps(cycle), encoding="utf-8")
    assert "E3004" in {rule for rule, _ in _problems(cfn_lint, target)}


@pytest.mark.parametrize("name", sorted(PROVEN))
def test_a_patched_template_adds_no_cfn_lint_problem(cfn_lint, tmp_path, name, monkeypatch):
    monkeypatch.chdir(ROOT)
    template, extra, _ = CASES[name]
    original = ROOT / template
    patched = tmp_path / original.name
    shutil.copy(original, patched)
    result = CliRunner().invoke(main, ["fix", "-c", CONFIG, str(patched), *extra, "--write"])
    assert result.exit_code == 0, result.output
    assert patched.read_text(encoding="utf-8") != original.read_text(encoding="utf-8")
    assert _problems(cfn_lint, patched) - _problems(cfn_lint, original) == set()
