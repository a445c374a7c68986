"""The normalizer: input schema v2, principals, SAM expansion, identities, resources."""

from __future__ import annotations

import pytest

from kmspolicy.bridge import schema
from kmspolicy.bridge.load import TemplateError, load_template, load_text
from kmspolicy.bridge.normalize import normalize

from .conftest import ROOT, corpus_templates, example_templates


def norm(text, **params):
    return normalize(load_text(text, "t.yaml").document, "t.yaml", params)


@pytest.mark.parametrize("path", example_templates() + corpus_templates(), ids=lambda p: p.name[:60])
def test_normalized_input_matches_schema(path):
    try:
        template = load_template(str(path))
    except TemplateError:
        pytest.skip("not loadable (an input error, covered elsewhere)")
    if not isinstance(template.document, dict) or "Resources" not in template.document:
        pytest.skip("not a template")
    input_doc = normalize(template.document, str(path), {}).input
    schema.validate(input_doc, "input-v2")
    _check_action_masks(input_doc)


def _check_action_masks(input_doc):
    """Every statement and pattern carries the mask of its actions (optional in the schema,
    always written by the bridge)."""
    from kmspolicy.bridge import catalog

    statements = [st for key in input_doc["keys"].values() for st in key["statements"]]
    statements += [st for ident in input_doc["identities"].values() for st in ident["statements"]]
    for st in statements:
        assert st["action_mask"] == catalog.action_mask(st["actions"])
        for pattern in st["patterns"]:
            assert pattern["action_mask"] == catalog.action_mask(pattern["actions"])


def seed():
    return normalize(load_template(str(ROOT / "examples/seed/template.yaml")).document, "seed", {}).input


def test_seed_principals_are_canonical():
    key = seed()["keys"]["KmsKey"]
    kinds = [[(p["kind"], p["account"], p["id"]) for p in st["principals"]] for st in key["statements"]]
    assert kinds == [
        [("account", "self", "account:self")],
        [("user", "self", "user:self:${KeyAdmin}")],
        [("user", "self", "user:self:${KeyUser}")],
    ]


def test_seed_sam_policy_templates_reach_the_key():
    doc = seed()
    role = doc["identities"]["SignupFunctionRole"]
    assert role["owner"] == "SignupFunction"
    templates = [(st["origin"]["template"], st["actions"], st["resources"]["keys"]) for st in role["statements"]]
    assert templates == [("KMSEncryptPolicy", ["kms:Encrypt"], ["KmsKey"]),
                         ("KMSDecryptPolicy", ["kms:Decrypt"], ["KmsKey"])]
    assert role["statements"][0]["path"] == "/Resources/SignupFunction/Properties/Policies/1/KMSEncryptPolicy"
    assert doc["keys"]["KmsKey"]["referenced_by"] == ["SignupFunctionRole", "LoginFunctionRole"]


def test_parameters_fill_principals():
    key = normalize(load_template(str(ROOT / "examples/seed/template.yaml")).document, "seed",
                    {"KeyAdmin": "ops"}).input["keys"]["KmsKey"]
    assert key["statements"][1]["principals"][0]["id"] == "user:self:ops"


KEY = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: app-role
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: kms:Decrypt
                Resource: !GetAtt Key.Arn
              - Effect: Allow
                Action: [s3:GetObject]
                Resource: '*'
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Statement:
          {statement}
