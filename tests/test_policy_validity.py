"""What KMS refuses in a key policy (bridge/policy_validity.py) and how it reaches the input
(`key.invalid`, rule KP021): refused, never guessed from what an intrinsic might yield."""

from __future__ import annotations

import json

import pytest

from kmspolicy.bridge import policy_validity as pv
from kmspolicy.bridge.intrinsics import Sym
from kmspolicy.bridge.load import load_text
from kmspolicy.bridge.normalize import normalize

ACCOUNT = Sym("account", "self")


def key_input(statements, **policy):
    document = {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {
        "KeyPolicy": {"Version": "2012-10-17", **policy, "Statement": statements}}}}}
    normalized = normalize(load_text(json.dumps(document), "t.json").document, "t.json", {})
    return normalized.input["keys"]["Key"], normalized.problems


def allow(principal, action="kms:Decrypt", **extra):
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*", **extra}


ADMIN = allow({"AWS": "arn:aws:iam::111122223333:role/Admin"}, "kms:*")


@pytest.mark.parametrize("value", [
    ("*",), ("111122223333",), ("arn:aws:iam::111122223333:root",),
    ("arn:aws:iam::111122223333:role/path/App",), ("arn:aws-us-gov:iam::111122223333:user/Bob",),
    ("arn:aws:sts::111122223333:assumed-role/App/session",),
    ("arn:aws:sts::111122223333:federated-user/Bob",),
    ("arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E1",),
    ("arn:aws:iam::", ACCOUNT, ":role/App"),
    ("arn:aws:iam::", Sym("param", "Partner"), ":root"),       # whatever the parameter holds
    (Sym("getatt", "Role.Arn"),),
    ("arn:aws:iam::111122223333:role/", Sym("ref", "Role")),
])
def test_principals_that_may_be_valid_are_not_refused(value):
    assert pv.principal_problem("AWS", value) is None


@pytest.mark.parametrize(("value", "reason"), [
    (("arn:aws:iam::*:root",), "has a wildcard"),
    (("arn:aws:iam::", ACCOUNT, ":role/app-*"), "has a wildcard"),
    (("arn:aws:iam::111122223333:role/App?",), "has a wildcard"),
    (("12345678",), "is not an AWS account ID"),
    (("AIDACKCEVSQ6C2EXAMPLE",), "is not a principal"),
    (("arn:aws:iam::12345678:role/App",), "not a 12-digit account ID"),
    (("arn:aws:iam:", ACCOUNT, ":root"), "is not a principal ARN"),
    (("arn:aws:iam::111122223333:group/Devs",), "is an IAM group"),
    (("arn:aws:iam::111122223333:policy/P",), "is not a principal"),
    (("arn:aws:s3:::bucket/key:x:y",), "not an IAM or STS principal ARN"),
    (("arn:aws:iam:us-east-1:111122223333:root",), "has a Region"),
    (("arn:amazon:iam::111122223333:root",), "has no AWS partition"),
])
def test_principals_kms_refuses(value, reason):
    assert reason in pv.principal_problem("AWS", value)


@pytest.mark.parametrize(("value", "refused"), [
    ("lambda.amazonaws.com", False), ("logs.eu-west-1.amazonaws.com", False),
    ("s3.amazonaws.com.cn", False), ("*", False), ("lambda", True), ("lambda.amazonaws.com ", True),
    ("arn:aws:iam::111122223333:root", True),
])
def test_service_principals(value, refused):
    assert (pv.principal_problem("Service", (value,)) is not None) is refused


def test_a_service_name_built_by_an_intrinsic_is_not_judged():
    assert pv.principal_problem("Service", ("logs.", Sym("region"), ".amazonaws.com")) is None


@pytest.mark.parametrize(("statement", "values", "refused"), [
    ({"Resource": "*"}, [("*",)], False),
    ({"Resource": ["*"]}, [("*",)], False),
    ({"Resource": "x"}, [(Sym("param", "Scope"),)], False),        # may deploy as "*"
    ({"Resource": "x"}, [("arn:aws:kms:", Sym("region"), ":1:key/*")], True),
    ({"Resource": "x"}, [("",)], True),
    ({"NotResource": "x"}, [], False),
    ({}, [], True),
])
def test_key_policy_resource(statement, values, refused):
    assert (pv.resource_problem(statement, values) is not None) is refused


def test_versions():
    assert pv.version_problem({"Version": "2012-10-17"}) is None
    assert pv.version_problem({"Version": "2008-10-17"}) is None
    assert pv.version_problem({}) is None
    assert pv.version_problem({"Version": {"Ref": "V"}}) is None
    assert "2012-10-18" in pv.version_problem({"Version": "2012-10-18"})


def test_size_is_the_least_the_policy_can_serialize_to():
    big = "x" * pv.MAX_KEY_POLICY_BYTES
    assert pv.size_problem({"Sid": big}) is not None
    assert pv.size_problem({"Sid": big[:-20]}) is None
    # an intrinsic may vanish (AWS::NoValue) or resolve short: only Sub's literal text counts
    assert pv.size_problem({"Sid": {"Fn::If": ["C", big, {"Ref": "AWS::NoValue"}]}}) is None
    assert pv.size_problem({"Sid": {"Fn::Sub": big + "${AWS::Region}"}}) is not None
    assert pv.size_problem({"Sid": {"Fn::Sub": "${Long}"}}) is None


