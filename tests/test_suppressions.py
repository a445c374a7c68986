"""Suppressions: kmspolicy's own (reason required) and cfn_nag/checkov equivalents."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kmspolicy.cli.main import main

PUBLIC_KEY = """
Resources:
  Key:
    Type: AWS::KMS::Key
    Metadata:
{metadata}
    Properties:
      KeyPolicy:
        Statement:
          - Effect: Allow
            Principal: {{AWS: !Sub 'arn:aws:iam::${{AWS::AccountId}}:role/cfn-deployer'}}
            Action: [kms:PutKeyPolicy]
            Resource: '*'
          - Effect: Allow
            Principal: '*'
            Action: kms:Decrypt
            Resource: '*'
"""


def evaluate(tmp_path, metadata):
    path = tmp_path / "t.yaml"
    path.write_text(PUBLIC_KEY.format(metadata=metadata))
    config = tmp_path / "c.yaml"
    config.write_text("deployers: ['arn:aws:iam::*:role/cfn-deployer']\nrequire_rotation: false\n")
    result = CliRunner().invoke(main, ["eval", "--format", "json", "-c", str(config), str(path)])
    return result.exit_code, json.loads(result.output)


def test_unsuppressed_public_key_fails(tmp_path):
    code, doc = evaluate(tmp_path, "      {}")
    assert code == 1 and [f["rule"] for f in doc["findings"]] == ["KP005"]
    assert doc["findings"][0]["suppressed"] is False


def test_kmspolicy_suppression_keeps_the_finding_but_passes(tmp_path):
    code, doc = evaluate(tmp_path, "      kmspolicy:\n        suppress:\n"
                                   "          - {rule: KP005, reason: shared with every account on purpose}")
    assert code == 0
    finding = doc["findings"][0]
    assert (finding["rule"], finding["suppressed"], finding["suppression_reason"]) == (
        "KP005", True, "shared with every account on purpose")
    assert doc["summary"]["suppressed"] == 1 and doc["summary"]["findings"] == 0


def test_suppression_without_reason_is_an_error_on_its_line(tmp_path):
    code, doc = evaluate(tmp_path, "      kmspolicy:\n        suppress:\n          - rule: KP005")
    assert code == 2
    assert [e["line"] for e in doc["errors"]] == [8]
    assert "reason" in doc["errors"][0]["message"]


def test_cfn_nag_f76_suppresses_kp005(tmp_path):
    code, doc = evaluate(tmp_path, "      cfn_nag:\n        rules_to_suppress:\n"
                                   "          - {id: F76, reason: public on purpose}")
    assert code == 0 and doc["findings"][0]["suppression_reason"] == "public on purpose"


def test_checkov_skip_suppresses_kp005(tmp_path):
    code, doc = evaluate(tmp_path, "      checkov:\n        skip:\n          - id: CKV_AWS_33")
    assert code == 0 and doc["findings"][0]["suppression_reason"] == "suppressed as checkov CKV_AWS_33"


def test_unrelated_ecosystem_ids_do_not_suppress(tmp_path):
    code, doc = evaluate(tmp_path, "      cfn_nag:\n        rules_to_suppress:\n          - {id: W12, reason: x}")
    assert code == 1 and doc["findings"][0]["suppressed"] is False


def test_malformed_intent_block_is_an_error(tmp_path):
    code, doc = evaluate(tmp_path, "      kmspolicy:\n        admins: [Nope]\n        root: sometimes")
    assert code == 2
    assert any("sometimes" in e["message"] and e["line"] == 8 for e in doc["errors"])


WILDCARD_IDENTITY = """
Resources:
  Worker:
    Type: AWS::IAM::Role
    Metadata:
{identity_metadata}
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {{Effect: Allow, Principal: {{Service: lambda.amazonaws.com}}, Action: sts:AssumeRole}}
      Policies:
        - PolicyName: kms
          PolicyDocument:
            Statement:
              - {{Effect: Allow, Action: kms:Decrypt, Resource: '*'}}
  Key:
    Type: AWS::KMS::Key
    Metadata:
{key_metadata}
    Properties:
      EnableKeyRotation: true
      KeyPolicy:
        Statement:
          - Effect: Allow
            Principal: {{AWS: !Sub 'arn:aws:iam::${{AWS::AccountId}}:root'}}
            Action: kms:*
            Resource: '*'
"""


def kp013(tmp_path, identity_metadata="      {}", key_metadata="      {}"):
    path = tmp_path / "t.yaml"
    path.write_text(WILDCARD_IDENTITY.format(identity_metadata=identity_metadata, key_metadata=key_metadata))
    result = CliRunner().invoke(main, ["eval", "--format", "json", str(path)])
    doc = json.loads(result.output)
    return doc, next(f for f in doc["findings"] if f["rule"] == "KP013")


SUPPRESS_KP013 = "      kmspolicy:\n        suppress:\n          - {rule: KP013, reason: reads every key on purpose}"


def test_kp013_is_on_the_identity_and_unsuppressed_by_default(tmp_path):
    _, finding = kp013(tmp_path)
    assert (finding["resource"], finding["suppressed"]) == ("Worker", False)


def test_kp013_suppressed_on_the_identity(tmp_path):
    _, finding = kp013(tmp_path, identity_metadata=SUPPRESS_KP013)
    assert finding["suppressed"] and finding["suppression_reason"] == "reads every key on purpose"


def test_kp013_suppressed_on_every_key_it_names(tmp_path):
    _, finding = kp013(tmp_path, key_metadata=SUPPRESS_KP013)
    assert finding["suppressed"] and finding["suppression_reason"] == "reads every key on purpose"


def test_identity_suppression_without_reason_is_an_error(tmp_path):
    doc, finding = kp013(tmp_path, identity_metadata="      kmspolicy:\n        suppress:\n          - rule: KP013")
    assert not finding["suppressed"]
    assert any("reason" in e["message"] and e["line"] == 8 for e in doc["errors"])