"""


def key_statement(statement):
    if "Resource" not in statement:  # KMS rejects a key-policy statement without one
        statement += "\n          Resource: '*'"
    text = KEY.replace("{statement}", statement)
    out = norm(text)
    return out.input["keys"]["Key"]["statements"], out.problems, out.input


def test_principal_forms():
    sts, problems, doc = key_statement(
        "Effect: Allow\n          Principal: {AWS: ['123456789012', '*', "
        "'arn:aws:iam::210987654321:role/x/Admin', 'arn:aws:iam::${AWS::AccountId}:role/app-role'], "
        "Service: Lambda.amazonaws.com}\n          Action: kms:Decrypt")
    assert not problems
    assert [(p["kind"], p["account"], p["identity"]) for p in sts[0]["principals"]] == [
        ("account", "123456789012", None), ("any", "*", None), ("role", "210987654321", None),
        ("service", "", None)]
    # a ${} variable outside Fn::Sub is sent as written, and KMS refuses it
    assert "outside Fn::Sub" in doc["keys"]["Key"]["invalid"][0]["message"]


def test_constructed_role_arn_links_the_template_role():
    sts, problems, _ = key_statement(
        "Effect: Allow\n          Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:role/app-role'}\n"
        "          Action: kms:Decrypt")
    assert sts[0]["principals"][0]["id"] == "identity:Role"


def test_statement_as_single_object_and_principal_star_string():
    text = KEY.replace("Statement:\n          {statement}",
                       "Statement:\n          Effect: Allow\n          Principal: '*'\n          Action: KMS:decrypt\n"
                       "          Resource: '*'")
    out = norm(text)
    st = out.input["keys"]["Key"]["statements"][0]
    assert (st["principals"][0]["kind"], st["actions"]) == ("any", ["kms:Decrypt"])


def test_key_policy_as_json_string():
    text = """
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy: '{"Statement": {"Effect": "Allow", "Principal": {"AWS": "111122223333"},
        "Action": "kms:*", "Resource": "*"}}'
