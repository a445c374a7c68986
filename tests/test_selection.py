"""Which rules run and with which config: .kmspolicy.yaml found without --config,
--check/--skip-check, rule ids checked wherever they are written, severities in any case,
unknown --parameter names warned about (cli/selection.py, cli/config.py)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kmspolicy.cli.main import main

from .conftest import ROOT

SEED = ROOT / "examples" / "seed" / "template.yaml"
SEED_RULES = {"KP001", "KP003", "KP009", "KP011"}


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def rules_of(result) -> set[str]:
    return {f["rule"] for f in json.loads(result.stdout)["findings"]}


def test_seed_rules():
    assert rules_of(invoke("eval", "-f", "json", SEED)) == SEED_RULES


def test_config_found_in_the_working_directory_and_named_with_v(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".kmspolicy.yml").write_text("rules:\n  KP009: {enabled: false}\n")
    result = invoke("eval", "-v", "-f", "json", SEED)
    assert rules_of(result) == SEED_RULES - {"KP009"}
    assert "kmspolicy: using the config .kmspolicy.yml" in result.stderr
    (tmp_path / ".kmspolicy.yaml").write_text("rules:\n  KP001: {enabled: false}\n")  # .yaml first
    assert rules_of(invoke("eval", "-f", "json", SEED)) == SEED_RULES - {"KP001"}
    other = tmp_path / "org.yaml"
    other.write_text("rules:\n  KP011: {enabled: false}\n")
    named = invoke("eval", "-v", "-f", "json", "--config", other, SEED)
    assert rules_of(named) == SEED_RULES - {"KP011"} and "using the config" not in named.stderr


def test_config_found_in_root(tmp_path):
    (tmp_path / ".kmspolicy.yaml").write_text("rules:\n  KP009: {enabled: false}\n")
    assert rules_of(invoke("eval", "-f", "json", "--root", tmp_path, SEED)) == SEED_RULES - {"KP009"}


def test_check_and_skip_check():
    assert rules_of(invoke("eval", "-f", "json", "--check", "KP001,kp009", SEED)) == {"KP001", "KP009"}
    assert rules_of(invoke("eval", "-f", "json", "--check", "KP001", "--check", "KP003", SEED)) == \
        {"KP001", "KP003"}
    assert rules_of(invoke("eval", "-f", "json", "--skip-check", "KP003, KP007", SEED)) == \
        SEED_RULES - {"KP003", "KP007"}
    assert invoke("eval", "--check", "KP005", SEED).exit_code == 0  # the seed has no KP005


def test_unknown_rule_ids_are_errors_with_a_suggestion(tmp_path):
    result = invoke("eval", "--check", "KP03", SEED)
    assert result.exit_code == 2 and "unknown rule 'KP03' (did you mean KP003?)" in result.output
    result = invoke("eval", "--skip-check", "KP1", SEED)
    assert result.exit_code == 2 and "--skip-check" in result.output and "did you mean KP001?" in result.output
    config = tmp_path / "org.yaml"
    config.write_text("rules:\n  KP099: {enabled: false}\n")
    result = invoke("eval", "--config", config, SEED)
    assert result.exit_code == 2
    assert result.stderr == f"kmspolicy: error: {config}: rules: unknown rule 'KP099' (did you mean KP019?)\n"


def test_unknown_rule_in_a_suppression_is_an_error_on_its_line(tmp_path):
    template = tmp_path / "t.yaml"
    text = SEED.read_text().replace("  KmsKey:\n    Type: AWS::KMS::Key\n", (
        "  KmsKey:\n    Type: AWS::KMS::Key\n    Metadata:\n      kmspolicy:\n        suppress:\n"
        "          - {rule: KP09, reason: being migrated}\n"), 1)
    assert "KP09," in text
    template.write_text(text)
    document = json.loads(invoke("eval", "-f", "json", template).stdout)
    line = text.splitlines().index("          - {rule: KP09, reason: being migrated}") + 1
    assert [(e["line"], e["message"]) for e in document["errors"]] == [
        (line, "suppress: unknown rule 'KP09' (did you mean KP009?)")]


def test_severities_in_any_case(tmp_path):
    assert invoke("eval", "--fail-on", "HIGH", SEED).exit_code == 1
    assert invoke("eval", "--fail-on", "Critical", SEED).exit_code == 0
    assert rules_of(invoke("eval", "-f", "json", "--severity", "High", SEED)) == {"KP003"}
    config = tmp_path / "org.yaml"
    config.write_text("rules:\n  KP009: {severity: CRITICAL}\n")
    result = invoke("eval", "-f", "json", "--config", config, "--fail-on", "critical", SEED)
    assert result.exit_code == 1
    assert {f["severity"] for f in json.loads(result.stdout)["findings"] if f["rule"] == "KP009"} == {"critical"}


def test_unknown_parameter_is_a_warning():
    result = invoke("eval", "-f", "json", "-p", "KeyAdmin=ops", "-p", "Stage=prod", SEED)
    assert result.exit_code == 1
    assert result.stderr == ("kmspolicy: warning: --parameter Stage: no analyzed template declares "
                             "this parameter\n")


def test_rules_json_catalog():
    result = invoke("rules", "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    ids = [rule["id"] for rule in document["rules"]]
    documented = sorted(p.stem for p in (ROOT / "docs" / "rules").glob("KP*.md"))
    assert document["version"] == 1 and ids == documented
    for rule in document["rules"]:
        assert set(rule) == {"id", "severity", "title", "description", "remediation", "example",
                             "package", "file", "help_uri"}
        assert rule["help_uri"].endswith(f"/docs/rules/{rule['id']}.md")
        assert (ROOT / rule["file"]).is_file()
    one = json.loads(invoke("rules", "-f", "json", "kp005").stdout)
    assert [rule["id"] for rule in one["rules"]] == ["KP005"]
