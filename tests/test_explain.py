"""`kmspolicy explain`: the seed's question answered in order, the evidence chain of every
key x principal of every example against golden files, and principal resolution."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kmspolicy.bridge import schema
from kmspolicy.bridge.access.report import AccessAnalyzer, AccessError
from kmspolicy.cli.explain_cmd import render_explanation
from kmspolicy.cli.main import main

from .conftest import ROOT
from .test_access import GOLDEN, SEED, TEMPLATES, check_golden, golden_name, parameters_of


@pytest.fixture(autouse=True)
def in_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def run(*args):
    return CliRunner().invoke(main, list(args))


def seed_explain(principal: str, action: str | None = None):
    return AccessAnalyzer().explain(SEED, "KmsKey", principal, action)


# --- the seed's question ----------------------------------------------------------------

def test_signup_function_encrypt_is_the_delegation_plus_its_sam_policy():
    result = run("explain", SEED, "--key", "KmsKey", "--principal", "SignupFunction", "--action", "kms:Encrypt")
    assert result.exit_code == 0, result.output
    text = result.output
    delegation = text.index('statement "Enable IAM User Permissions" (account delegation)')
    frame = text.index("examples/seed/template.yaml:23:18")
    sam = text.index("SAM policy template KMSEncryptPolicy in SignupFunction's Policies, given to its "
                     "implicit role SignupFunctionRole")
    item = text.index("examples/seed/template.yaml:86:")
    expansion = text.index("KMSEncryptPolicy expands to:")
    no_part = text.index('statement "Allow use of the key" (line 47) grants kms:Encrypt to '
                         "arn:aws:iam::${AWS::AccountId}:user/${KeyUser}, not to SignupFunction.")
    verdict = text.index("Verdict: allowed (bilateral: key-policy delegation + identity policy)")
    assert delegation < frame < sam < item < expansion < no_part < verdict
    assert "Plays no part for SignupFunction:" in text
    assert "23 |             AWS: !Sub arn:aws:iam::${AWS::AccountId}:root" in text
    assert "86 |        - KMSEncryptPolicy:" in text
    assert "Action: kms:Encrypt" in text and "Ref: KmsKey" in text
    check_golden(GOLDEN / "seed.explain-SignupFunction-Encrypt.txt", text)


def test_signup_function_encrypt_evidence_model():
    x = seed_explain("SignupFunction", "kms:Encrypt")
    cell = x.cells["kms:Encrypt"]
    assert cell.verdict == "allowed" and cell.bilateral
    key, identity = cell.grants
    assert (key.role, key.sid, key.anchor.line) == ("delegation", "Enable IAM User Permissions", 23)
    assert (identity.role, identity.identity, identity.origin["template"]) == \
        ("identity", "SignupFunctionRole", "KMSEncryptPolicy")
    assert identity.anchor.line == 86
    assert [(u.sid, u.anchor.line) for u in cell.unrelated] == [("Allow use of the key", 47)]
    assert x.subject.owner == "SignupFunction"


def test_admin_decrypt_is_reachable_through_two_escalation_steps():
    result = run("explain", SEED, "--key", "KmsKey", "--principal",
                 "arn:aws:iam::${AWS::AccountId}:user/${KeyAdmin}", "--action", "Decrypt")
    assert result.exit_code == 0, result.output
    assert "Escalation: CreateGrant allowed by `kms:Create*` at line 31 → may grant itself kms:Decrypt" in result.output
    assert ("Escalation: PutKeyPolicy allowed by `kms:Put*` at line 35 → may rewrite the key policy to "
            "allow itself kms:Decrypt") in result.output
    assert "Verdict: reachable" in result.output
    check_golden(GOLDEN / "seed.explain-KeyAdmin-Decrypt.txt", result.output)


def test_login_function_cannot_encrypt_and_says_what_is_missing():
    cell = seed_explain("LoginFunction", "kms:Encrypt").cells["kms:Encrypt"]
    assert cell.verdict == "denied" and not cell.grants
    assert [i.sid for i in cell.incomplete] == ["Enable IAM User Permissions"]
    text = render_explanation(seed_explain("LoginFunction", "kms:Encrypt"))
    assert "delegates kms:Encrypt to the account, but no identity policy of LoginFunction allows it" in text


def test_without_action_every_capability_is_explained():
    x = seed_explain("account")
    assert list(x.cells) == ["use", "manage", "permissions", "read"]
    assert all(c.verdict == "allowed" for c in x.cells.values())
    schema.validate(x.to_json(), "access-v1")


# --- principal resolution --------------------------------------------------------------

@pytest.mark.parametrize("principal, subject", [
    ("SignupFunction", "identity:SignupFunctionRole"),
    ("SignupFunctionRole", "identity:SignupFunctionRole"),
    ("identity:SignupFunctionRole", "identity:SignupFunctionRole"),
    ("account", "account:self"),
    ("arn:aws:iam::${AWS::AccountId}:user/${KeyUser}", "user:self:${KeyUser}"),
    ("arn:aws:iam::${AWS::AccountId}:root", "account:self"),
    ("*", "*"),
    ("arn:aws:iam::111122223333:role/Partner", "role:111122223333:Partner"),
    ("444455556666", "account:444455556666"),
])
def test_principal_forms(principal, subject):
    assert seed_explain(principal).subject.id == subject


def test_a_principal_nothing_names_is_denied_everything():
    x = seed_explain("arn:aws:iam::111122223333:role/Partner")
    assert {c.verdict for c in x.cells.values()} == {"denied"}
    assert all(not c.grants for c in x.cells.values())


def test_unknown_principal_lists_valid_names():
    result = run("explain", SEED, "--key", "KmsKey", "--principal", "Nobody")
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("kmspolicy: error: unknown principal 'Nobody' for key KmsKey (valid: ")
    for name in ("SignupFunction", "LoginFunction", "account", "*", "arn:aws:iam::${AWS::AccountId}:user/${KeyAdmin}"):
        assert name in line


@pytest.mark.parametrize("args, message", [
    (["--key", "Nope", "--principal", "account"], "unknown key 'Nope' (keys in examples/seed/template.yaml: KmsKey)"),
    (["--key", "KmsKey", "--principal", "account", "--action", "kms:Frobnicate"],
     "'kms:Frobnicate' is not a KMS action"),
    (["--key", "KmsKey", "--principal", "account", "--action", "kms:CreateKey"], "is not a KMS action on a key"),
])
def test_bad_arguments_are_one_line_exit_2(args, message):
    result = run("explain", SEED, *args)
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert message in line


def test_unknown_key_raises_access_error():
    with pytest.raises(AccessError):
        AccessAnalyzer().explain(SEED, "Other", "account")


def test_json_format_is_the_contract():
    result = run("explain", SEED, "--key", "KmsKey", "--principal", "SignupFunction", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    schema.validate(doc, "access-v1")
    assert doc["kind"] == "explain" and set(doc["cells"]) == {"use", "manage", "permissions", "read"}


# --- every example ---------------------------------------------------------------------

def chain(x) -> list[str]:
    """One explanation as lines: per capability the verdict, then each piece of evidence
    as role, policy and statement, line and what it gives."""
    def ref(e) -> str:
        where = "key" if e.policy == "key" else e.identity
        name = (e.origin or {}).get("template") or e.sid
        line = e.anchor.line if e.anchor else "-"
        return f"{e.role} {where}#{e.statement} {name!r} L{line}"

    def cells(found: dict, prefix: str = "") -> list[str]:
        out = []
        for name, cell in found.items():
            out.append(f"{prefix}{name}: {cell.verdict} {', '.join(cell.actions)}".rstrip())
            out += [f"  {ref(e)}: {', '.join(e.actions)}" for e in cell.grants + cell.denies]
            out += [f"  escalation {p.action} via {ref(p.via)} -> {len(p.gains)} actions" for p in cell.escalation]
            out += [f"  {ref(e)}: {', '.join(e.actions)}" for e in cell.incomplete + cell.unrelated]
        return out

    out = cells(x.cells)
    for part in x.scenarios:  # cells that differ between deployable variants
        out += cells(part.cells, f"[{part.when}] ")
    return out


@pytest.mark.parametrize("template", TEMPLATES)
def test_explain_chains_match_golden(template):
    chains: dict = {}
    for x in AccessAnalyzer(parameters_of(template)).explain_all(template):
        schema.validate(x.to_json(), "access-v1")
        chains.setdefault(x.key, {})[x.subject.id] = chain(x)
        for cap, cell in x.cells.items():
            if cell.verdict == "allowed":
                assert any(g.policy == "key" for g in cell.grants), (template, x.key, x.subject.id, cap)
        assert render_explanation(x).count("Verdict: ") == len(x.cells) + sum(len(p.cells) for p in x.scenarios)
        assert all(set(x.cells).isdisjoint(p.cells) for p in x.scenarios)
    check_golden(GOLDEN / f"{golden_name(template)}.explain.json",
                 json.dumps(chains, indent=2, ensure_ascii=False) + "\n")


# --- per deployable scenario ------------------------------------------------------------

LOCKOUT = "examples/variants/lockout-default-branch/template.yaml"
ADMIN = "arn:aws:iam::${AWS::AccountId}:role/key-admin"


def test_cells_that_differ_are_explained_per_scenario():
    x = AccessAnalyzer().explain(LOCKOUT, "DataKey", ADMIN, "kms:PutKeyPolicy")
    assert x.cells == {}
    verdicts = [(part.when, part.cells["kms:PutKeyPolicy"].verdict) for part in x.scenarios]
    assert verdicts == [("only when IsProd is true", "allowed"), ("only when IsProd is false", "denied")]
    schema.validate(x.to_json(), "access-v1")
    text = render_explanation(x)
    assert text.index("-- only when IsProd is true --") < text.index("Verdict: allowed") < \
        text.index("-- only when IsProd is false --") < text.index("Verdict: denied")


def test_cells_every_scenario_agrees_on_are_explained_once():
    x = AccessAnalyzer().explain(LOCKOUT, "DataKey", "arn:aws:iam::${AWS::AccountId}:role/app", "Decrypt")
    assert x.scenarios == [] and x.cells["kms:Decrypt"].verdict == "allowed"


def test_scenario_option_explains_one_variant():
    result = run("explain", LOCKOUT, "--key", "DataKey", "--principal", ADMIN, "--action", "PutKeyPolicy",
                 "--scenario", "IsProd=false", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert "scenarios" not in doc and doc["cells"]["kms:PutKeyPolicy"]["verdict"] == "denied"


def test_a_grant_to_another_account_by_the_key_policy_says_its_iam_policies_must_allow_too(tmp_path):
    """Across accounts both sides must allow: `*` scoped to another account or to an
    organization is not "the key policy alone"; a template identity is."""
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy:\n        Statement:\n"
        "          - {Effect: Allow, Principal: '*', Action: kms:Encrypt, Resource: '*',\n"
        "             Condition: {StringEquals: {kms:CallerAccount: '777788889999'}}}\n"
        "          - {Effect: Allow, Principal: '*', Action: kms:Decrypt, Resource: '*',\n"
        "             Condition: {StringEquals: {aws:PrincipalOrgID: o-a1b2c3d4e5}}}\n"
        "          - {Effect: Allow, Principal: {AWS: !GetAtt Role.Arn}, Action: kms:ReEncryptFrom, Resource: '*'}\n"
        "  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {Statement: []}\n")
    both = "Verdict: allowed (the key policy, and IAM policies of the caller's account: across accounts both must allow"
    for principal in ("account:777788889999", "organization:o-a1b2c3d4e5"):
        result = run("explain", str(template), "--key", "Key", "--principal", principal, "--action",
                     "kms:Encrypt" if principal.startswith("account") else "kms:Decrypt")
        assert result.exit_code == 0, result.output
        assert both in result.output
    result = run("explain", str(template), "--key", "Key", "--principal", "Role", "--action", "kms:ReEncryptFrom")
    assert "Verdict: allowed (the key policy alone)" in result.output, result.output


def test_an_action_the_key_cannot_perform_is_explained_as_such(tmp_path):
    """kms:Sign on a symmetric key: no policy makes it work, and the statement granting it
    to the role is not "for someone else"."""
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy:\n        Statement:\n"
        "          - {Effect: Allow, Principal: {AWS: !GetAtt Role.Arn}, Action: [kms:Sign, kms:Decrypt], "
        "Resource: '*'}\n"
        "  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {Statement: []}\n")
    result = run("explain", str(template), "--key", "Key", "--principal", "Role", "--action", "kms:Sign")
    assert result.exit_code == 0, result.output
    assert "Verdict: denied" in result.output
    assert "not to Role" not in result.output
    assert ("note: kms:Sign is not an operation of Key (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT): "
            "AWS refuses it whatever the policies say") in result.output
