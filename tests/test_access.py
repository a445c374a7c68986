"""`kmspolicy access`: the matrix of every example against its golden file, the rule of
thumb on every cell, per-scenario rows, key-type denominators, and the
text/markdown/dot/json renderers.

Regenerate the golden files after an intended change with
`KMSPOLICY_UPDATE_GOLDEN=1 python -m pytest tests/test_access.py tests/test_explain.py`
and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmspolicy.bridge import schema
from kmspolicy.bridge.access.report import AccessAnalyzer
from kmspolicy.cli.access_render import render_dot, render_markdown, render_text
from kmspolicy.cli.main import main

from .conftest import EXAMPLES, ROOT

GOLDEN = Path(__file__).parent / "golden" / "access"
SEED = "examples/seed/template.yaml"
TEMPLATES = sorted(p.relative_to(ROOT).as_posix() for p in EXAMPLES.rglob("template.*")
                   if p.suffix in (".yaml", ".yml", ".json"))


def golden_name(template: str) -> str:
    return "-".join(Path(template).parent.relative_to("examples").parts)


def parameters_of(template: str) -> dict[str, str]:
    """The -p KEY=VALUE arguments an example's expected.json runs it with."""
    expected = ROOT / Path(template).parent / "expected.json"
    args = json.loads(expected.read_text()).get("args", []) if expected.exists() else []
    pairs = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-p", "--parameter")]
    return dict(pair.partition("=")[::2] for pair in pairs)


def without_tool(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "tool"}


