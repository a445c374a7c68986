"""The rule catalog: METADATA complete, `kmspolicy rules`, docs/rules not stale."""

from __future__ import annotations

from click.testing import CliRunner

from kmspolicy.cli.main import main
from kmspolicy.cli.rules_cmd import catalog

from .conftest import ROOT


def test_every_rule_has_complete_metadata():
    rules = catalog()
    assert [r.id for r in rules] == [f"KP{n:03d}" for n in range(1, 22)]
    for rule in rules:
        assert rule.title and rule.description and rule.remediation and rule.example, rule.id


def test_rules_command_lists_and_shows():
    listing = CliRunner().invoke(main, ["rules"])
    assert listing.exit_code == 0 and "KP005  critical  Anyone can use the key" in listing.output
    one = CliRunner().invoke(main, ["rules", "kp003"])
    assert one.exit_code == 0
    assert "kms:GrantIsForAWSResource" in one.output and "Example that triggers it" in one.output
    missing = CliRunner().invoke(main, ["rules", "KP999"])
    assert missing.exit_code == 2 and "unknown rule 'KP999' (did you mean KP019?)" in missing.output


def test_docs_are_generated_from_metadata():
    import runpy

    gen = runpy.run_path(str(ROOT / "tools/gen_docs.py"))
    assert gen["main"](["--check"]) == 0, "docs/rules is stale: run `make docs`"