"""
    out = norm(text)
    st = out.input["keys"]["Key"]["statements"][0]
    assert st["principals"][0]["id"] == "account:111122223333"
    assert st["path"] == "/Resources/Key/Properties/KeyPolicy"


def test_not_action_is_the_complement():
    sts, _, _ = key_statement("Effect: Allow\n          Principal: '*'\n          NotAction: ['kms:*Key*']")
    assert "kms:Decrypt" in sts[0]["actions"] and "kms:PutKeyPolicy" not in sts[0]["actions"]
    assert sts[0]["action_mode"] == "NotAction"


def test_identity_statements_keep_only_kms_and_resolve_keys():
    _, _, doc = key_statement("Effect: Allow\n          Principal: '*'\n          Action: kms:Decrypt")
    statements = doc["identities"]["Role"]["statements"]
    assert [(s["actions"], s["resources"]["keys"], s["resources"]["any_key"]) for s in statements] == [
        (["kms:Decrypt"], ["Key"], False)]


def test_missing_key_policy_is_the_default_delegation():
    out = norm("Resources:\n  Key:\n    Type: AWS::KMS::Key\n")
    key = out.input["keys"]["Key"]
    assert key["default_policy"] and key["statements"][0]["principals"][0]["id"] == "account:self"


@pytest.mark.parametrize("statement, message", [
    ("Effect: Maybe\n          Principal: '*'\n          Action: kms:Decrypt", "Effect must be Allow or Deny"),
    ("Effect: Allow\n          Action: kms:Decrypt", "exactly one of Principal or NotPrincipal"),
    ("Effect: Allow\n          Principal: '*'\n          Action: 42x", "is not 'service:action'"),
])
def test_statements_kms_rejects_are_invalid_not_problems(statement, message):
    sts, problems, doc = key_statement(statement)
    assert not sts and not problems
    assert message in doc["keys"]["Key"]["invalid"][0]["message"]


@pytest.mark.parametrize("statement, message", [
    ("Effect: Allow\n          Principal: {AWS: !Ref Nowhere}\n          Action: kms:Decrypt", "Nowhere"),
    ("Effect: Allow\n          Principal: {Users: x}\n          Action: kms:Decrypt", "unknown principal type"),
])
def test_malformed_statements_are_problems(statement, message):
    _, problems, _ = key_statement(statement)
    assert problems and message in problems[0][1]


@pytest.mark.parametrize("actions, user", [
    ("kms:Decrypt", True), ("kms:*", True), ("[kms:Describe*, kms:Put*, kms:ScheduleKeyDeletion]", False),
    ("!Ref Actions", True)])
def test_an_identity_naming_the_key_means_to_use_it_only_with_a_use_action(actions, user):
    text = (
        "Parameters:\n  Actions: {Type: String}\n"
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n"
        "  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {}\n"
        "      Policies:\n        - PolicyName: p\n          PolicyDocument:\n            Statement:\n"
        f"              - {{Effect: Allow, Action: {actions}, Resource: !GetAtt Key.Arn}}\n")
    out = norm(text)
    assert (out.input["keys"]["Key"]["referenced_by"] == ["Role"]) is user


LIST_PARAMETERS = {"Parameters": {
    "Orgs": {"Type": "CommaDelimitedList", "Default": "o-a1b2c3d4e5, *"},
    "Accounts": {"Type": "List<String>", "Default": "444455556666,555566667777"},
    "Open": {"Type": "CommaDelimitedList"},
}}


@pytest.mark.parametrize("value, expected", [
    ({"Ref": "Orgs"}, ["o-a1b2c3d4e5", "*"]),
    ({"Ref": "Accounts"}, ["444455556666", "555566667777"]),
    ({"Fn::Split": [",", "a,b"]}, ["a", "b"]),
    ({"Fn::Split": [",", {"Fn::Sub": "x-${AWS::Region},y"}]}, None),  # not determined here
    ({"Ref": "Open"}, None),  # no value: unknown
    ({"Ref": "AWS::AccountId"}, None),  # a string, not a list
    ({"Fn::Split": [",", {"Fn::Join": [",", {"Ref": "Accounts"}]}]}, ["444455556666", "555566667777"]),
    ({"Fn::Split": [",", {"Fn::Join": [",", {"Ref": "Open"}]}]}, None),
], ids=["comma-delimited-list", "list-type", "split", "split-of-a-deploy-time-string", "no-value", "a-string",
        "split-of-a-joined-list", "split-of-a-joined-list-without-value"])
def test_a_list_parameter_is_a_list(value, expected):
    """CloudFormation splits a CommaDelimitedList or List<…> parameter's value at commas
    (and trims it, as `Fn::Split` does not); a Ref to it where a list goes is that list."""
    from kmspolicy.bridge.intrinsics import Resolver
    assert Resolver(LIST_PARAMETERS).string_list(value) == expected


@pytest.mark.parametrize("value, shown", [
    ({"Fn::Split": [",", {"Ref": "Open"}]}, "<Fn::Split of parameter Open>"),
    ({"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "Open"}]}]}, "<Fn::Select of parameter Open>"),
    ({"Fn::Split": [",", {"Fn::ImportValue": "Names"}]}, "<Fn::Split>"),
    ({"Fn::Select": [1, {"Fn::Split": [",", {"Fn::Join": [",", {"Ref": "Accounts"}]}]}]}, "555566667777"),
    ({"Fn::Select": [0, {"Ref": "Orgs"}]}, "o-a1b2c3d4e5"),
])
def test_a_value_the_template_does_not_determine_names_its_parameters(value, shown):
    """KP016 and `access` show an unresolved principal by this text (was `<Fn::Split>`)."""
    from kmspolicy.bridge.intrinsics import Resolver, render
    assert [render(v) for v in Resolver(LIST_PARAMETERS).strings(value)] == [shown]


def test_a_list_parameter_gives_a_condition_several_values_and_a_statement_several_principals():
    doc = {**LIST_PARAMETERS, "Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": {"Ref": "Accounts"}}, "Action": "kms:Decrypt",
                       "Resource": "*", "Condition": {"StringLike": {"aws:PrincipalOrgID": {"Ref": "Orgs"}}}}]}}}}}
    st = normalize(doc, "t.json", {}).input["keys"]["Key"]["statements"][0]
    assert [p["id"] for p in st["principals"]] == ["account:444455556666", "account:555566667777"]
    from kmspolicy.bridge.access.concrete import condition_values
    from kmspolicy.bridge.intrinsics import Resolver
    resolver = Resolver(doc)
    condition = doc["Resources"]["Key"]["Properties"]["KeyPolicy"]["Statement"][0]["Condition"]
    values = condition_values(condition, resolver.strings, lambda kind, name: None, frozenset(), resolver.string_list)
    assert values == {"StringLike": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5", "*"]}}


@pytest.mark.parametrize(("written", "expected"), [("7", 7), ("30", 30), ("true", None), ("false", None),
                                                   ("'7'", None), ("!Ref Days", None)])
def test_pending_window_is_a_literal_integer_or_null(written, expected):
    input_doc = norm("Parameters:\n  Days: {Type: Number}\nResources:\n  K:\n    Type: AWS::KMS::Key\n"
                     f"    Properties:\n      PendingWindowInDays: {written}\n").input
    assert input_doc["keys"]["K"]["pending_window"] == expected
    schema.validate(input_doc, "input-v2")
