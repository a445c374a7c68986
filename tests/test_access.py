"""`kmspolicy access`: the matrix of every example against its golden file, the rule of
thumb on every cell, both engines agreeing, and the text/markdown/dot/json renderers.

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
from kmspolicy.bridge.access.report import MATRIX_QUERY, AccessAnalyzer, library_modules
from kmspolicy.cli.access_render import render_dot, render_markdown, render_text
from kmspolicy.cli.main import main

from .conftest import EXAMPLES, ROOT, require_in_ci

GOLDEN = Path(__file__).parent / "golden" / "access"
SEED = "examples/seed/template.yaml"
# examples/variants (one template, several deployable variants) are eval's: `access` reads
# the template merged until it is computed per scenario (test_golden checks them)
TEMPLATES = sorted(p.relative_to(ROOT).as_posix() for p in EXAMPLES.rglob("template.*")
                   if p.suffix in (".yaml", ".yml", ".json")
                   and "variants" not in p.relative_to(EXAMPLES).parts)


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
    assert doc["errors"] == []
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


def test_engines_agree_on_every_example():
    opa = require_in_ci("opa_bindings")
    engine = opa.OpaEngine()
    for name, source in library_modules().items():
        engine.add_policy(name, source)
    engine.add_data({"kmspolicy": {"config": {}}})
    analyzer = AccessAnalyzer()
    for template in TEMPLATES:
        analyzed = AccessAnalyzer(parameters_of(template)).analyze(template)
        embedded = analyzer.matrix(analyzed.input)
        real = engine.eval_document(MATRIX_QUERY.removeprefix("data."), analyzed.input)
        assert json.dumps(embedded, sort_keys=True) == json.dumps(real, sort_keys=True), template


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
    assert "| SignupFunction (role SignupFunctionRole) | ✅ allowed 2/13 · L23, L86, L88 |" in text
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
    ("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n", "no AWS::KMS::Key"),
    ("just: text\n", "not a CloudFormation or SAM template"),
])
def test_cli_bad_templates_exit_2(tmp_path, monkeypatch, content, message):
    monkeypatch.chdir(tmp_path)
    Path("examples-bad.yaml").write_text(content)
    result = run("access", "examples-bad.yaml")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kmspolicy: error: ") and message in lines[0]


def test_cli_incomplete_template_lists_errors_and_exits_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("t.yaml").write_text(
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy:\n"
        "        Statement:\n        - Effect: Allow\n          Principal: {AWS: '*'}\n          Action: kms:Decrypt\n"
        "        - Effect: [Maybe]\n          Principal: '*'\n          Action: kms:*\n")
    result = run("access", "t.yaml")
    assert result.exit_code == 2
    assert "error: t.yaml:10:" in result.output and "Effect must be Allow or Deny" in result.output
