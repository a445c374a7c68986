"""Hypothesis-generated templates exercising what real templates do with KMS access.

Keys whose policies mix the account principal, `*` with and without caller conditions
(every operator family, IfExists, negations, ForAnyValue/ForAllValues, wildcards inside
values), NotPrincipal/NotAction/NotResource, Deny statements, template roles named by
ARN, cross-account principals and services; roles with inline, customer managed and AWS
managed policies (AdministratorAccess, PowerUserAccess, ReadOnlyAccess) and boundaries;
users in groups; SAM functions with policy templates and Globals boundaries.
`write_templates(n, directory, seed)` writes n of them as JSON and returns their paths.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

OTHER = "444455556666"
ACCOUNT_ROOT = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
KEY_ARN = {"Fn::GetAtt": ["Key", "Arn"]}
ACTIONS = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
    "kms:DescribeKey",
    "kms:CreateGrant",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:Put*",
    "kms:Create*",
    "kms:*",
    "kms:Get*",
    "kms:List*",
    "kms:Enable*",
    "kms:Disable*",
    "kms:TagResource",
]
AWS_MANAGED = ["AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess"]

action_lists = st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3, unique=True)

# (operator family, key, values) a caller condition tests
_CALLER = [
    ("StringEquals", "kms:CallerAccount", [{"Ref": "AWS::AccountId"}, OTHER]),
    ("StringEquals", "aws:PrincipalAccount", [{"Ref": "AWS::AccountId"}]),
    ("StringNotEquals", "aws:PrincipalAccount", [OTHER]),
    (
        "StringLike",
        "aws:PrincipalArn",
        [{"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/App*"}, "arn:aws:iam::*:role/Ops?"],
    ),
    ("ArnLike", "aws:PrincipalArn", [{"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/*"}]),
    ("ArnNotEquals", "aws:PrincipalArn", [{"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/Blocked"}]),
    ("StringEquals", "aws:PrincipalOrgID", ["o-a1b2c3d4e5"]),
    ("StringEqualsIfExists", "aws:PrincipalOrgID", ["o-a1b2c3d4e5"]),
    ("StringNotEqualsIfExists", "aws:PrincipalOrgID", ["o-a1b2c3d4e5"]),
    ("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", ["o-a1b2c3d4e5/r-ab12/ou-*"]),
    ("ForAllValues:StringEquals", "kms:GrantOperations", ["Decrypt", "Encrypt"]),
    ("StringEquals", "kms:ViaService", [{"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}]),
    ("StringLike", "kms:ViaService", ["*.amazonaws.com"]),
    ("Bool", "aws:PrincipalIsAWSService", ["true"]),
    ("Bool", "kms:GrantIsForAWSResource", ["true"]),
    ("BoolIfExists", "aws:SecureTransport", ["true"]),
    ("NumericLessThan", "aws:MultiFactorAuthAge", ["3600"]),
    ("IpAddress", "aws:SourceIp", ["198.51.100.0/24"]),
    ("NotIpAddress", "aws:SourceIp", ["198.51.100.0/24"]),
    ("StringEquals", "aws:SourceAccount", [{"Ref": "AWS::AccountId"}]),
    ("ArnLike", "aws:SourceArn", [{"Fn::Sub": "arn:aws:sns:${AWS::Region}:${AWS::AccountId}:*"}]),
    ("Null", "aws:PrincipalOrgID", ["false"]),
    # families and forms added after the first N=200 run (seed 12 streams changed with them)
    ("DateGreaterThan", "aws:CurrentTime", ["2020-01-01T00:00:00Z"]),
    ("DateLessThanIfExists", "aws:EpochTime", ["4102444800"]),
    ("StringNotLike", "aws:PrincipalArn", [{"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/Admin*"}]),
    ("ArnNotLikeIfExists", "aws:SourceArn", ["arn:aws:sns:*:*:*"]),
    ("StringEquals", "aws:PrincipalServiceName", ["sns.amazonaws.com"]),
    ("StringEquals", "aws:PrincipalType", ["AssumedRole", "User"]),
    ("ForAnyValue:StringEquals", "kms:GrantOperations", ["Decrypt", "GenerateDataKey"]),
    ("NumericGreaterThanIfExists", "aws:MultiFactorAuthAge", ["60"]),
    ("StringNotEquals", "kms:CallerAccount", [{"Ref": "AWS::AccountId"}]),
    ("StringEqualsIgnoreCase", "kms:ViaService", ["S3.US-EAST-1.AMAZONAWS.COM"]),
]


@st.composite
def conditions(draw) -> dict:
    out: dict = {}
    for op, key, values in draw(st.lists(st.sampled_from(_CALLER), min_size=1, max_size=2, unique_by=lambda c: c[1])):
        chosen = draw(st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique_by=json.dumps))
        out.setdefault(op, {})[key] = chosen if len(chosen) > 1 else chosen[0]
    return out


@st.composite
def principals(draw, roles: list[str]):
    options = [
        {"AWS": ACCOUNT_ROOT},
        "*",
        {"AWS": "*"},
        {"AWS": f"arn:aws:iam::{OTHER}:root"},
        {"AWS": OTHER},
        {"AWS": f"arn:aws:iam::{OTHER}:role/Partner"},
        {"Service": "sns.amazonaws.com"},
        {"Service": "logs.us-east-1.amazonaws.com"},
        {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/Outside"}},
    ]
    options += [{"AWS": {"Fn::GetAtt": [r, "Arn"]}} for r in roles]
    return draw(st.sampled_from(options))


@st.composite
def key_statements(draw, roles: list[str]) -> dict:
    effect = draw(st.sampled_from(["Allow", "Allow", "Allow", "Deny"]))
    st_: dict = {"Effect": effect}
    if draw(st.integers(0, 9)) == 0:
        st_["NotPrincipal"] = {
            "AWS": draw(st.sampled_from([ACCOUNT_ROOT] + [{"Fn::GetAtt": [r, "Arn"]} for r in roles] or [ACCOUNT_ROOT]))
        }
    else:
        st_["Principal"] = draw(principals(roles))
    st_["NotAction" if draw(st.integers(0, 7)) == 0 else "Action"] = draw(action_lists)
    if draw(st.integers(0, 11)) == 0:  # all but one other key (so this one), or no key at all
        st_["NotResource"] = draw(st.sampled_from(["arn:aws:kms:*:*:key/00000000-0000-0000-0000-000000000000", "*"]))
    else:
        st_["Resource"] = "*"
    if draw(st.booleans()):
        st_["Condition"] = draw(conditions())
    return st_


@st.composite
def identity_statement(draw) -> dict:
    effect = draw(st.sampled_from(["Allow", "Allow", "Deny"]))
    resource = draw(
        st.sampled_from(
            [
                "*",
                KEY_ARN,
                {"Fn::Sub": "arn:aws:kms:${AWS::Region}:${AWS::AccountId}:key/${Key}"},
                "arn:aws:kms:*:*:key/*",
                {"Fn::Sub": "arn:aws:kms:${AWS::Region}:${AWS::AccountId}:alias/app"},
            ]
        )
    )
    out = {"Effect": effect, "Action": draw(action_lists), "Resource": resource}
    if draw(st.integers(0, 5)) == 0:
        out["Condition"] = draw(conditions())
    return out


def _doc(statements: list[dict]) -> dict:
    return {"Version": "2012-10-17", "Statement": statements}


@st.composite
def templates(draw) -> dict:
    resources: dict = {}
    n_roles = draw(st.integers(0, 3))
    roles = [f"Role{i}" for i in range(n_roles)]
    if draw(st.booleans()):
        resources["CustomerPolicy"] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {"PolicyDocument": _doc(draw(st.lists(identity_statement(), min_size=1, max_size=2)))},
        }
    if draw(st.booleans()):
        resources["Boundary"] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "PolicyDocument": _doc([{"Effect": "Allow", "Action": draw(action_lists), "Resource": "*"}])
            },
        }
    for role in roles:
        props: dict = {
            "AssumeRolePolicyDocument": _doc(
                [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
            )
        }
        if draw(st.booleans()):
            props["Policies"] = [
                {
                    "PolicyName": "inline",
                    "PolicyDocument": _doc(draw(st.lists(identity_statement(), min_size=1, max_size=3))),
                }
            ]
        managed = draw(st.lists(st.sampled_from(AWS_MANAGED), max_size=1))
        arns = [{"Fn::Sub": f"arn:${{AWS::Partition}}:iam::aws:policy/{m}"} for m in managed]
        if "CustomerPolicy" in resources and draw(st.booleans()):
            arns.append({"Ref": "CustomerPolicy"})
        if arns:
            props["ManagedPolicyArns"] = arns
        if "Boundary" in resources and draw(st.booleans()):
            props["PermissionsBoundary"] = {"Ref": "Boundary"}
        if draw(st.booleans()):
            props["RoleName"] = f"{role}-named"
        resources[role] = {"Type": "AWS::IAM::Role", "Properties": props}
    if draw(st.booleans()):
        resources["Team"] = {
            "Type": "AWS::IAM::Group",
            "Properties": {"Policies": [{"PolicyName": "team", "PolicyDocument": _doc([draw(identity_statement())])}]},
        }
        resources["Member"] = {
            "Type": "AWS::IAM::User",
            "Properties": {"Groups": [{"Ref": "Team"}]} if draw(st.booleans()) else {},
        }
        if not resources["Member"]["Properties"]:
            resources["Join"] = {
                "Type": "AWS::IAM::UserToGroupAddition",
                "Properties": {"GroupName": {"Ref": "Team"}, "Users": [{"Ref": "Member"}]},
            }
        roles = roles + ["Member"]
    if draw(st.booleans()):
        resources["Standalone"] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "standalone",
                "PolicyDocument": _doc([draw(identity_statement())]),
                "Roles": [{"Ref": r} for r in roles if r != "Member"][:1] or [{"Ref": "AWS::NoValue"}],
            },
        }
    doc: dict = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    if draw(st.booleans()):
        doc["Transform"] = "AWS::Serverless-2016-10-31"
        policies = draw(
            st.lists(
                st.sampled_from(
                    [
                        {"KMSDecryptPolicy": {"KeyId": {"Ref": "Key"}}},
                        {"KMSEncryptPolicy": {"KeyId": {"Ref": "Key"}}},
                        {"KMSEncryptPolicy_v2": {"KeyId": {"Ref": "Key"}}},
                        {"KMSDecryptPolicy": {"KeyId": {"Fn::GetAtt": ["Key", "Arn"]}}},
                        "AWSLambdaExecute",
                        "AdministratorAccess",
                        _doc([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY_ARN}]),
                    ]
                ),
                max_size=2,
                unique_by=json.dumps,
            )
        )
        resources["Fn"] = {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Runtime": "python3.12",
                "Handler": "app.handler",
                "InlineCode": "def handler(e, c): pass",
                "Policies": policies[0] if len(policies) == 1 and draw(st.booleans()) else policies,
            },
        }
        if "Boundary" in resources and draw(st.booleans()):
            doc["Globals"] = {"Function": {"PermissionsBoundary": {"Ref": "Boundary"}}}
        roles = roles + ["FnRole"]
    statements = draw(st.lists(key_statements(roles), min_size=1, max_size=4))
    key_props: dict = {"EnableKeyRotation": True}
    if draw(st.integers(0, 9)):
        key_props["KeyPolicy"] = _doc(statements)
    resources["Key"] = {"Type": "AWS::KMS::Key", "Properties": key_props}
    return doc


def write_templates(n: int, directory: Path, seed: int = 12) -> list[str]:
    """n templates, the same ones for the same seed: seed 12 is hypothesis's derandomized
    stream (the gating test's), any other seeds hypothesis's random source."""
    found: list[dict] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=n,
        derandomize=seed == 12,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(templates())
    def collect(doc: dict) -> None:
        if len(found) < n:
            found.append(doc)

    collect()
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, doc in enumerate(found):
        path = directory / f"generated-{seed}-{i:04d}.json"
        path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        paths.append(str(path))
    return paths