def test_refused_principals_are_left_out_and_listed():
    key, problems = key_input([ADMIN, allow({"AWS": ["arn:aws:iam::*:root",
                                                     "arn:aws:iam::111122223333:role/App"]})])
    assert not problems
    assert [p["raw"] for p in key["statements"][1]["principals"]] == ["arn:aws:iam::111122223333:role/App"]
    assert [(i["path"], i["outcome"]) for i in key["invalid"]] == [
        ("/Resources/Key/Properties/KeyPolicy/Statement/1/Principal/AWS/0", "rejected")]
    assert key["policy_complete"] is False


@pytest.mark.parametrize(("statement", "path", "message"), [
    ({**allow("*"), "Effect": "allow"}, "/Statement/1/Effect", "got 'allow'"),
    ({k: v for k, v in allow("*").items() if k != "Effect"}, "/Statement/1", "has no Effect"),
    ({k: v for k, v in allow("*").items() if k != "Action"}, "/Statement/1", "exactly one of Action"),
    ({k: v for k, v in allow("*").items() if k != "Principal"}, "/Statement/1", "exactly one of Principal"),
    ({k: v for k, v in allow("*").items() if k != "Resource"}, "/Statement/1", "must have a Resource"),
    ({**allow("*"), "Principals": "*"}, "/Statement/1/Principals", "unknown statement field"),
    ({**allow("*"), "Action": "Decrypt"}, "/Statement/1/Action", "is not 'service:action'"),
])
def test_a_statement_kms_rejects_is_a_finding_not_an_error(statement, path, message):
    key, problems = key_input([ADMIN, statement])
    assert not problems
    assert len(key["statements"]) == 1 and key["policy_complete"] is False
    [invalid] = key["invalid"]
    assert invalid["path"] == "/Resources/Key/Properties/KeyPolicy" + path
    assert message in invalid["message"] and invalid["outcome"] == "rejected"


def test_a_resource_other_than_star_is_rejected_but_the_statement_is_kept():
    key, _ = key_input([ADMIN, allow("*", Resource="arn:aws:kms:us-east-1:111122223333:key/k")])
    assert len(key["statements"]) == 2 and key["statements"][1]["key_scope"] == "no"
    assert [i["path"] for i in key["invalid"]] == ["/Resources/Key/Properties/KeyPolicy/Statement/1/Resource"]
    assert key["policy_complete"] is True


def test_an_action_that_matches_nothing_is_ignored_not_rejected():
    key, _ = key_input([allow({"AWS": "arn:aws:iam::111122223333:role/Admin"},
                              ["kms:*", "kms:Encrpyt", "kms:Foo*", "s3:GetObject"])])
    assert [(i["path"].rsplit("/", 2)[-2:], i["outcome"]) for i in key["invalid"]] == [
        (["Action", "1"], "ignored"), (["Action", "2"], "ignored")]
    assert key["policy_complete"] is True


def test_version_and_size_are_located_on_the_policy():
    key, _ = key_input([ADMIN], Version="2012-10-18")
    assert [i["path"] for i in key["invalid"]] == ["/Resources/Key/Properties/KeyPolicy/Version"]
    key, _ = key_input([{**ADMIN, "Sid": "s" * pv.MAX_KEY_POLICY_BYTES}])
    assert [i["path"] for i in key["invalid"]] == ["/Resources/Key/Properties/KeyPolicy"]


def test_a_valid_policy_has_nothing_invalid():
    key, problems = key_input([ADMIN, allow({"Service": "logs.amazonaws.com"}, ["kms:Encrypt*", "kms:Decrypt"])])
    assert key["invalid"] == [] and not problems and key["policy_complete"] is True


def test_identity_policies_keep_grammar_errors_as_errors():
    document = {"Resources": {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [ADMIN]}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {}, "Policies": [{"PolicyName": "p", "PolicyDocument": {
                "Statement": [{"Effect": "allow", "Action": "kms:Decrypt", "Resource": "*"}]}}]}}}}
    normalized = normalize(load_text(json.dumps(document), "t.json").document, "t.json", {})
    assert any("got 'allow'" in message for _, message in normalized.problems)
    assert normalized.input["keys"]["Key"]["invalid"] == []


def test_a_not_principal_statement_with_a_refused_principal_is_left_out_whole():
    statement = {"Effect": "Allow", "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:role/Admin",
                                                            "arn:aws:iam::*:root"]},
                 "Action": "kms:Decrypt", "Resource": "*"}
    key, _ = key_input([ADMIN, statement])
    assert len(key["statements"]) == 1 and key["policy_complete"] is False
    assert [i["path"].rsplit("/", 3)[-3:] for i in key["invalid"]] == [["NotPrincipal", "AWS", "1"]]