def check_golden(path: Path, actual: str) -> None:
    if os.environ.get("KMSPOLICY_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with KMSPOLICY_UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} differs from the golden file"


@pytest.fixture(autouse=True)
def in_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def reports():
    cache: dict = {}

    def report(template: str):
        if template not in cache:
            cache[template] = AccessAnalyzer(parameters_of(template)).report(template)
        return cache[template]

    return report


def test_every_example_is_covered():
    assert SEED in TEMPLATES and len(TEMPLATES) >= 6


@pytest.mark.parametrize("template", TEMPLATES)
def test_access_matches_golden(template, reports):
    doc = reports(template).to_json()
    schema.validate(doc, "access-v1")
    assert doc["errors"] == [] or "variants" in template  # some variants are errors by design
    check_golden(GOLDEN / f"{golden_name(template)}.json",
                 json.dumps(without_tool(doc), indent=2, ensure_ascii=False) + "\n")


@pytest.mark.parametrize("template", TEMPLATES)
def test_rule_of_thumb(template, reports):
    """Every allowed cell has a key-policy statement; every bilateral one (a delegation to
    a template identity) also the identity-policy statement completing it."""
    for key in reports(template).keys:
        for row in key.rows:
            for cap, cell in row.cells.items():
                where = (template, key.id, row.subject.id, cap)
                if cell.verdict == "allowed":
                    assert any(g.policy == "key" and g.anchor for g in cell.grants), where
                if cell.bilateral and row.subject.kind == "identity" and cell.verdict in ("allowed", "conditional"):
                    assert any(g.policy == "identity" and g.anchor for g in cell.grants), where
                if cell.verdict == "unknown":  # unseen content behind a delegation or a grant
                    assert any(g.policy == "key" and g.anchor for g in cell.grants) or cell.escalation \
                        or not cell.grants, where
                if cell.verdict == "reachable":
                    assert cell.escalation and all(p.via.patterns for p in cell.escalation), where
                assert all(line >= 1 for line in cell.lines()), where


# --- the seed ---------------------------------------------------------------------------

def test_seed_answers_the_question(reports):
    """The Lambdas use the key through the account delegation (line 23) and their SAM
    policy templates (lines 86, 88, 111); the KeyUser statement is not among them."""
    key = reports(SEED).keys[0]
    rows = {row.subject.id: row for row in key.rows}
    signup = rows["identity:SignupFunctionRole"].cells["use"]
    assert (signup.verdict, signup.actions, signup.lines()) == ("allowed", ["kms:Decrypt", "kms:Encrypt"], [23, 86, 88])
    assert rows["identity:LoginFunctionRole"].cells["use"].lines() == [23, 111]
    admin = rows["user:self:${KeyAdmin}"]
    assert admin.cells["use"].verdict == "reachable"
    assert {p.action for p in admin.cells["use"].escalation} == {"kms:CreateGrant", "kms:PutKeyPolicy"}
    assert admin.cells["manage"].verdict == "allowed"
    assert rows["account:self"].cells["use"].verdict == "allowed"


def test_seed_text_table_matches_golden(reports):
    check_golden(GOLDEN / "seed.access.txt", render_text(reports(SEED)))


def test_text_colour_only_when_asked(reports):
    assert "\x1b[" not in render_text(reports(SEED))
    assert "\x1b[32mallowed\x1b[0m" in render_text(reports(SEED), color=True)


def test_markdown_table(reports):
    text = render_markdown(reports(SEED))
    assert "| principal | use | manage | permissions | read |" in text
    assert "| SignupFunction (role SignupFunctionRole) | ✅ allowed 2/8 · L23, L86, L88 |" in text
    assert "arn:aws:iam::${AWS::AccountId}:user/${KeyUser}" in text
    check_golden(GOLDEN / "seed.access.md", text)


def test_markdown_escapes_table_breakers():
    from kmspolicy.cli.access_render import _md

    assert _md("a|b`c") == "a\\|b\\`c"


def test_dot_graph_is_well_formed(reports):
    dot = render_dot(reports(SEED))
    assert dot.startswith("digraph kmspolicy_access {") and dot.rstrip().endswith("}")
    nodes = set(re.findall(r'^  ("(?:[^"\\]|\\.)*") \[', dot, re.MULTILINE))
    edges = re.findall(r'^  ("(?:[^"\\]|\\.)*") -> ("(?:[^"\\]|\\.)*") \[label="([^"]*)"', dot, re.MULTILINE)
    assert edges and all(src in nodes and dst in nodes for src, dst, _ in edges)
    # bilateral: function -> its SAM policy template -> the delegating statement -> key
    signup = '"KmsKey/identity:SignupFunctionRole"'
    encrypt = '"KmsKey/identity:SignupFunctionRole:0"'
    assert (signup, encrypt, "Encrypt") in edges
    assert (encrypt, '"KmsKey/key:0"', "Encrypt") in edges
    assert ('"KmsKey/key:0"', '"KmsKey/key"') in {(s, d) for s, d, _ in edges}
    assert ('"KmsKey/user:self:${KeyAdmin}"', '"KmsKey/key:1"', "CreateGrant, PutKeyPolicy") in edges
    check_golden(GOLDEN / "seed.access.dot", dot)


# --- the command ------------------------------------------------------------------------

def run(*args):
    return CliRunner().invoke(main, list(args))


def test_cli_json_is_the_contract():
    result = run("access", SEED, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    schema.validate(doc, "access-v1")
    assert [k["id"] for k in doc["keys"]] == ["KmsKey"]


def test_cli_key_filter_and_parameters():
    result = run("access", SEED, "--key", "KmsKey", "-p", "KeyUser=alice", "--format", "json")
    assert result.exit_code == 0, result.output
    ids = [s["id"] for s in json.loads(result.output)["keys"][0]["subjects"]]
    assert "user:self:alice" in ids


def test_cli_unknown_key_is_one_line_exit_2():
    result = run("access", SEED, "--key", "Nope")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "kmspolicy: error: unknown key 'Nope' (keys in examples/seed/template.yaml: KmsKey)"]


@pytest.mark.parametrize("content, message", [
    ("Resources: [", "examples-bad.yaml:"),
    ("just: text\n", "not a CloudFormation or SAM template"),
])
def test_cli_bad_templates_exit_2(tmp_path, monkeypatch, content, message):
    monkeypatch.chdir(tmp_path)
    Path("examples-bad.yaml").write_text(content)
    result = run("access", "examples-bad.yaml")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kmspolicy: error: ") and message in lines[0]


def test_a_template_without_a_key_is_no_error(tmp_path, monkeypatch):
    """As `eval` says "No findings", `access` says there is no key and exits 0 (a CDK
    stack that only uses another stack's key, say); `explain` needs a key and exits 2."""
    monkeypatch.chdir(tmp_path)
    Path("t.yaml").write_text("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n")
    for output_format in ("text", "json", "markdown"):
        result = run("access", "t.yaml", "--format", output_format)
        assert result.exit_code == 0, result.output
        assert "no AWS::KMS::Key or AWS::KMS::ReplicaKey in this template" in result.output
    assert json.loads(run("access", "t.yaml", "--format", "json").output)["keys"] == []
    result = run("explain", "t.yaml", "--key", "Key", "--principal", "*")
    assert result.exit_code == 2
    assert result.output.strip() == \
        "kmspolicy: error: t.yaml: no AWS::KMS::Key or AWS::KMS::ReplicaKey in this template"


def test_cli_incomplete_template_lists_errors_and_exits_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("t.yaml").write_text(
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy:\n"
        "        Statement:\n        - Effect: Allow\n          Principal: {AWS: '*'}\n          Action: kms:Decrypt\n"
        "        - Effect: [Maybe]\n          Principal: '*'\n          Action: kms:*\n")
    result = run("access", "t.yaml")
    assert result.exit_code == 2
    assert "error: t.yaml:10:" in result.output and "Effect must be Allow or Deny" in result.output


# --- per deployable scenario ------------------------------------------------------------

PROPERTIES_IF = "examples/variants/properties-if/template.yaml"


def test_rows_that_differ_between_scenarios_are_shown_per_scenario(reports):
    """Without a policy in dev AWS applies the default one: the account can use the key
    only when IsProd is false; the admin role exists only in the prod policy."""
    (key,) = reports(PROPERTIES_IF).keys
    rows = {(row.subject.id, row.when): row for row in key.rows}
    assert set(rows) == {("account:self", "only when IsProd is true"),
                         ("account:self", "only when IsProd is false"),
                         ("role:self:key-admin", "only when IsProd is true")}
    assert rows["account:self", "only when IsProd is false"].cells["use"].verdict == "allowed"
    assert rows["account:self", "only when IsProd is true"].cells["use"].verdict == "denied"
    assert re.search(r"account \(any IAM principal of this account\), only when IsProd is false +allowed 8/8 10",
                     render_text(reports(PROPERTIES_IF)))


def test_rows_every_scenario_agrees_on_are_shown_once(reports):
    (key,) = reports("examples/variants/lockout-default-branch/template.yaml").keys
    app = [row for row in key.rows if row.subject.id == "role:self:app"]
    assert [(row.when, row.cells["use"].verdict) for row in app] == [(None, "allowed")]


def test_a_key_of_some_scenarios_names_them(reports):
    (key,) = reports("examples/variants/conditional-key/template.yaml").keys
    assert key.when == "only when CreateKey is true"


def test_scenario_option_picks_the_variants():
    result = run("access", PROPERTIES_IF, "--scenario", "IsProd=false", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    schema.validate(doc, "access-v1")
    (key,) = doc["keys"]
    assert [(s["id"], s.get("when")) for s in key["subjects"]] == [("account:self", None)]


@pytest.mark.parametrize("args, message", [
    (["--scenario", "IsProd=maybe"], "--scenario 'IsProd=maybe': expected CONDITION=true or CONDITION=false"),
    (["--scenario", "IsDev=true"], "no Condition IsDev in the template (Conditions: IsProd)"),
])
def test_scenario_option_errors_are_one_line_exit_2(args, message):
    result = run("access", PROPERTIES_IF, *args)
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert message in line


def test_scenario_option_on_a_template_without_conditions():
    result = run("access", SEED, "--scenario", "IsProd=true")
    assert result.exit_code == 2
    assert "no deployable variants to choose from (the template has no Conditions)" in result.output


def test_a_scenario_no_variant_has_is_named_with_the_variants(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("t.yaml").write_text(
        "Parameters:\n  Stage: {Type: String, AllowedValues: [dev, prod]}\n"
        "Conditions:\n  IsProd: !Equals [!Ref Stage, prod]\n  IsDev: !Equals [!Ref Stage, dev]\n"
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n")
    result = run("access", "t.yaml", "--scenario", "IsProd=true", "--scenario", "IsDev=true")
    assert result.exit_code == 2
    assert "no deployable variant has IsDev is true and IsProd is true" in result.output
    assert "IsDev is false and IsProd is true" in result.output


def test_unseen_resources_are_errors_not_an_absent_key():
    result = run("access", "examples/variants/foreach-parameter/template.yaml")
    assert result.exit_code == 2
    assert "no AWS::KMS::Key" not in result.output
    assert "Fn::ForEach over a collection the template does not determine" in result.output


# --- denominators: the actions the key type supports ------------------------------------

@pytest.mark.parametrize("properties, use", [
    ("{}", 8),  # symmetric by default: encrypt, decrypt, data keys, re-encrypt
    ("{KeySpec: HMAC_256, KeyUsage: GENERATE_VERIFY_MAC}", 2),
    ("{KeySpec: ECC_NIST_P256, KeyUsage: SIGN_VERIFY}", 2),
    ("{KeySpec: RSA_2048, KeyUsage: ENCRYPT_DECRYPT}", 4),
    ("{KeySpec: ECC_NIST_P256, KeyUsage: KEY_AGREEMENT}", 1),
    ("{KeySpec: !Ref Spec}", 13),  # not determined: every use action
])
def test_use_denominator_is_the_key_types(tmp_path, monkeypatch, properties, use):
    monkeypatch.chdir(tmp_path)
    Path("t.yaml").write_text(f"Parameters:\n  Spec: {{Type: String}}\nResources:\n  Key:\n"
                              f"    Type: AWS::KMS::Key\n    Properties: {properties}\n")
    report = AccessAnalyzer().report("t.yaml")
    (key,) = report.keys
    assert len(key.capabilities["use"]) == use
    account = next(row for row in key.rows if row.subject.id == "account:self")
    assert f"allowed {use}/{use} " in render_text(report)
    assert len(account.cells["use"].actions) == use


def test_dot_rows_of_some_scenarios_have_their_own_statement_nodes(reports):
    """Statement 0 is the Admin statement when IsProd is true, AWS's default policy when
    it is false: each row points at its own."""
    dot = render_dot(reports(PROPERTIES_IF))
    assert '"DataKey/only when IsProd is true/key:0" [label="Admin\\nkey policy, line ' in dot
    assert '"DataKey/only when IsProd is false/key:0" [label="Default key policy (no KeyPolicy property)' in dot
    assert '"DataKey/role:self:key-admin (only when IsProd is true)" -> "DataKey/only when IsProd is true/key:0"' in dot


OWN_ACCOUNT_LITERAL = """Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Statement:
          - {Effect: Allow, Principal: {AWS: "arn:aws:iam::111122223333:root"}, Action: "kms:*", Resource: "*"}
"""


def test_access_and_explain_read_the_organization_config(tmp_path):
    """A literal account is another account (cross-account limits: no management) unless
    the config declares it one of the organization's own accounts."""
    template = tmp_path / "t.yaml"
    template.write_text(OWN_ACCOUNT_LITERAL)
    config = tmp_path / "org.yaml"
    config.write_text('accounts: ["111122223333"]\n')

    def manage(*extra):
        result = CliRunner().invoke(main, ["access", str(template), "--format", "json", *extra])
        assert result.exit_code == 0, result.output
        subjects = json.loads(result.output)["keys"][0]["subjects"]
        [subject] = [s for s in subjects if s["account"] == "111122223333"]
        return subject["cells"]["manage"]["verdict"]

    assert manage() == "denied"
    assert manage("--config", str(config)) == "allowed"
    explained = CliRunner().invoke(main, ["explain", str(template), "--key", "Key", "--principal",
                                          "arn:aws:iam::111122223333:role/any", "--action", "kms:PutKeyPolicy",
                                          "--config", str(config)])
    assert explained.exit_code == 0 and "allowed" in explained.output.lower(), explained.output
    missing = CliRunner().invoke(main, ["access", str(template), "--config", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2 and "none.yaml" in missing.output


ORG_SHARED = """\
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Statement:
          - {Effect: Allow, Principal: "*", Action: kms:Decrypt, Resource: "*",
             Condition: {StringEquals: {aws:PrincipalOrgID: o-a1b2c3d4e5}}}
"""


def test_the_config_names_the_organization_of_the_own_account(tmp_path):
    """`organization` in the config is the own account's aws:PrincipalOrgID: `*` scoped to
    that organization admits every principal of the account; to another one, none of them;
    without it, whether they are in it is unknown (conditional)."""
    template = tmp_path / "t.yaml"
    template.write_text(ORG_SHARED)

    def decrypt(organization):
        extra = []
        if organization:
            config = tmp_path / "org.yaml"
            config.write_text(f"organization: {organization}\n")
            extra = ["--config", str(config)]
        result = CliRunner().invoke(main, ["access", str(template), "--format", "json", *extra])
        assert result.exit_code == 0, result.output
        [subject] = [s for s in json.loads(result.output)["keys"][0]["subjects"] if s["id"] == "account:self"]
        return subject["cells"]["use"]["verdict"]

    assert decrypt(None) == "conditional"
    assert decrypt("o-a1b2c3d4e5") == "allowed"
    assert decrypt("o-zzzzzzzzzz") == "denied"
    bad = tmp_path / "bad.yaml"
    bad.write_text("organization: acme\n")
    result = CliRunner().invoke(main, ["access", str(template), "--config", str(bad)])
    assert result.exit_code == 2 and "bad.yaml" in result.output
