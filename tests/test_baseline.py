"""Fingerprints that survive line shifts, and baselines built on them
(`kmspolicy baseline create`, `eval --baseline`)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner

from kmspolicy.bridge.findings import Finding, Result
from kmspolicy.bridge.schema import validate
from kmspolicy.cli.baseline import (
    BaselineError,
    apply_baseline,
    baseline_document,
    load_baseline,
    write_baseline,
)
from kmspolicy.cli.main import main
from kmspolicy.cli.reporters import ReportContext, get_reporter
from kmspolicy.cli.run import run

from .conftest import ROOT

SEED = (ROOT / "examples/seed/template.yaml").read_text(encoding="utf-8")
NEW_PARAMETER = "Parameters:\n  Stage:\n    Type: String\n    Default: prod\n"
LAST_STATEMENT = "          - kms:GenerateDataKeyWithoutPlaintext\n          Resource: '*'\n"
PUBLIC_STATEMENT = LAST_STATEMENT + (
    "        - Sid: Let anyone decrypt\n"
    "          Effect: Allow\n"
    "          Principal: '*'\n"
    "          Action: kms:Decrypt\n"
    "          Resource: '*'\n"
)


def shifted(text: str) -> str:
    """The seed with unrelated edits above every finding: three new lines and a new
    description (lines shift, no flagged line changes)."""
    assert text.count("Parameters:\n") == 1 and "Signup/login" in text
    return (text.replace("Parameters:\n", NEW_PARAMETER)
            .replace("Signup/login with KMS-encrypted DynamoDB items", "Signup and login"))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "template.yaml").write_text(SEED, encoding="utf-8")
    return tmp_path


def by_location(result: Result) -> dict[tuple[str, str], Finding]:
    found = {(f.rule, f.path): f for f in result.findings}
    assert len(found) == len(result.findings)
    return found


def sarif_fingerprints(result: Result) -> dict[tuple[str, str], str]:
    doc = json.loads(get_reporter("sarif").render(result, ReportContext()))
    return {(r["ruleId"], r["properties"]["path"]): r["partialFingerprints"]["kmspolicyFingerprint/v1"]
            for r in doc["runs"][0]["results"]}


# --- fingerprints ---------------------------------------------------------------------


def test_fingerprints_stay_equal_when_an_unrelated_line_is_inserted_above(workdir, analyzer):
    before = run(["template.yaml"], analyzer)
    (workdir / "template.yaml").write_text(shifted(SEED), encoding="utf-8")
    after = run(["template.yaml"], analyzer)
    old, new = by_location(before), by_location(after)
    assert len(old) >= 3 and old.keys() == new.keys()
    for key, finding in old.items():
        assert new[key].line == finding.line + 3  # the lines did move
        assert new[key].fingerprint == finding.fingerprint
    assert sarif_fingerprints(before) == sarif_fingerprints(after)


def test_fingerprint_changes_when_the_flagged_line_itself_changes(workdir, analyzer):
    before = by_location(run(["template.yaml"], analyzer))
    (workdir / "template.yaml").write_text(SEED.replace("- kms:Create*", "- 'kms:Create*'"),
                                           encoding="utf-8")
    after = by_location(run(["template.yaml"], analyzer))
    changed = {key for key in before if before[key].fingerprint != after[key].fingerprint}
    assert changed and all(before[key].line == 31 for key in changed)


def test_fingerprint_depends_on_the_reported_path(workdir, analyzer):
    (workdir / "sub").mkdir()
    (workdir / "sub" / "template.yaml").write_text(SEED, encoding="utf-8")
    here = {f.fingerprint for f in run(["template.yaml"], analyzer).findings}
    there = {f.fingerprint for f in run(["sub/template.yaml"], analyzer).findings}
    assert here and not here & there


# --- the baseline file ----------------------------------------------------------------


def finding(fingerprint: str, suppressed: bool = False, line: int = 1) -> Finding:
    return Finding("KP001", "medium", "t", "m", "a.yaml", line, 1, line, 2, "Key", "/p",
                   suppressed=suppressed, fingerprint=fingerprint)


def test_baseline_document_holds_unsuppressed_findings_in_order():
    result = Result(findings=[finding("b", line=9), finding("a", line=2),
                              finding("s", suppressed=True)])
    doc = baseline_document(result)
    assert doc["version"] == 1 and doc["tool"] == "kmspolicy"
    assert doc["findings"] == [
        {"fingerprint": "a", "rule": "KP001", "file": "a.yaml", "resource": "Key", "line": 2},
        {"fingerprint": "b", "rule": "KP001", "file": "a.yaml", "resource": "Key", "line": 9},
    ]


def test_baseline_round_trip_and_counted_matching(tmp_path):
    path = str(tmp_path / "b.json")
    assert write_baseline(path, Result(findings=[finding("x"), finding("x"), finding("y")])) == 3
    known = load_baseline(path)
    assert known == Counter({"x": 2, "y": 1})
    result = Result(findings=[finding("x"), finding("x"), finding("x"), finding("z"),
                              finding("y", suppressed=True)])
    match = apply_baseline(result, known)
    assert (match.hidden, match.stale) == (2, 1)
    assert [f.fingerprint for f in result.findings] == ["x", "z", "y"]
    assert known == Counter({"x": 2, "y": 1})  # the loaded baseline is not used up


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read the baseline"),
    ("{not json", r":1: the baseline is not valid JSON"),
    ("[]", "not a kmspolicy baseline"),
    ('{"version": 2, "findings": []}', "not a kmspolicy baseline"),
    ('{"version": 1}', '"findings" must be a list'),
    ('{"version": 1, "findings": [{"rule": "KP001"}]}', r'findings\[0\] has no "fingerprint"'),
    ('{"version": 1, "findings": ["abc"]}', r'findings\[0\] has no "fingerprint"'),
])
def test_bad_baseline_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "b.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError, match=message) as info:
        load_baseline(str(path))
    assert str(info.value).startswith(str(path))


def test_baseline_cannot_be_written(tmp_path):
    with pytest.raises(BaselineError, match="cannot write the baseline"):
        write_baseline(str(tmp_path / "missing" / "b.json"), Result())


# --- command line ---------------------------------------------------------------------


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_cli_baseline_hides_known_findings_across_line_shifts(workdir):
    created = invoke("baseline", "create", "-o", ".kmspolicy-baseline.json", "template.yaml")
    assert created.exit_code == 0, created.output
    entries = json.loads((workdir / ".kmspolicy-baseline.json").read_text())["findings"]
    assert len(entries) >= 3
    assert f"wrote {len(entries)} findings to .kmspolicy-baseline.json" in created.stderr

    plain = invoke("eval", "template.yaml")
    assert plain.exit_code == 1
    known = invoke("eval", "--baseline", ".kmspolicy-baseline.json", "template.yaml")
    assert known.exit_code == 0, known.output
    assert known.stdout == "No findings in 1 file.\n"
    assert (f"{len(entries)} known findings hidden by the baseline .kmspolicy-baseline.json"
            in known.stderr)

    (workdir / "template.yaml").write_text(shifted(SEED), encoding="utf-8")
    moved = invoke("eval", "--baseline", ".kmspolicy-baseline.json", "template.yaml")
    assert moved.exit_code == 0 and f"{len(entries)} known findings hidden" in moved.stderr


def test_cli_baseline_reports_new_findings_only(workdir):
    invoke("baseline", "create", "-o", "base.json", "template.yaml")
    old = {e["fingerprint"] for e in json.loads((workdir / "base.json").read_text())["findings"]}
    (workdir / "template.yaml").write_text(SEED.replace(LAST_STATEMENT, PUBLIC_STATEMENT),
                                           encoding="utf-8")
    out = invoke("eval", "-f", "json", "--baseline", "base.json", "template.yaml")
    assert out.exit_code == 1
    doc = json.loads(out.stdout)
    validate(doc, "output-v1")  # the JSON contract does not change with a baseline
    assert doc["findings"], "the new public statement must be reported"
    assert not {f["fingerprint"] for f in doc["findings"]} & old
    assert any(f["line"] >= 56 for f in doc["findings"])
    assert "hidden by the baseline base.json" in out.stderr


def test_cli_baseline_says_when_entries_no_longer_match(workdir):
    invoke("baseline", "create", "-o", "base.json", "template.yaml")
    (workdir / "template.yaml").write_text(SEED.replace("- kms:Create*", "- 'kms:Create*'"),
                                           encoding="utf-8")
    out = invoke("eval", "--baseline", "base.json", "template.yaml")
    assert "(1 baseline entry no longer found)" in out.stderr
    assert out.exit_code == 1  # the edited line is a new finding


def test_cli_bad_baseline_is_one_line_exit_2(workdir):
    (workdir / "base.json").write_text("[]", encoding="utf-8")
    out = invoke("eval", "--baseline", "base.json", "template.yaml")
    assert out.exit_code == 2
    assert out.stderr.strip().count("\n") == 0
    assert out.stderr.startswith("kmspolicy: error: base.json: not a kmspolicy baseline")


def test_cli_baseline_create_with_unanalyzable_files_exits_2(workdir):
    (workdir / "broken.yaml").write_text("Resources: [\n", encoding="utf-8")
    out = invoke("baseline", "create", "-o", "base.json", "template.yaml", "broken.yaml")
    assert out.exit_code == 2
    assert "kmspolicy: error: broken.yaml" in out.stderr
    assert "not in the baseline" in out.stderr
    assert json.loads((workdir / "base.json").read_text())["findings"]


def test_cli_baseline_create_needs_an_output(workdir):
    out = invoke("baseline", "create", "template.yaml")
    assert out.exit_code == 2 and "--output" in out.output
