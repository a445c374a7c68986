"""The referee (tests/oracle, issue 12): kmspolicy's access verdicts against iam-simulate.

A bounded batch: every example and a few generated templates. Fails on any disagreement
not explained in tests/oracle/exceptions.yaml. Skips with the reason when the node
dependencies are missing (`make oracle-deps`), except under CI=true, where it fails.
`make oracle N=...` runs the full comparison (examples, corpus, N generated templates).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.oracle import exceptions, referee
from tests.oracle.run import details, example_templates, generated_templates
from tests.oracle.session import run

GENERATED = 40  # with the examples ≈ 110,000 requests, ≈ 25 s on 2 loaded cores (12 took 84 s before the speed-up)


@pytest.fixture(scope="module")
def oracle_ready():
    why = referee.missing()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the oracle cannot run under CI: {why}")
        pytest.skip(f"oracle not run: {why}")


ROOT = Path(__file__).resolve().parents[1]


def test_the_product_never_uses_the_referee():
    """iam-simulate is AGPL-3.0: test-only, never imported or shipped by the product."""
    for package in ("kmspolicy", "bridge", "cli", "policies"):
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and path.suffix in (".py", ".rego", ".json", ".toml", ".cfg"):
                text = path.read_text(encoding="utf-8", errors="replace")
                assert "tests.oracle" not in text and "iam-simulate" not in text, path


def test_exceptions_file_is_well_formed():
    for entry in exceptions.load():
        assert entry["wrong"] in ("kmspolicy", "referee")


def test_referee_catches_a_wrong_verdict(oracle_ready, tmp_path):
    """The comparison can fail: a default key policy gives an unknown role of the account
    every key action (with its IAM side allowing it), so a `denied` there disagrees."""
    from tests.oracle import cells, compare
    template = tmp_path / "template.json"
    template.write_text('{"Resources": {"Key": {"Type": "AWS::KMS::Key"}}}', encoding="utf-8")
    report = run([(str(template), None)], explain_limit=0)
    assert report.outcomes["agree"] > 0
    assert compare.compare("denied", "allowed", "account", True).status == "disagree"
    assert cells.GRANT_OPERATIONS  # the escalation check has its operations


def test_no_unexplained_disagreement(oracle_ready):
    entries = exceptions.load()
    with tempfile.TemporaryDirectory(prefix="kmspolicy-oracle-") as tmp:
        paths = example_templates() + generated_templates(GENERATED, Path(tmp))
        report = run([(p, None) for p in paths], explain_limit=1)
    assert report.requests > 0
    unexplained = [d for d in report.disagreements if not exceptions.explained(entries, d)]
    if unexplained:
        shown = type(report)(disagreements=unexplained)
        pytest.fail(f"{len(unexplained)} disagreements with the referee "
                    f"({report.templates} scenarios, {report.requests} requests); see "
                    f"tests/oracle/FINDINGS.md\n" + details(shown, 1)[:20000])


def test_equivalent_actions_share_a_representative_only_when_no_statement_tells_them_apart():
    from tests.oracle.equivalent import DATA, Canonicalizer
    if not DATA.exists():
        pytest.skip("iam-data is installed with the oracle's node dependencies")
    policy = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Disable*", "Resource": "*"},
                            {"Effect": "Deny", "Principal": "*", "NotAction": "kms:DisableKey", "Resource": "*"}]}

    def sim(action):
        return {"request": {"action": action}, "resourcePolicy": policy, "identityPolicies": []}

    canonical = Canonicalizer()
    # iam-data records CancelKeyDeletion, EnableKey and DisableKeyRotation alike; the
    # policy's statements tell DisableKeyRotation (kms:Disable*) from the other two
    assert canonical.action_for(sim("kms:EnableKey")) == canonical.action_for(sim("kms:CancelKeyDeletion"))
    assert canonical.action_for(sim("kms:DisableKeyRotation")) != canonical.action_for(sim("kms:EnableKey"))
    # DisableKey is alone in what the NotAction spares
    assert canonical.action_for(sim("kms:DisableKey")) == "kms:DisableKey"
    assert canonical.canonical(sim("kms:DisableKey")) == sim("kms:DisableKey")


def test_every_deployable_variant_is_refereed(oracle_ready):
    """examples/variants/lockout-default-branch: Stage dev and prod are two scenarios, each
    deployed by the referee with the value its own resolver confirms."""
    report = run([("examples/variants/lockout-default-branch/template.yaml", None)], explain_limit=0)
    assert (report.sources, report.templates) == (1, 2)
    assert report.outcomes["agree"] > 0 and not report.disagreements


def test_a_context_key_no_policy_names_is_left_out():
    """iam-simulate reads the request context only in conditions and policy variables."""
    from tests.oracle.equivalent import Canonicalizer
    policy = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
                             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}}}]}
    context = {"aws:PrincipalTag/team": "a", "aws:username": "a", "aws:SourceIp": "203.0.113.7",
               "kms:EncryptionContext:app": "x"}
    sim = {"request": {"action": "kms:Decrypt", "contextVariables": context},
           "resourcePolicy": policy, "identityPolicies": []}
    kept = Canonicalizer().canonical(sim)["request"]["contextVariables"]
    # kms:EncryptionContext:<key> stays: whether iam-simulate ignores it is read back
    assert kept == {"aws:PrincipalTag/team": "a", "aws:username": "a", "kms:EncryptionContext:app": "x"}


def test_policies_sent_by_number_decide_as_whole_simulations(oracle_ready):
    """simulate.mjs's two input forms give the same answers, and what it remembers
    (ORACLE_NO_MEMO) changes no answer."""
    import json
    import subprocess

    from tests.oracle.referee import HERE, SCRIPT, simulate
    key_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}}]}
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
    sims = [{"request": {"principal": "arn:aws:iam::111122223333:user/u", "action": action,
                         "resource": {"resource": "arn:aws:kms:us-east-1:111122223333:key/k",
                                      "accountId": "111122223333"},
                         "contextVariables": context},
             "identityPolicies": [{"name": "p0", "policy": allow}], "serviceControlPolicies": [],
             "resourceControlPolicies": [], "resourcePolicy": key_policy}
            for action in ("kms:Decrypt", "kms:Encrypt") for context in ({}, {"aws:PrincipalOrgID": "o-abc"})]
    lines = "".join(json.dumps({"id": n, "simulation": s}) + "\n" for n, s in enumerate(sims))
    untouched = subprocess.run(["node", str(SCRIPT)], input=lines, capture_output=True, text=True, cwd=HERE,
                               check=True, env={**os.environ, "ORACLE_NO_MEMO": "1"})
    expected = [json.loads(line) for line in untouched.stdout.splitlines()]
    assert [e["decision"] for e in expected] == ["ExplicitlyDenied", "Allowed", "Allowed", "Allowed"]
    assert simulate(sims) == expected


def test_a_stranger_grants_itself_nothing_in_an_organization_the_template_names(oracle_ready, tmp_path):
    """generated-15-0132: `*` may CreateGrant only inside a named organization path; "anyone"
    is in no organization the template names, in its self-grants too (was `reachable`)."""
    import json
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:CreateGrant", "kms:Get*"], "Resource": "*",
         "Condition": {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/ou-*"}}}]}
    template = tmp_path / "template.json"
    template.write_text(json.dumps({"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {
        "KeyPolicy": policy}}}}), encoding="utf-8")
    report = run([(str(template), None)], explain_limit=0, keep_cells=True)
    decrypt = next(c for c in report.cells if c["subject"] == "*" and c["action"] == "kms:Decrypt")
    assert (decrypt["kmspolicy"], decrypt["referee"]) == ("denied", "denied")
    assert not report.disagreements


def _key_template(tmp_path, statements: list[dict]) -> str:
    import json
    template = tmp_path / "template.json"
    template.write_text(json.dumps({"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {
        "KeyPolicy": {"Version": "2012-10-17", "Statement": statements}}}}}), encoding="utf-8")
    return str(template)


def test_a_service_is_tried_for_the_source_arns_its_own_statement_names(oracle_ready, tmp_path):
    """generated-15-0403 (the logs/SNS class): a statement naming logs.… with `ArnLike
    aws:SourceArn arn:aws:sns:…`. AWS documents no resource types per service principal, so
    the service acting for that topic is a request the referee asks (was: only an ARN of its
    own name's namespace, and the cell was `denied` where kmspolicy said `conditional`)."""
    template = _key_template(tmp_path, [
        {"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Action": "kms:DescribeKey",
         "Resource": "*", "Condition": {"ArnLike": {"aws:SourceArn": {
             "Fn::Sub": "arn:aws:sns:${AWS::Region}:${AWS::AccountId}:*"}}}}])
    report = run([(template, None)], explain_limit=0, keep_cells=True)
    cell = next(c for c in report.cells if c["subject"].startswith("service:") and c["action"] == "kms:DescribeKey")
    assert (cell["kmspolicy"], cell["referee"]) == ("conditional", "conditional")


def test_the_keys_one_statement_tests_together_are_tried_together_first():
    """generated-17-0530: with nine callers, the context setting kms:ViaService and
    kms:GrantOperations together came after 64 requests of one-key contexts."""
    from tests.oracle import contexts
    statement = {"Effect": "Allow", "Principal": "*", "Action": "kms:CreateGrant", "Resource": "*",
                 "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
                               "ForAnyValue:StringEquals": {"kms:GrantOperations": ["Decrypt"]}}}
    other = {"Effect": "Allow", "Principal": "*", "Action": "kms:CreateGrant", "Resource": "*",
             "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "60"},
                           "IpAddress": {"aws:SourceIp": "198.51.100.0/24"}}}
    keys = contexts.condition_keys([{"Statement": [statement, other]}])
    groups = [contexts.condition_keys([{"Statement": [st]}]) for st in (statement, other)]
    got = contexts.variants(keys, groups=groups)
    assert got[:2] == [{}, {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:GrantOperations": ["Decrypt"]}]


def test_a_statements_own_context_meets_its_numeric_and_date_tests():
    """generated-19-2055: `NumericLessThan aws:MultiFactorAuthAge 3600` is not met by 3600."""
    from tests.oracle import contexts
    statement = {"Effect": "Allow", "Principal": "*", "Action": "kms:PutKeyPolicy", "Resource": "*",
                 "Condition": {"StringLike": {"kms:ViaService": "*.amazonaws.com"},
                               "NumericLessThan": {"aws:MultiFactorAuthAge": "3600"},
                               "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}}
    (ctx,) = contexts.together([contexts.condition_keys([{"Statement": [statement]}])])
    assert ctx == {"kms:ViaService": "x.amazonaws.com", "aws:MultiFactorAuthAge": "3599",
                   "aws:CurrentTime": "2100-01-01T00:00:00Z"}
