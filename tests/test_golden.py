"""Every example template against its expected findings (rule, line, column) and exit code."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kmspolicy.bridge import schema
from kmspolicy.cli.main import main

from .conftest import ROOT, example_templates

EXAMPLES = example_templates()


def run_json(path, *args):
    result = CliRunner().invoke(main, ["eval", "--format", "json", *args, str(path.relative_to(ROOT))])
    return result.exit_code, json.loads(result.output)


@pytest.fixture(autouse=True)
def in_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_examples_exist():
    assert len(EXAMPLES) >= 20


def test_every_rule_has_a_golden_example():
    from kmspolicy.cli.rules_cmd import catalog

    shown = set()
    for template in EXAMPLES:
        shown |= {f["rule"] for f in json.loads((template.parent / "expected.json").read_text())["findings"]}
    assert {r.id for r in catalog()} <= shown


@pytest.mark.parametrize("template", EXAMPLES, ids=lambda p: str(p.parent.relative_to(ROOT / "examples")))
def test_example_matches_expected(template):
    expected = json.loads((template.parent / "expected.json").read_text())
    code, doc = run_json(template, *expected.get("args", []))
    schema.validate(doc, "output-v1")
    got = [{"rule": f["rule"], "line": f["line"], "column": f["column"]} for f in doc["findings"]]
    assert got == [{k: f[k] for k in ("rule", "line", "column")} for f in expected["findings"]]
    # optional: a part of the message (the scenario a finding holds in), errors, notes
    for want, found in zip(expected["findings"], doc["findings"], strict=True):
        assert want.get("contains", "") in found["message"]
    errors = [{"line": e["line"], "column": e["column"]} for e in doc["errors"]]
    assert errors == [{k: e[k] for k in ("line", "column")} for e in expected.get("errors", [])]
    for want, found in zip(expected.get("errors", []), doc["errors"], strict=True):
        assert want["contains"] in found["message"]
    notes = [n for f in doc["files"] for n in f.get("notes", [])]
    assert len(notes) == len(expected.get("notes", []))
    assert all(want in note for want, note in zip(expected.get("notes", []), notes, strict=True))
    assert code == expected["exit_code"]


def test_seed_story():
    """The seed case: delegation on the AWS: line, stated once with its consequences; one
    KP003 per escalation path; not public."""
    code, doc = run_json(ROOT / "examples/seed/template.yaml")
    found = {(f["rule"], f["line"]) for f in doc["findings"]}
    assert {("KP001", 23), ("KP003", 31), ("KP003", 35)} <= found
    assert not any(f["rule"] in {"KP005", "KP007"} for f in doc["findings"])
    kp001 = next(f for f in doc["findings"] if f["rule"] == "KP001")
    assert "whole account, not the root user" in kp001["message"]
    assert "can use KmsKey" in kp001["message"] and "manage it" in kp001["message"]
    assert kp001["path"] == "/Resources/KmsKey/Properties/KeyPolicy/Statement/0/Principal/AWS"
    messages = {f["line"]: f["message"] for f in doc["findings"] if f["rule"] == "KP003"}
    assert "kms:CreateGrant through kms:Create*" in messages[31]
    assert "kms:PutKeyPolicy through kms:Put*" in messages[35]
    assert code == 1


def test_seed_same_admin_and_user_is_kp002():
    code, doc = run_json(ROOT / "examples/seed/template.yaml", "-p", "KeyAdmin=ops", "-p", "KeyUser=ops")
    kp002 = [f for f in doc["findings"] if f["rule"] == "KP002"]
    assert [(f["line"], f["resource"]) for f in kp002] == [(50, "KmsKey")]


def test_seed_full_catalog_story():
    """KP009 on both IAM users (the functions do not use them), the whole account's use said
    once (by KP001, no KP007 beside it), and no KP008: the functions can encrypt through
    delegation and their SAM policies."""
    _, doc = run_json(ROOT / "examples/seed/template.yaml")
    kp009 = [f for f in doc["findings"] if f["rule"] == "KP009"]
    assert [f["line"] for f in kp009] == [29, 47]
    assert all("(LoginFunction, SignupFunction) get their access elsewhere" in f["message"] for f in kp009)
    assert not any(f["rule"] == "KP007" for f in doc["findings"])
    [kp001] = [f for f in doc["findings"] if f["rule"] == "KP001"]
    assert (kp001["line"], kp001["severity"]) == (23, "medium")
    assert "any IAM role or user in the account whose IAM policy allows it can use KmsKey" in kp001["message"]
    assert not any(f["rule"] == "KP008" for f in doc["findings"])


def test_a_finding_reached_through_a_yaml_alias_names_the_alias(tmp_path):
    """The lines shown are the anchored text, which another resource also shows: the
    finding of the resource that repeats them through `*name` says where it does."""
    template = tmp_path / "t.yaml"
    template.write_text(
        "Resources:\n"
        "  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n"
        "      KeyPolicy:\n        Statement:\n"
        "          - &root\n            Effect: Allow\n"
        "            Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:root'}\n"
        "            Action: kms:*\n            Resource: '*'\n"
        "  Key2:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n"
        "      KeyPolicy:\n        Statement:\n          - *root\n")
    result = CliRunner().invoke(main, ["eval", str(template), "--format", "json"])
    findings = {f["resource"]: f for f in json.loads(result.output)["findings"] if f["rule"] == "KP001"}
    assert findings["Key"]["line"] == findings["Key2"]["line"] == 10
    assert [r for r in findings["Key"]["related"] if "alias" in r["message"]] == []
    [through] = [r for r in findings["Key2"]["related"] if "alias" in r["message"]]
    assert through["line"] == 19 and through["message"] == "Key2 has these lines through the alias *root"
