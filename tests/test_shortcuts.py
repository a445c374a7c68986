"""Work the bridge skips must not change an answer: templates without a key, glob searches
over character classes, CreateGrant escalation when no condition reads the grant's operations."""

from __future__ import annotations

import itertools
import textwrap

import pytest

from kmspolicy.bridge import catalog, condition_glob
from kmspolicy.bridge.load import load_text
from kmspolicy.bridge.normalize import normalize
from kmspolicy.bridge.template_checks import cannot_define_key


def _analyze(analyzer, tmp_path, text: str):
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(text))
    return analyzer.analyze(str(path))


ROLE = """
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: []}
"""


def test_success_template_without_key_is_analyzed_clean(analyzer, tmp_path):
    report = _analyze(analyzer, tmp_path, "Resources:" + ROLE)
    assert (report.status, report.keys, report.errors, report.findings) == ("analyzed", 0, [], [])


@pytest.mark.parametrize("text, message", [
    ("Transform: AWS::Include\nResources:" + ROLE, "AWS::Include"),
    ("Resources:" + ROLE + """
  Fn::ForEach::Keys:
    - Name
    - !Ref Names
    - Key${Name}:
        Type: AWS::KMS::Key
""", "Fn::ForEach over a collection the template does not determine"),
    ("Resources:" + ROLE + """
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      Fn::Transform: {Name: AWS::Include, Parameters: {Location: s3://b/k.yaml}}
""", "AWS::Include inserts a template snippet from s3://b/k.yaml"),
])
def test_fail_template_without_visible_key_reports_what_it_hides(analyzer, tmp_path, text, message):
    report = _analyze(analyzer, tmp_path, "Parameters:\n  Names: {Type: CommaDelimitedList}\n" + text)
    assert report.status == "error"
    assert report.keys == 0
    assert any(message in error.message for error in report.errors)


def test_success_foreach_that_creates_a_key_is_analyzed(analyzer, tmp_path):
    report = _analyze(analyzer, tmp_path, """
        Transform: AWS::LanguageExtensions
        Resources:
          Fn::ForEach::Keys:
            - Name
            - [A, B]
            - Key${Name}:
                Type: AWS::KMS::Key
                Properties:
                  EnableKeyRotation: true
        """)
    assert report.keys == 2


@pytest.mark.parametrize("resources, expected", [
    ({"R": {"Type": "AWS::IAM::Role"}}, True),
    ({}, True),
    ({"K": {"Type": "AWS::KMS::Key"}}, False),
    ({"K": {"Type": "AWS::KMS::ReplicaKey"}}, False),
    ({"K": {"Type": {"Ref": "T"}}}, False),  # not a type CloudFormation accepts: not skipped
    ({"K": {"Properties": {}}}, False),
    ({"K": "AWS::KMS::Key"}, False),
    ({"Fn::ForEach::Loop": ["N", ["a"], {"K${N}": {"Type": "AWS::SNS::Topic"}}]}, False),
])
def test_cannot_define_key(resources, expected):
    assert cannot_define_key(resources) is expected


PATTERNS = [condition_glob.glob_tokens(text) for text in
            ("*", "a*", "*b", "a?c", "arn:*", "ab", "", "A*b?")]
PATTERNS += [condition_glob.caseless_tokens(condition_glob.glob_tokens("aB*")),
             condition_glob.arn_tokens([condition_glob.glob_tokens(c) for c in
                                        ("arn", "aws", "iam", "", "1*", "role/*")])]


def _every_letter(letters, mentions):
    return letters


@pytest.mark.parametrize("population, tests", list(itertools.product(PATTERNS, [
    (PATTERNS[1], PATTERNS[2]), (PATTERNS[3],), (PATTERNS[5], PATTERNS[8]), (PATTERNS[9],)])))
def test_glob_search_over_character_classes_finds_the_same_word(monkeypatch, population, tests):
    def words():
        condition_glob._search.cache_clear()
        return (condition_glob.word_inside(population, ("ab",), tests),
                condition_glob.word_outside(population, ("ab",), tests))

    quick = words()
    monkeypatch.setattr(condition_glob, "_representatives", _every_letter)
    assert quick == words()
    condition_glob._search.cache_clear()


def _reachable(grant_condition: str) -> set[str]:
    text = f"""
        Resources:
          Role:
            Type: AWS::IAM::Role
            Properties:
              AssumeRolePolicyDocument: {{Version: '2012-10-17', Statement: []}}
          Key:
            Type: AWS::KMS::Key
            Properties:
              KeyPolicy:
                Version: '2012-10-17'
                Statement:
                  - Effect: Allow
                    Principal: {{AWS: !GetAtt Role.Arn}}
                    Action: kms:CreateGrant
                    Resource: '*'
                    {grant_condition}
        """
    document = load_text(textwrap.dedent(text), "t.yaml").document
    key = normalize(document, "t.yaml").input["keys"]["Key"]
    mask = key["access"]["identity:Role"]["reachable"]
    return {action for action, bit in catalog.key_action_bits().items() if mask & bit}


def test_create_grant_without_operations_condition_reaches_every_grant_operation():
    reachable = _reachable("")
    assert {"kms:Decrypt", "kms:Encrypt", "kms:RetireGrant"} <= reachable
    assert "kms:PutKeyPolicy" not in reachable


def test_create_grant_limited_by_grant_operations_reaches_only_those():
    reachable = _reachable("Condition: {'ForAllValues:StringEquals': {'kms:GrantOperations': [Decrypt]}}")
    assert "kms:Decrypt" in reachable
    assert "kms:Encrypt" not in reachable
