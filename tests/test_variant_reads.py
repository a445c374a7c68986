"""Variants alike in all the analysis reads are analysed once (bridge/variant_reads.py):
the claim checked against normalizing every variant, on generated templates, the examples
and the shared corpus."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmspolicy.bridge import pipeline as pipeline_module
from kmspolicy.bridge.load import load_template, load_text
from kmspolicy.bridge.normalize import normalize
from kmspolicy.bridge.pipeline import Analyzer, PolicySet
from kmspolicy.bridge.scenarios import plan
from kmspolicy.bridge.template_checks import NESTED_STACK_TYPES
from kmspolicy.bridge.variant_reads import READ_NAMESPACES, VariantReads

from .conftest import CORPUS, EXAMPLES, ROOT
from .test_variant_access import TEMPLATE as TOPIC_ONLY_IN_PROD  # a topic made only in prod

PARAMETERS = {"Env": {"Type": "String", "AllowedValues": ["dev", "prod"]},
              "Team": {"Type": "String", "Default": "core"}}
CONDITIONS = {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
              "IsEu": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]},
              "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "IsEu"}]},
              "IsCore": {"Fn::Equals": [{"Ref": "Team"}, "core"]}}
NO_VALUE = {"Ref": "AWS::NoValue"}
ROOT_ARN = {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}


def _maybe_if(draw, then, otherwise=NO_VALUE):
    """A value, or an Fn::If between it and another."""
    if draw(st.booleans()):
        return then
    return {"Fn::If": [draw(st.sampled_from(sorted(CONDITIONS))), then, otherwise]}


def _statement(action, resource, principal=None):
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    if principal is not None:
        statement["Principal"] = {"AWS": principal}
    return statement


@st.composite
def templates(draw) -> dict:
    """A key among resources the analysis reads (roles, policies, functions, aliases, a
    nested stack) and resources it does not (a bucket, a topic, a queue), each maybe
    conditional, maybe with Fn::Ifs, referring to one another."""
    key_principal = draw(st.sampled_from([
        {"Fn::GetAtt": ["Role", "Arn"]}, {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/${Team}"},
        {"Fn::If": ["IsProd", {"Fn::GetAtt": ["Role", "Arn"]}, ROOT_ARN]}, {"Fn::GetAtt": ["Bucket", "Arn"]}]))
    key = {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": [
        _statement("kms:*", "*", ROOT_ARN),
        _maybe_if(draw, _statement(["kms:Decrypt", "kms:Encrypt"], "*", key_principal))]}}}
    if draw(st.booleans()):
        key["Metadata"] = {"kmspolicy": {"users": [draw(st.sampled_from(["Function", "Role", "Topic"]))]}}
    role_resource = draw(st.sampled_from([{"Fn::GetAtt": ["Key", "Arn"]}, "*", {"Fn::GetAtt": ["Queue", "Arn"]},
                                          {"Fn::Sub": "arn:aws:sns:*:*:${Topic}"}]))
    role_props = {"AssumeRolePolicyDocument": {}, "Policies": [{"PolicyName": "p", "PolicyDocument": {
        "Statement": [_maybe_if(draw, _statement("kms:Decrypt", role_resource))]}}]}
    if draw(st.booleans()):
        role_props["RoleName"] = _maybe_if(draw, {"Ref": "Team"}, "fixed-name")
    pool = {
        "Role": {"Type": "AWS::IAM::Role", "Properties": role_props},
        "Policy": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "extra", "Roles": [draw(st.sampled_from([{"Ref": "Role"}, "core", "fixed-name"]))],
            "PolicyDocument": {"Statement": [_statement("kms:*", {"Fn::GetAtt": ["Key", "Arn"]})]}}},
        "Function": {"Type": "AWS::Lambda::Function", "Properties": {
            "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Runtime": "python3.12", "Handler": "x.h",
            "Environment": {"Variables": {"KEY": _maybe_if(draw, {"Ref": "Key"}, "none")}}}},
        "Alias": {"Type": "AWS::KMS::Alias", "Properties": {"AliasName": "alias/k", "TargetKeyId": {"Ref": "Key"}}},
        "Stack": {"Type": "AWS::CloudFormation::Stack", "Properties": {
            "TemplateURL": "https://example.com/t.yaml",
            "Parameters": {"KeyArn": _maybe_if(draw, {"Fn::GetAtt": ["Key", "Arn"]}, "none")}}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {
            "BucketName": _maybe_if(draw, {"Ref": "Team"}, "bucket"),
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {
                "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Ref": "Key"}}}]}}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {
            "KmsMasterKeyId": _maybe_if(draw, {"Ref": "Key"}), "TopicName": {"Ref": "Team"}}},
        "Queue": {"Type": "AWS::SQS::Queue",
                  "Properties": draw(st.sampled_from([{"QueueName": "q"}, {"Ref": "Team"},
                                                      {"Fn::If": ["IsEu", {"QueueName": "eu"}, {}]}]))},
    }
    resources = {"Key": key}
    for rid in draw(st.lists(st.sampled_from(sorted(pool)), unique=True, max_size=len(pool))):
        resources[rid] = pool[rid]
    for rid in draw(st.lists(st.sampled_from(sorted(resources)), unique=True)):
        resources[rid] = {**resources[rid], "Condition": draw(st.sampled_from(sorted(CONDITIONS)))}
    return {"Parameters": PARAMETERS, "Conditions": CONDITIONS, "Resources": resources}


def _outputs_by_key(document: dict, path: str = "t.yaml") -> tuple[int, dict]:
    """(scenarios, {key: normalized output}); an assertion error where two scenarios with
    one key normalize differently."""
    reads = VariantReads(document)
    seen: dict = {}
    scenarios = plan(document).scenarios
    for scenario in scenarios:
        normalized = normalize(document, path, {}, scenario=scenario)
        output = json.dumps([normalized.input, normalized.problems], sort_keys=True, default=str)
        key = reads.key(scenario)
        assert key is None or seen.setdefault(key, output) == output, \
            f"{scenario} shares its key with another scenario but is normalized differently"
    return len(scenarios), seen


@settings(max_examples=150, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(templates())
def test_scenarios_with_one_key_normalize_alike(document):
    _outputs_by_key(document)


def _conditional_templates() -> list[Path]:
    folders = [EXAMPLES, ROOT / "tests" / "data", CORPUS]
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix not in (".yaml", ".yml", ".json", ".template") or "Conditions" not in path.read_text(
                    errors="replace"):
                continue
            try:
                document = load_template(str(path)).document
            except Exception:  # the bad fixtures: not templates to plan
                continue
            if isinstance(document, dict) and isinstance(document.get("Resources"), dict):
                found.append(path)
    return found


def test_the_examples_and_the_corpus_with_conditions_normalize_alike_per_key():
    paths = _conditional_templates()
    assert len(paths) >= 15, "the examples and the shared corpus hold templates with Conditions"
    scenarios = keys = 0
    for path in paths:
        count, seen = _outputs_by_key(load_template(str(path)).document, str(path))
        scenarios, keys = scenarios + count, keys + len(seen)
    assert keys < scenarios  # some variants are analysed once




def _keys(text: str) -> list:
    document = load_text(text, "t.yaml").document
    reads = VariantReads(document)
    return [reads.key(s) for s in plan(document).scenarios]


def test_a_resource_the_analysis_never_reads_does_not_tell_variants_apart():
    first, second = _keys(TOPIC_ONLY_IN_PROD)
    assert first == second


@pytest.mark.parametrize("change", [
    ("Type: AWS::SNS::Topic", "Type: AWS::IAM::User"),  # an identity
    ("Type: AWS::SNS::Topic", "Type: AWS::SNS::Topic\n    Properties: {Role: x}"),  # a workload
    ("Type: AWS::SNS::Topic", "Type: AWS::CloudFormation::Stack"),  # a nested stack
    ("Type: AWS::SNS::Topic", "Type: AWS::SNS::Topic\n    Properties: !Ref Env"),  # a template error
    ("Type: AWS::SNS::Topic", "Type: AWS::SNS::Topic\n    Properties: {A: {'Fn::Transform': x}}"),  # a macro
    ("Principal: {AWS: !GetAtt Role.Arn}", "Principal: {AWS: !GetAtt Topic.TopicArn}"),  # referred to
    ("Principal: {AWS: !GetAtt Role.Arn}", "Principal: {AWS: !Sub 'arn:aws:iam::1:role/${Topic}'}"),
    ("Type: AWS::KMS::Key", "Type: AWS::KMS::Key\n    Metadata: {kmspolicy: {users: [Topic]}}"),  # named
    ("Resource: '*'", "Resource: !Sub 'arn:${Env}'"),  # a parameter the scenarios fix
])
def test_what_the_analysis_reads_tells_variants_apart(change):
    first, second = _keys(TOPIC_ONLY_IN_PROD.replace(*change))
    assert first != second


def test_a_loop_in_resources_is_not_bounded():
    text = TOPIC_ONLY_IN_PROD.replace("Resources:\n", "Transform: AWS::LanguageExtensions\nResources:\n"
                                      "  Fn::ForEach::Topics: [T, [a], {'Q${T}': {Type: AWS::SQS::Queue}}]\n")
    assert _keys(text) == [None, None]


def test_eval_normalizes_once_for_variants_alike_and_reports_as_before(tmp_path, monkeypatch):
    path = tmp_path / "t.yaml"
    path.write_text(TOPIC_ONLY_IN_PROD)
    calls = []
    real = pipeline_module.normalize
    monkeypatch.setattr(pipeline_module, "normalize", lambda *a, **k: calls.append(1) or real(*a, **k))
    analyzer = Analyzer(PolicySet.builtin())
    shared = analyzer.analyze(str(path))
    assert len(calls) == 1
    monkeypatch.setattr(VariantReads, "key", lambda self, scenario: None)
    alone = analyzer.analyze(str(path))
    assert len(calls) == 3
    assert [f.to_json() for f in shared.findings] == [f.to_json() for f in alone.findings]
    assert shared.findings and shared.errors == alone.errors


def test_every_resource_type_the_bridge_names_is_one_the_analysis_reads():
    """A type the bridge reads outside the read namespaces must be added to variant_reads."""
    named = set()
    for source in (ROOT / "bridge").rglob("*.py"):
        named |= set(re.findall(r'"(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)"', source.read_text()))
    outside = {t for t in named if not t.startswith(READ_NAMESPACES) and t not in NESTED_STACK_TYPES}
    assert outside == set()
