"""Access verdicts the independent referee (tests/oracle, iam-simulate) disagreed with,
each decided from the AWS documentation (tests/oracle/FINDINGS.md, "Adjudications").

Each case is a small template run through the real normalizer and access model; the
verdict is read as `kmspolicy access` reads it (allowed, conditional, reachable, unknown,
else denied).
"""

from __future__ import annotations

import pytest

from kmspolicy.bridge import catalog
from kmspolicy.bridge.normalize import normalize

ROOT = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
VIA_S3 = {"StringEquals": {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}}}
ROLES = {"ArnLike": {"aws:PrincipalArn": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/*"}}}
TRUST = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole"}]}


def verdicts(statements: list[dict], resources: dict | None = None) -> dict:
    doc = {"Resources": {**(resources or {}), "Key": {"Type": "AWS::KMS::Key", "Properties": {
        "KeyPolicy": {"Version": "2012-10-17", "Statement": statements}}}}}
    key = normalize(doc, "template.json", {}).input["keys"]["Key"]
    bits = catalog.key_action_bits()

    def verdict(access: dict, action: str) -> str:
        return next((v for v in ("allowed", "conditional", "reachable", "unknown")
                     if access.get(v, 0) & bits[action]), "denied")

    return {sid: {a: verdict(access, a) for a in bits} for sid, access in key["access"].items()}


def test_a_grant_for_oneself_is_no_request_through_a_service():
    """CreateGrant allowed only through S3 is no escalation: a grant the caller creates for
    itself is its own call, with no kms:ViaService (kms:GrantIsForAWSResource is true only
    when an AWS service calls on its behalf)."""
    got = verdicts([{"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:CreateGrant",
                     "Resource": "*", "Condition": VIA_S3}])["account:self"]
    assert got["kms:CreateGrant"] == "conditional"
    assert got["kms:Decrypt"] == "denied"


def test_a_self_grant_without_a_service_condition_still_escalates():
    got = verdicts([{"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:CreateGrant",
                     "Resource": "*"}])["account:self"]
    assert got["kms:Decrypt"] == "reachable"


def test_a_bounded_role_reaches_what_its_boundary_does_not_allow_through_put_key_policy():
    """A role whose boundary allows kms:PutKeyPolicy can write a key policy naming its role
    session, which the boundary does not cap (IAM User Guide, permissions boundaries)."""
    resources = {
        "Boundary": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {
            "Statement": [{"Effect": "Allow", "Action": "kms:PutKeyPolicy", "Resource": "*"}]}}},
        "Admin": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": TRUST, "PermissionsBoundary": {"Ref": "Boundary"},
            "Policies": [{"PolicyName": "all", "PolicyDocument": {
                "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}}]}}}
    got = verdicts([{"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}],
                   resources)["identity:Admin"]
    assert got["kms:PutKeyPolicy"] == "allowed"
    assert got["kms:Decrypt"] == "reachable"


def test_synchronize_multi_region_key_carries_no_via_service():
    """The Service Authorization Reference lists no condition keys for
    kms:SynchronizeMultiRegionKey: a kms:ViaService test is false on its requests."""
    got = verdicts([{"Effect": "Allow", "Principal": {"AWS": ROOT},
                     "Action": ["kms:SynchronizeMultiRegionKey", "kms:DisableKey"], "Resource": "*",
                     "Condition": VIA_S3}])["account:self"]
    assert got["kms:DisableKey"] == "conditional"
    assert got["kms:SynchronizeMultiRegionKey"] == "denied"


@pytest.mark.parametrize("deny_condition", [ROLES, {**ROLES, "Bool": {"aws:SecureTransport": "true"}}],
                         ids=["some-of-the-allows-tests", "all-of-them"])
def test_a_deny_with_the_allows_own_tests_refuses_everything_it_allows(deny_condition):
    """Every request the Allow admits passes the Deny's tests too: denied, not conditional."""
    allow = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:Disable*", "Resource": "*",
             "Condition": {**ROLES, "Bool": {"aws:SecureTransport": "true"}}}
    deny = {"Effect": "Deny", "Principal": {"AWS": ROOT}, "Action": "kms:Disable*", "Resource": "*",
            "Condition": deny_condition}
    assert verdicts([allow, deny])["account:self"]["kms:DisableKey"] == "denied"


def test_a_deny_testing_something_else_leaves_the_allow_conditional():
    allow = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:Disable*", "Resource": "*",
             "Condition": ROLES}
    deny = {"Effect": "Deny", "Principal": {"AWS": ROOT}, "Action": "kms:Disable*", "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert verdicts([allow, deny])["account:self"]["kms:DisableKey"] == "conditional"


@pytest.mark.parametrize("principal, subject", [
    ({"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/Outside"}, "role:self:Outside"),
    (ROOT, "account:self")], ids=["a-named-role", "the-account"])
def test_a_deny_test_the_callers_own_facts_decide_constrains_nothing(principal, subject):
    """generated-14-0223..0226 (referee seed 14): the Deny tests the Allow's kms:ViaService
    and aws:PrincipalAccount, which is the caller's own account for every principal of it:
    every request the Allow admits is refused (denied), and PutKeyPolicy is no path."""
    allow = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": ["kms:Decrypt", "kms:PutKeyPolicy"],
             "Resource": "*", "Condition": VIA_S3}
    own_account = {**VIA_S3["StringEquals"], "aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}
    deny = {"Effect": "Deny", "Principal": {"AWS": ROOT}, "Action": "kms:Put*", "Resource": "*",
            "Condition": {"StringEquals": own_account}}
    got = verdicts([allow, deny])[subject]
    assert got["kms:PutKeyPolicy"] == "denied"
    assert got["kms:Decrypt"] == "conditional"
    assert got["kms:CancelKeyDeletion"] == "denied"  # no escalation through PutKeyPolicy


def test_a_deny_test_of_another_account_leaves_the_allow_conditional():
    allow = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:PutKeyPolicy", "Resource": "*",
             "Condition": VIA_S3}
    deny = {"Effect": "Deny", "Principal": "*", "Action": "kms:Put*", "Resource": "*",
            "Condition": {"StringEquals": {**VIA_S3["StringEquals"], "aws:PrincipalAccount": "444455556666"}}}
    assert verdicts([allow, deny])["account:self"]["kms:PutKeyPolicy"] == "conditional"


def _via(operator: str, value) -> dict:
    return {operator: {"kms:ViaService": value}}


S3_OR_SQS = [{"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}, {"Fn::Sub": "sqs.${AWS::Region}.amazonaws.com"}]


@pytest.mark.parametrize("allow_condition, deny_condition, expected", [
    (VIA_S3, _via("StringLike", "*.amazonaws.com"), "denied"),
    (_via("StringEquals", S3_OR_SQS), _via("StringLike", ["s3.*", "sqs.*"]), "denied"),
    (_via("StringLike", "s3.*.amazonaws.com"), _via("StringLike", "*.amazonaws.com"), "denied"),
    # the Allow admits a value the Deny spares: some requests get through
    (_via("StringEquals", S3_OR_SQS), _via("StringLike", "s3.*"), "conditional"),
    (_via("StringLike", "*.amazonaws.com"), _via("StringLike", "s3.*"), "conditional"),
    # IfExists admits requests without the key, which the Deny does not match
    (_via("StringEqualsIfExists", {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}),
     _via("StringLike", "*.amazonaws.com"), "conditional"),
    # case-insensitive: "S3.…" passes the Allow, not the Deny
    (_via("StringEqualsIgnoreCase", {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}),
     _via("StringLike", "s3.*"), "conditional"),
    # a negated Deny test: a request through S3 is not "not like *.amazonaws.com"
    (VIA_S3, _via("StringNotLike", "*.amazonaws.com"), "conditional"),
], ids=["one-value-in-the-pattern", "each-value-in-a-pattern", "pattern-in-pattern", "one-value-spared",
        "wider-allow", "if-exists", "ignore-case", "negated-deny"])
def test_a_deny_whose_test_every_allowed_request_meets_refuses_them(allow_condition, deny_condition, expected):
    """generated-14-0064 (referee seed 14): the Deny tests `StringLike kms:ViaService
    *.amazonaws.com`, the Allow `StringEquals kms:ViaService s3.<region>.amazonaws.com`;
    every request the Allow admits matches the Deny, so AWS refuses them all."""
    allow = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:Decrypt", "Resource": "*",
             "Condition": allow_condition}
    deny = {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
            "Condition": deny_condition}
    assert verdicts([allow, deny])["account:self"]["kms:Decrypt"] == expected


def test_a_multivalued_key_imposes_no_single_value():
    """A key some statement tests with a set operator has several values per request: the
    Allow's plain test says nothing of the others, which the Deny may spare."""
    allow = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:CreateGrant", "Resource": "*",
             "Condition": {"StringEquals": {"kms:GrantOperations": "Decrypt"}}}
    deny = {"Effect": "Deny", "Principal": "*", "Action": "kms:CreateGrant", "Resource": "*",
            "Condition": {"ForAnyValue:StringLike": {"kms:GrantOperations": "De*"}}}
    assert verdicts([allow, deny])["account:self"]["kms:CreateGrant"] == "conditional"


def test_an_identity_deny_with_the_allows_own_tests_refuses_everything_it_allows():
    """generated-14-0546 (referee seed 14): the user's group denies kms:ReEncrypt* under the
    very tests the key policy's Allow makes: no request the Allow admits gets through, so
    direct use is denied (it stays reachable: PutKeyPolicy is allowed)."""
    via = {"StringLike": {"kms:ViaService": "*.amazonaws.com"}}
    resources = {
        "Team": {"Type": "AWS::IAM::Group", "Properties": {"Policies": [{"PolicyName": "team", "PolicyDocument": {
            "Statement": [{"Effect": "Deny", "Action": "kms:ReEncrypt*", "Resource": "*", "Condition": via}]}}]}},
        "Member": {"Type": "AWS::IAM::User", "Properties": {"Groups": [{"Ref": "Team"}]}}}
    allow = {"Effect": "Allow", "Principal": "*", "Action": ["kms:ReEncrypt*", "kms:Decrypt"],
             "Resource": "*", "Condition": via}
    got = verdicts([allow], resources)["identity:Member"]
    assert got["kms:ReEncryptFrom"] == "denied"
    assert got["kms:Decrypt"] == "conditional"
    with_put = {**allow, "Action": ["kms:ReEncrypt*", "kms:PutKeyPolicy"]}
    assert verdicts([with_put], resources)["identity:Member"]["kms:ReEncryptFrom"] == "reachable"


def test_an_allow_the_boundary_closes_needs_no_deny_to_cancel_it():
    """generated-16-0112 (referee seed 16): the role is named unconditionally, but its
    boundary does not allow kms:GenerateDataKey; the only other route (`*` through S3) is
    refused by a Deny with the same test: denied, not conditional."""
    resources = {
        "Boundary": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {
            "Statement": [{"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"}]}}},
        "Worker": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": TRUST, "PermissionsBoundary": {"Ref": "Boundary"}}}}
    statements = [
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:GenerateDataKey*", "Resource": "*",
         "Condition": VIA_S3},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:GenerateDataKey*", "Resource": "*",
         "Condition": VIA_S3},
        {"Effect": "Allow", "Principal": {"AWS": {"Fn::GetAtt": ["Worker", "Arn"]}},
         "Action": ["kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*"}]
    got = verdicts(statements, resources)["identity:Worker"]
    assert got["kms:GenerateDataKey"] == "denied"
    assert got["kms:DescribeKey"] == "allowed"


def test_a_service_is_none_of_the_iam_principal_types():
    """aws:PrincipalType is in every request, and its values are the IAM principal types
    (Account, User, FederatedUser, AssumedRole, Anonymous): a service is not a User."""
    service = {"Service": "sns.amazonaws.com"}
    got = verdicts([{"Effect": "Allow", "Principal": service, "Action": "kms:PutKeyPolicy", "Resource": "*",
                     "Condition": {"StringEquals": {"aws:PrincipalType": "User"}}},
                    {"Effect": "Allow", "Principal": service, "Action": "kms:DescribeKey", "Resource": "*",
                     "Condition": {"StringNotEquals": {"aws:PrincipalType": "User"}}}])
    got = got["service:sns.amazonaws.com"]
    assert got["kms:PutKeyPolicy"] == "denied" and got["kms:Decrypt"] == "denied"
    assert got["kms:DescribeKey"] == "allowed"


@pytest.mark.parametrize("principal, types, expected", [
    ("arn:aws:iam::${AWS::AccountId}:role/Outside", ["AssumedRole"], "allowed"),
    ("arn:aws:iam::${AWS::AccountId}:role/Outside", ["User"], "denied"),
    ("arn:aws:iam::${AWS::AccountId}:user/Alice", ["User"], "allowed"),
])
def test_a_named_role_calls_as_an_assumed_role_session(principal, types, expected):
    """A role acts through its sessions: aws:PrincipalType is AssumedRole for it, User for
    an IAM user (IAM User Guide, global condition context keys, aws:PrincipalType)."""
    got = verdicts([{"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": principal}}, "Action": "kms:Decrypt",
                     "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalType": types}}}])
    [sid] = [s for s in got if s.startswith(("role:", "user:"))]
    assert got[sid]["kms:Decrypt"] == expected


def _narrowed_to(pattern: str) -> dict:
    return {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {"ArnLike": {"aws:PrincipalArn": {"Fn::Sub": pattern}}}}


FUNCTION_ROLE = {"Role": {"Type": "AWS::IAM::Role", "Properties": {
    "AssumeRolePolicyDocument": TRUST,
    "Policies": [{"PolicyName": "use", "PolicyDocument": {"Statement": [
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}}]}}}


@pytest.mark.parametrize("pattern,others", [
    # CloudFormation names the unnamed role <stack>-Role-<suffix>: those names are its
    ("arn:aws:iam::${AWS::AccountId}:role/${AWS::StackName}-Role-*", "denied"),
    # every role whose name starts with the stack's name: others of the account may match
    ("arn:aws:iam::${AWS::AccountId}:role/${AWS::StackName}-*", "conditional"),
])
def test_the_account_narrowed_to_a_generated_role_name_reaches_only_that_role(pattern, others):
    got = verdicts([_narrowed_to(pattern)], FUNCTION_ROLE)
    assert got["identity:Role"]["kms:Decrypt"] == "allowed"
    assert got["account:self"]["kms:Decrypt"] == others


def test_a_literal_id_of_the_own_account_delegates_to_the_stacks_own_principals():
    """A key policy naming the stack's account by its literal ID (config `accounts`, a CDK
    stack's environment) delegates to the template's roles as `${AWS::AccountId}` would."""
    doc = {"Resources": {**FUNCTION_ROLE, "Key": {"Type": "AWS::KMS::Key", "Properties": {
        "KeyPolicy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*",
             "Resource": "*"}]}}}}}
    bits = catalog.key_action_bits()
    for config, expected in (({"accounts": ["111122223333"]}, True), ({}, False)):
        access = normalize(doc, "template.json", {}, config).input["keys"]["Key"]["access"]
        assert bool(access["identity:Role"]["allowed"] & bits["kms:Decrypt"]) is expected
        assert bool(access["account:self"]["allowed"] & bits["kms:Decrypt"]) is expected


APP_ROLES = {"StringLike": {"aws:PrincipalArn": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/App*"}}}
OPS_ROLES = {"StringLike": {"aws:PrincipalArn": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/Ops*"}}}


@pytest.mark.parametrize("deny_condition, expected", [(APP_ROLES, "denied"), (OPS_ROLES, "reachable")],
                         ids=["denied-to-every-granter", "denied-to-others"])
def test_a_grant_keeps_the_deny_that_refuses_every_caller_able_to_create_it(deny_condition, expected):
    """generated-18-2649 (referee seed 18): only App* roles may CreateGrant (through "*"),
    and a Deny refuses DescribeKey to App* roles; a grant keeps the key policy's Denies, so
    no caller gets DescribeKey that way (was `reachable`)."""
    allow = {"Effect": "Allow", "Principal": "*", "Action": "kms:CreateGrant", "Resource": "*",
             "Condition": APP_ROLES}
    deny = {"Effect": "Deny", "Principal": {"AWS": ROOT}, "Action": "kms:DescribeKey", "Resource": "*",
            "Condition": deny_condition}
    assert verdicts([allow, deny])["account:self"]["kms:DescribeKey"] == expected


@pytest.mark.parametrize("operator, expected", [
    ("StringEquals", "denied"),
    ("StringLike", "conditional"),  # the value may be a pattern, `*` even
    ("StringNotEquals", "allowed"),  # a stranger's organization is never the one it names
], ids=["equals", "like", "not-equals"])
def test_a_parameter_without_a_value_names_no_strangers_organization(operator, expected):
    """sweep: `*` with `StringEquals aws:PrincipalOrgID !Ref OrganizationId` (no value
    given) admits the members of the organization the parameter names, whatever it is;
    a stranger is in an organization the template never names (was a false KP005)."""
    doc = {"Parameters": {"OrganizationId": {"Type": "String"}}, "Resources": {"Key": {
        "Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {operator: {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}}]}}}}}
    access = normalize(doc, "template.json", {}).input["keys"]["Key"]["access"]["*"]
    bit = catalog.key_action_bits()["kms:Decrypt"]
    got = next((v for v in ("allowed", "conditional", "unknown") if access.get(v, 0) & bit), "denied")
    assert got == expected


def test_allows_that_between_them_admit_every_case_of_an_open_fact_allow():
    """generated-19-2225 (referee seed 19): for principals of another account, one Allow
    admits callers without an organization or in o-a1b2c3d4e5 (`StringEqualsIfExists`),
    another every caller in some organization (`Null … false`): every request is allowed
    (was conditional)."""
    partner = {"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "kms:Decrypt", "Resource": "*",
               "Condition": {"Null": {"aws:PrincipalOrgID": "false"}}}
    anyone = {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
              "Condition": {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}
    assert verdicts([anyone, partner])["account:444455556666"]["kms:Decrypt"] == "allowed"
    # without the second Allow, callers of another organization are refused
    assert verdicts([anyone, {**partner, "Action": "kms:Encrypt"}])["account:444455556666"]["kms:Decrypt"] \
        == "conditional"


def test_a_self_grant_only_unseen_policies_would_accept_is_unknown_not_reachable():
    """generated-20-2112 (referee seed 20): a role the template names but does not define
    may CreateGrant by name only for a grant of Decrypt alone; any other grant goes through
    the account delegation, which its unseen IAM policies decide: unknown, not reachable."""
    outside = {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/Outside"}
    named = {"Effect": "Allow", "Principal": {"AWS": outside}, "Action": ["kms:ReEncrypt*", "kms:CreateGrant"],
             "Resource": "*", "Condition": {"ForAllValues:StringEquals": {"kms:GrantOperations": "Decrypt"}}}
    delegation = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}
    got = verdicts([named, delegation])["role:self:Outside"]
    assert got["kms:Encrypt"] == "unknown"
    assert got["kms:Decrypt"] == "reachable"


@pytest.mark.parametrize("inside, outside", [
    ({"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}}, {"NotIpAddress": {"aws:SourceIp": "198.51.100.0/24"}}),
    ({"StringLike": {"aws:SourceVpce": "vpce-1*"}}, {"StringNotLikeIfExists": {"aws:SourceVpce": "vpce-1*"}}),
    ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
     {"NumericGreaterThan": {"aws:MultiFactorAuthAge": "7200"}}),
])
def test_allows_with_complementary_tests_of_one_value_allow(inside, outside):
    """generated-20-4808 (referee seed 20): one Allow admits requests from a range, another
    those from outside it (the negated operator also admits requests without the key): every
    request is allowed (was conditional). Tests that are not complementary stay conditional."""
    first = {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": inside}
    second = {**first, "Condition": outside}
    expected = "conditional" if "NumericGreaterThan" in outside else "allowed"  # 3600-7200 and absent: refused
    got = verdicts([first, second])
    assert got["*"]["kms:Decrypt"] == expected
    assert got["account:self"]["kms:Decrypt"] == expected
    assert verdicts([first])["*"]["kms:Decrypt"] == "conditional"


@pytest.mark.parametrize("deny_operator, expected", [
    ("StringEqualsIfExists", "denied"),  # applies wherever the Allow does
    ("StringEquals", "conditional"),  # a request without the key is allowed
])
def test_an_identity_deny_applying_wherever_its_allow_does_refuses_in_every_case(deny_operator, expected):
    """generated-22-4148 (referee seed 22): a managed policy allows kms:Decrypt under
    `StringEqualsIfExists aws:PrincipalOrgID`, an inline policy denies it under the same
    test. Without the key both apply, with the value both apply, with another value neither:
    never allowed (was conditional: each statement alone is unknown on an open fact)."""
    test = {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}
    key_arn = {"Fn::Sub": "arn:aws:kms:${AWS::Region}:${AWS::AccountId}:key/${Key}"}
    allow = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn,
             "Condition": {"StringEqualsIfExists": test}}
    deny = {**allow, "Effect": "Deny", "Condition": {deny_operator: test}}
    resources = {
        "Allowing": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {"Statement": [allow]}}},
        "App": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": TRUST, "ManagedPolicyArns": [{"Ref": "Allowing"}],
            "Policies": [{"PolicyName": "deny", "PolicyDocument": {"Statement": [deny]}}]}}}
    got = verdicts([{"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}],
                   resources)["identity:App"]
    assert got["kms:Decrypt"] == expected


def test_star_scoped_to_an_organization_admits_its_other_accounts():
    """`*` with `StringEquals aws:PrincipalOrgID` admits the principals of every account of
    that organization: a row of its own (was no row: the `*` row, a stranger in no named
    organization, said denied). Its IAM policies are not in the template; across accounts
    only the cryptographic and grant operations work."""
    org = {"Effect": "Allow", "Principal": "*", "Action": ["kms:Decrypt", "kms:DisableKey"], "Resource": "*",
           "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}
    got = verdicts([org])
    assert got["organization:o-a1b2c3d4e5"]["kms:Decrypt"] == "allowed"
    assert got["organization:o-a1b2c3d4e5"]["kms:DisableKey"] == "denied"  # not across accounts
    assert got["*"]["kms:Decrypt"] == "denied"
    deny_others = {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
                   "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-f6g7h8i9j0"}}}
    assert verdicts([org, deny_others])["organization:o-a1b2c3d4e5"]["kms:Decrypt"] == "denied"


def test_an_escalation_only_possible_where_a_deny_of_its_gain_applies_reaches_nothing():
    """generated-24-0788 (referee seed 24): the role may PutKeyPolicy only in organization
    o-a1b2c3d4e5, and an identity-policy Deny of kms:CreateGrant and kms:List* applies
    exactly there: rewriting the key policy cannot give it those (a key policy cannot lift
    an identity-policy Deny). Outside the organization it cannot rewrite the policy at all.
    Was reachable: each condition alone is open."""
    test = {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
    put = {"Effect": "Allow", "Action": "kms:PutKeyPolicy", "Resource": "*", "Condition": test}
    deny = {"Effect": "Deny", "Action": ["kms:CreateGrant", "kms:List*"], "Resource": "*", "Condition": test}
    resources = {"App": {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": TRUST,
        "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [put, deny]}}]}}}
    got = verdicts([{"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}],
                   resources)["identity:App"]
    assert got["kms:PutKeyPolicy"] == "conditional"
    assert got["kms:CreateGrant"] == "denied"
    assert got["kms:ListGrants"] == "denied"
    assert got["kms:Decrypt"] == "reachable"  # not denied: in the organization it can give itself that
