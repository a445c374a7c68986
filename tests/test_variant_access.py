"""Variants of a template with the same input get the access model's answers computed once."""

from __future__ import annotations

import json

from kmspolicy.bridge import normalize as normalize_module
from kmspolicy.bridge.load import load_text
from kmspolicy.bridge.normalize import normalize
from kmspolicy.bridge.scenarios import plan

TEMPLATE = """
Parameters:
  Env: {Type: String, AllowedValues: [dev, prod]}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Condition: IsProd
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
      ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Statement:
          - {Effect: Allow, Principal: {AWS: !GetAtt Role.Arn}, Action: kms:Decrypt, Resource: '*',
             Condition: {StringEquals: {aws:SourceAccount: !Ref AWS::AccountId}}}
"""


def _variants(document):
    return [normalize(document, "t.yaml", {}, scenario=s) for s in plan(document).scenarios]


def test_a_variant_with_a_seen_input_gets_a_copy_of_its_answers(monkeypatch):
    document = load_text(TEMPLATE, "t.yaml").document
    normalize_module._access_kept.clear()
    computed = []
    with_access = normalize_module.with_access
    monkeypatch.setattr(normalize_module, "with_access",
                        lambda *args, **kwargs: computed.append(1) or with_access(*args, **kwargs))
    first, second = _variants(document)
    assert len(computed) == 1
    assert first.input["keys"]["Key"]["access"]
    assert json.dumps(second.input) == json.dumps(first.input)
    assert second.problems == first.problems

    second.input["keys"]["Key"]["access"].clear()
    third = _variants(document)[1]
    assert json.dumps(third.input) == json.dumps(first.input)


def test_answers_copied_are_the_answers_computed(monkeypatch):
    document = load_text(TEMPLATE, "t.yaml").document
    normalize_module._access_kept.clear()
    copied = [json.dumps(v.input) for v in _variants(document)]
    monkeypatch.setattr(normalize_module, "_with_access_once", normalize_module.with_access)
    computed = [json.dumps(v.input) for v in _variants(document)]
    assert copied == computed


def test_answers_that_json_would_change_are_not_kept(monkeypatch):
    document = load_text(TEMPLATE, "t.yaml").document
    normalize_module._access_kept.clear()
    with_access = normalize_module.with_access

    def with_a_tuple(normalized, config=None, keep_conditions=False):
        result = with_access(normalized, config, keep_conditions)
        result.input["keys"]["Key"]["supported"] = ("a", "tuple")
        return result
    monkeypatch.setattr(normalize_module, "with_access", with_a_tuple)
    assert [v.input["keys"]["Key"]["supported"] for v in _variants(document)] == [("a", "tuple")] * 2
    assert not normalize_module._access_kept


def test_chosen_forms_are_kept_for_one_template_at_a_time():
    """A scan of many templates keeps the chosen resources of the one it reads, not of all
    before it (memory flat)."""
    from kmspolicy.bridge import variant

    def template(name: str) -> dict:
        return {"Conditions": {"C": {"Fn::Equals": [{"Ref": "P"}, "x"]}},
                "Resources": {name: {"Type": "AWS::SNS::Topic",
                                     "Properties": {"TopicName": {"Fn::If": ["C", "a", "b"]}}}}}

    first, second = template("First"), template("Second")
    for truth in ({"C": True}, {"C": False}):
        variant.choose(first, truth)
    assert {rid for _, rid in variant._kept} == {"First"}
    chosen, _ = variant.choose(second, {"C": True})
    assert {rid for _, rid in variant._kept} == {"Second"}
    assert chosen["Resources"]["Second"]["Properties"]["TopicName"] == "a"
