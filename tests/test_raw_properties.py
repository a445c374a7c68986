"""The raw properties in the input (`raw` on keys and identities, bridge/raw_properties.py)
and the worked guardrail pack that reads them (examples/org-guardrails-raw)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kmspolicy.bridge import schema
from kmspolicy.bridge.load import load_text
from kmspolicy.bridge.normalize import normalize
from kmspolicy.cli.main import main

from .conftest import ROOT

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Env: {Type: String}
  Team: {Type: String, Default: payments}
Conditions:
  Prod: !Equals [!Ref Env, prod]
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      Description: !Sub '${Team} data key'
      Tags:
        - {Key: team, Value: !Ref Team}
        - {Key: env, Value: !Ref Env}
  Bare:
    Type: AWS::KMS::Key
  Listed:
    Type: AWS::KMS::Key
    Properties:
      Description: !If [Prod, production key, test key]
      Tags: !If [Prod, [{Key: a, Value: b}], []]
  KeyAlias:
    Type: AWS::KMS::Alias
    Properties: {AliasName: alias/payments, TargetKeyId: !Ref Key}
  EnvAlias:
    Type: AWS::KMS::Alias
    Properties: {AliasName: !Sub 'alias/${Env}', TargetKeyId: !GetAtt Key.Arn}
  Admin:
    Type: AWS::IAM::Role
    Properties: {RoleName: key-admin, Path: /platform/, AssumeRolePolicyDocument: {}}
  Operator:
    Type: AWS::IAM::User
    Properties: {UserName: !Ref Env}
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Handler: x, Runtime: python3.12, CodeUri: ., RolePath: /apps/}
"""


def raw_input(**params):
    doc = normalize(load_text(TEMPLATE, "t.yaml").document, "t.yaml", params).input
    schema.validate(doc, "input-v2")
    return doc


def test_key_raw_properties_resolve_what_the_template_determines():
    keys = raw_input()["keys"]
    assert keys["Key"]["raw"] == {
        "logical_id": "Key", "type": "AWS::KMS::Key", "description": "payments data key",
        "tags": [{"key": "team", "value": "payments"}, {"key": "env", "value": {"unknown": "${Env}"}}],
        "aliases": [{"id": "KeyAlias", "name": "alias/payments"},
                    {"id": "EnvAlias", "name": {"unknown": "alias/${Env}"}}]}
    assert keys["Bare"]["raw"] == {"logical_id": "Bare", "type": "AWS::KMS::Key", "description": None,
                                   "tags": [], "aliases": []}


def test_a_parameter_value_resolves_and_a_condition_left_open_is_unknown():
    keys = raw_input(Env="prod")["keys"]
    assert keys["Key"]["raw"]["tags"][1] == {"key": "env", "value": "prod"}
    assert keys["Key"]["raw"]["aliases"][1]["name"] == "alias/prod"
    listed = raw_input()["keys"]["Listed"]["raw"]
    assert listed["description"] == {"unknown": "production key | test key"}
    assert listed["tags"] == {"unknown": "Tags built by an intrinsic function"}


def test_identity_raw_properties():
    identities = raw_input()["identities"]
    assert identities["Admin"]["raw"] == {"logical_id": "Admin", "type": "AWS::IAM::Role",
                                          "name": "key-admin", "path": "/platform/"}
    assert identities["Operator"]["raw"] == {"logical_id": "Operator", "type": "AWS::IAM::User",
                                             "name": {"unknown": "${Env}"}, "path": "/"}
    assert identities["FnRole"]["raw"] == {"logical_id": "FnRole", "type": "AWS::IAM::Role",
                                           "name": None, "path": "/apps/"}


def test_the_guardrail_pack_cases_pass(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["test", "examples/org-guardrails-raw/policies"])
    assert result.exit_code == 0, result.output
    assert "PASS: 10/10" in result.output


def test_the_guardrail_pack_reports_on_the_template(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["eval", "-f", "json", "--bundle", "examples/org-guardrails-raw/policies",
                                       "examples/org-guardrails-raw/template.yaml"])
    findings = [(f["rule"], f["resource"]) for f in json.loads(result.output)["findings"]
                if f["rule"].startswith("ORG")]
    assert findings == [("ORG101", "LegacyKey"), ("ORG102", "LegacyKey"), ("ORG102", "LegacyKey")]
