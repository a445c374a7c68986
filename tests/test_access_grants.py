"""What a principal can give itself through kms:CreateGrant: a grant carries a set of
operations and kms:GrantOperations is tested on the whole set (IAM: ForAnyValue is true
when one value of the set matches, ForAllValues when every value does)."""

from __future__ import annotations

import json

import pytest

from kmspolicy.bridge.access.report import AccessAnalyzer

TEMPLATE = """Resources:
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {{}}
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Statement:
          - Effect: Allow
            Principal: {{AWS: !GetAtt AppRole.Arn}}
            Action: kms:CreateGrant
            Resource: '*'
            Condition: {condition}
"""


def reachable_use(tmp_path, condition: dict) -> set[str]:
    path = tmp_path / "t.yaml"
    path.write_text(TEMPLATE.format(condition=json.dumps(condition)))
    report = AccessAnalyzer().report(str(path)).to_json()
    [key] = report["keys"]
    [subject] = [s for s in key["subjects"] if s["id"] == "identity:AppRole"]
    cell = subject["cells"]["use"]
    return set(cell["actions"]) if cell["verdict"] == "reachable" else set()


SYMMETRIC_USE = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyPair",
                 "kms:GenerateDataKeyPairWithoutPlaintext", "kms:GenerateDataKeyWithoutPlaintext",
                 "kms:ReEncryptFrom", "kms:ReEncryptTo"}


@pytest.mark.parametrize("condition, expected", [
    # one matching operation admits every other one beside it
    ({"ForAnyValue:StringEquals": {"kms:GrantOperations": ["Decrypt"]}}, SYMMETRIC_USE),
    # every operation must be listed: only those
    ({"ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt", "Encrypt"]}},
     {"kms:Decrypt", "kms:Encrypt"}),
    # both: Encrypt only beside Decrypt
    ({"ForAnyValue:StringEquals": {"kms:GrantOperations": ["Decrypt"]},
      "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt", "Encrypt"]}},
     {"kms:Decrypt", "kms:Encrypt"}),
    # no grant may carry Decrypt: everything else
    ({"ForAllValues:StringNotEquals": {"kms:GrantOperations": ["Decrypt"]}}, SYMMETRIC_USE - {"kms:Decrypt"}),
])
def test_a_grant_carries_what_its_whole_set_of_operations_passes(tmp_path, condition, expected):
    assert reachable_use(tmp_path, condition) == expected
