"""CI formats: SARIF 2.1.0 (schema and GitHub's upload limits), GitHub workflow commands and
job summary, JUnit XML; and golden files of every format on the seed example."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft4Validator

from kmspolicy.bridge.findings import FileError, FileStatus, Finding, Related, Result
from kmspolicy.bridge.rules import Rule
from kmspolicy.bridge.schema import validate
from kmspolicy.cli import main as cli_main
from kmspolicy.cli.reporters import REPORTERS, ReportContext, get_reporter, sarif
from kmspolicy.cli.reporters import github as gh

from .conftest import ROOT

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden"
SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

# GitHub code scanning's documented limits on an uploaded SARIF file ("SARIF results exceed
# limit" and "SARIF file is too large" in GitHub's code scanning docs).
GITHUB_LIMITS = {"runs": 20, "results": 25_000, "rules": 25_000, "extensions": 100,
                 "locations": 1_000, "tags": 20, "gzip_bytes": 10 * 1024 * 1024}

RULES = {
    "KP001": Rule("KP001", "kmspolicy.rules.account_delegation", "Account delegation",
                  "The :root ARN names the\naccount.\n\nSecond paragraph.", "medium",
                  "Name the principals.", "rules/account_delegation.rego"),
    "KP003": Rule("KP003", "kmspolicy.rules.admin_can_escalate", "Admin can escalate",
                  "An admin can grant itself use.", "high", "", "rules/admin_can_escalate.rego"),
    "KP005": Rule("KP005", "kmspolicy.rules.public_key", "Anyone can use the key",
                  "Principal *.", "critical", "Add a condition.", "rules/public_key.rego"),
    "KP009": Rule("KP009", "kmspolicy.rules.iam_users", "IAM users", "Users.", "low", "",
                  "rules/iam_users.rego"),
    "KP020": Rule("KP020", "kmspolicy.rules.note_only", "A note", "Informative.", "info", "",
                  "rules/note_only.rego"),
}

STMT = "/Resources/AppKey/Properties/KeyPolicy/Statement"


def finding(rule="KP001", severity="medium", line=9, **changes) -> Finding:
    values = dict(rule=rule, severity=severity, title=RULES[rule].title if rule in RULES else "",
                  message=f"{rule} message", file="stacks/app.yaml", line=line, column=15,
                  end_line=line, end_column=60, resource="AppKey", path=f"{STMT}/0/Principal/AWS",
                  fingerprint=f"fp-{rule}-{line}")
    values.update(changes)
    return Finding(**values)


def make_result() -> Result:
    return Result(
        files=[FileStatus("stacks/app.yaml", "analyzed", 2, ("AppKey", "DataKey")),
               FileStatus("stacks/broken.yaml", "error", 0)],
        findings=[
            finding("KP003", "high", line=14, end_line=16, end_column=4,
                    message="Admin, can: escalate 100%\nthrough kms:CreateGrant [grant]."),
            finding("KP001", related=[
                Related("stacks/app.yaml", 10, 13, f"{STMT}/0/Action", "grants kms:*"),
                Related("stacks/app.yaml", 11, 23, f"{STMT}/0/Resource", "on [this] key")]),
            finding("KP009", "low", line=20, suppressed=True,
                    suppression_reason="break-glass user, reviewed"),
            finding("KP005", "critical", line=30, resource="DataKey"),
        ],
        errors=[FileError("stacks/broken.yaml", "mapping values are not allowed here", 3, 7),
                FileError("stacks/app.yaml", "engine timed out", kind="engine")],
    )


def context(**changes) -> ReportContext:
    values = dict(tool_version="9.9.9", rules=RULES)
    values.update(changes)
    return ReportContext(**values)


def render(fmt: str, result: Result, **changes) -> str:
    return get_reporter(fmt).render(result, context(**changes))


def sarif_doc(result: Result, **changes) -> dict:
    return json.loads(render("sarif", result, **changes))


def check_github_limits(doc: dict) -> None:
    """Everything GitHub code scanning checks before accepting an upload."""
    raw = json.dumps(doc).encode("utf-8")
    assert len(gzip.compress(raw)) <= GITHUB_LIMITS["gzip_bytes"]
    assert 1 <= len(doc["runs"]) <= GITHUB_LIMITS["runs"]
    for run in doc["runs"]:
        rules = run["tool"]["driver"]["rules"]
        assert len(rules) <= GITHUB_LIMITS["rules"]
        assert len(run["tool"].get("extensions", [])) <= GITHUB_LIMITS["extensions"]
        assert len(run["results"]) <= GITHUB_LIMITS["results"]
        for rule in rules:
            properties = rule.get("properties", {})
            assert len(properties.get("tags", [])) <= GITHUB_LIMITS["tags"]
            if "security-severity" in properties:
                assert 0.0 < float(properties["security-severity"]) <= 10.0
        for result in run["results"]:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            assert result["message"]["text"].strip()
            locations = result["locations"] + result.get("relatedLocations", [])
            assert 1 <= len(result["locations"]) and len(locations) <= GITHUB_LIMITS["locations"]
            for location in locations:
                check_physical_location(location["physicalLocation"])
        for invocation in run.get("invocations", []):
            for note in invocation.get("toolExecutionNotifications", []):
                for location in note.get("locations", []):
                    check_physical_location(location["physicalLocation"])


def check_physical_location(physical: dict) -> None:
    artifact = physical["artifactLocation"]
    if "uriBaseId" in artifact:
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert not urlparse(artifact["uri"]).scheme and not artifact["uri"].startswith("/")
        assert " " not in artifact["uri"] and "\\" not in artifact["uri"]
    else:
        assert urlparse(artifact["uri"]).scheme == "file"
    region = physical.get("region")
    if region:
        assert region["startLine"] >= 1 and region.get("startColumn", 1) >= 1
        if "endLine" in region:
            assert region["endLine"] >= region["startLine"]
            if region["endLine"] == region["startLine"]:
                assert region["endColumn"] >= region["startColumn"]


def valid_sarif(doc: dict) -> dict:
    Draft4Validator(SARIF_SCHEMA).validate(doc)
    check_github_limits(doc)
    return doc


# --- registry -------------------------------------------------------------------------


def test_ci_formats_are_registered_after_text_and_json():
    assert list(REPORTERS) == ["text", "json", "sarif", "github", "junit"]


def test_schema_is_the_vendored_oasis_schema():
    assert SARIF_SCHEMA["id"].endswith("/sarif-schema-2.1.0.json")
    assert "sarif-schema-2.1.0.json" in (DATA / "SOURCES.md").read_text(encoding="utf-8")


# --- sarif ----------------------------------------------------------------------------


def test_sarif_is_schema_valid_and_within_github_limits():
    doc = valid_sarif(sarif_doc(make_result()))
    assert doc["version"] == "2.1.0"
    assert doc["runs"][0]["columnKind"] == "unicodeCodePoints"
    valid_sarif(sarif_doc(Result()))
    valid_sarif(sarif_doc(make_result(), rules=None))


def test_sarif_the_validator_rejects_what_github_rejects():
    doc = sarif_doc(make_result())
    doc["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(Exception, match="fatal"):
        Draft4Validator(SARIF_SCHEMA).validate(doc)
    doc = sarif_doc(make_result())
    doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    with pytest.raises(Exception, match="minimum"):
        Draft4Validator(SARIF_SCHEMA).validate(doc)


def test_sarif_driver_lists_every_rule_from_the_catalog():
    driver = sarif_doc(make_result())["runs"][0]["tool"]["driver"]
    assert driver["name"] == "kmspolicy"
    assert driver["version"] == driver["semanticVersion"] == "9.9.9"
    assert driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == sorted(RULES)
    kp001 = driver["rules"][0]
    assert kp001["name"] == "AccountDelegation"
    assert kp001["shortDescription"] == {"text": "Account delegation"}
    assert kp001["fullDescription"] == {"text": "The :root ARN names the account.\n\nSecond paragraph."}
    assert kp001["help"]["text"].endswith("Remediation: Name the principals.")
    assert "**Remediation**\n\nName the principals." in kp001["help"]["markdown"]
    assert kp001["defaultConfiguration"] == {"level": "warning"}
    assert "security" in kp001["properties"]["tags"]


@pytest.mark.parametrize(("severity", "level", "score_band"), [
    ("critical", "error", (9.0, 10.0)), ("high", "error", (7.0, 8.9)),
    ("medium", "warning", (4.0, 6.9)), ("low", "note", (0.1, 3.9)), ("info", "note", None),
])
def test_sarif_levels_and_security_severity_follow_github(severity, level, score_band):
    rule = next(r for r in RULES.values() if r.severity == severity)
    doc = sarif_doc(Result(findings=[finding(rule.id, severity)]))
    run = doc["runs"][0]
    descriptor = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == rule.id)
    assert descriptor["defaultConfiguration"]["level"] == level
    assert run["results"][0]["level"] == level
    score = descriptor["properties"].get("security-severity")
    if score_band is None:
        assert score is None
    else:
        assert isinstance(score, str) and score_band[0] <= float(score) <= score_band[1]


def test_sarif_result_level_follows_the_findings_own_severity():
    doc = sarif_doc(Result(findings=[finding("KP001", "critical")]))  # severity override
    assert doc["runs"][0]["results"][0]["level"] == "error"
    assert doc["runs"][0]["results"][0]["properties"]["severity"] == "critical"


def test_sarif_result_location_region_fingerprint():
    doc = sarif_doc(make_result())
    results = doc["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["KP001", "KP003", "KP009", "KP005"]
    first = results[0]
    assert first["ruleIndex"] == 0
    physical = first["locations"][0]["physicalLocation"]
    assert physical == {
        "artifactLocation": {"uri": "stacks/app.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 9, "startColumn": 15, "endLine": 9, "endColumn": 60},
    }
    assert first["locations"][0]["logicalLocations"] == [{"name": "AppKey", "kind": "resource"}]
    assert first["partialFingerprints"] == {"kmspolicyFingerprint/v1": "fp-KP001-9"}
    assert results[1]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 14, "startColumn": 15, "endLine": 16, "endColumn": 4}


def test_sarif_related_locations_are_linked_from_the_message():
    result = sarif_doc(make_result())["runs"][0]["results"][0]
    related = result["relatedLocations"]
    assert [r["id"] for r in related] == [1, 2]
    assert related[0]["message"] == {"text": "grants kms:*"}
    assert related[1]["message"] == {"text": "on \\[this\\] key"}
    assert related[0]["physicalLocation"] == {
        "artifactLocation": {"uri": "stacks/app.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 10, "startColumn": 13}}
    assert result["message"]["text"] == (
        "KP001 message\n\nRelated: [grants kms:*](1); [on \\[this\\] key](2).")


def test_sarif_plain_text_escapes_brackets_so_they_are_not_links():
    assert sarif.plain("a [b](1) c") == "a \\[b\\](1) c"
    assert sarif.plain("back\\[slash") == "back\\\\\\[slash"
    assert sarif.plain("no brackets \\ here") == "no brackets \\ here"
    text = sarif_doc(make_result())["runs"][0]["results"][1]["message"]["text"]
    assert text == "Admin, can: escalate 100%\nthrough kms:CreateGrant \\[grant\\]."


def test_sarif_suppressed_findings_carry_their_justification():
    results = sarif_doc(make_result())["runs"][0]["results"]
    suppressed = [r for r in results if "suppressions" in r]
    assert len(suppressed) == 1
    assert suppressed[0]["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": "break-glass user, reviewed"}]
    bare = sarif_doc(Result(findings=[finding(suppressed=True)]))["runs"][0]["results"][0]
    assert bare["suppressions"] == [{"kind": "inSource", "status": "accepted"}]


def test_sarif_file_errors_are_tool_execution_notifications():
    run = sarif_doc(make_result())["runs"][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert notes[0] == {"level": "error", "message": {"text": "engine timed out"},
                        "locations": [{"physicalLocation": {"artifactLocation": {
                            "uri": "stacks/app.yaml", "uriBaseId": "%SRCROOT%"}}}],
                        "descriptor": {"id": "engine-error"}}
    assert notes[1]["locations"][0]["physicalLocation"]["region"] == {"startLine": 3,
                                                                      "startColumn": 7}
    clean = sarif_doc(Result(files=[FileStatus("a.yaml", "analyzed", 1)]))["runs"][0]
    assert clean["invocations"] == [{"executionSuccessful": True}]


def test_sarif_baseline_count_is_a_notification():
    notes = sarif_doc(Result(), baseline_hidden=3)["runs"][0]["invocations"][0]
    assert notes["toolExecutionNotifications"][0]["message"]["text"].startswith("3 known findings")


@pytest.mark.parametrize(("file", "location"), [
    ("stacks/app.yaml", {"uri": "stacks/app.yaml", "uriBaseId": "%SRCROOT%"}),
    ("my stacks/a#1%.yaml", {"uri": "my%20stacks/a%231%25.yaml", "uriBaseId": "%SRCROOT%"}),
    ("../outside/t.yaml", {"uri": "../outside/t.yaml", "uriBaseId": "%SRCROOT%"}),
    ("/abs/path/t.yaml", {"uri": "file:///abs/path/t.yaml"}),
    ("C:/work/t.yaml", {"uri": "file:///C:/work/t.yaml"}),
])
def test_sarif_artifact_uris(file, location):
    assert sarif.artifact_location(file) == location
    if "uriBaseId" in location:
        assert unquote(location["uri"]) == file


def test_sarif_regions_are_always_acceptable_to_github():
    assert sarif.region(0, 0, 0, 0) == {"startLine": 1, "startColumn": 1}
    assert sarif.region(5, 3, 4, 9) == {"startLine": 5, "startColumn": 3}
    assert sarif.region(5, 3, 5, 2) == {"startLine": 5, "startColumn": 3}
    assert sarif.region(5, 3, 5, 3) == {"startLine": 5, "startColumn": 3, "endLine": 5,
                                        "endColumn": 3}


def test_sarif_duplicate_fingerprints_stay_distinct_alerts():
    twins = [finding(message="first"), finding(message="second")]
    results = sarif_doc(Result(findings=twins))["runs"][0]["results"]
    assert [r["partialFingerprints"]["kmspolicyFingerprint/v1"] for r in results] == [
        "fp-KP001-9", "fp-KP001-9:2"]


def test_sarif_unknown_rule_still_gets_a_descriptor():
    doc = valid_sarif(sarif_doc(Result(findings=[finding("ORG1", "high", title="Org rule")])))
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    org = rules[doc["runs"][0]["results"][0]["ruleIndex"]]
    assert org["id"] == "ORG1" and org["shortDescription"]["text"] == "Org rule"


def test_sarif_keeps_the_most_severe_results_within_githubs_limit(monkeypatch):
    monkeypatch.setattr(sarif, "MAX_RESULTS", 5)
    findings = [finding("KP009", "low", line=n) for n in range(1, 9)]
    findings += [finding("KP005", "critical", line=100 + n) for n in range(3)]
    doc = sarif_doc(Result(findings=findings))
    results = doc["runs"][0]["results"]
    assert len(results) == 5
    assert sum(r["ruleId"] == "KP005" for r in results) == 3
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results]
    assert lines == sorted(lines)
    note = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]
    assert note["level"] == "warning" and note["message"]["text"].startswith("6 less severe")


def test_sarif_at_githubs_real_result_limit():
    findings = [finding("KP009", "low", line=n, fingerprint=f"{n:032x}")
                for n in range(1, sarif.MAX_RESULTS + 11)]
    doc = sarif_doc(Result(findings=findings))
    assert len(doc["runs"][0]["results"]) == GITHUB_LIMITS["results"]
    check_github_limits(doc)


def test_sarif_related_locations_are_capped(monkeypatch):
    monkeypatch.setattr(sarif, "MAX_RELATED", 2)
    many = finding(related=[Related("stacks/app.yaml", n, 1, "/p", f"r{n}") for n in range(1, 6)])
    result = sarif_doc(Result(findings=[many]))["runs"][0]["results"][0]
    assert len(result["relatedLocations"]) == 2
    assert result["message"]["text"].endswith("(3 more related locations not listed.)")


def test_sarif_is_deterministic_whatever_the_input_order():
    result = make_result()
    first = render("sarif", result)
    result.findings.reverse()
    result.errors.reverse()
    assert render("sarif", result) == first


# --- github ---------------------------------------------------------------------------


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Parse a workflow command the way the Actions runner does, undoing the escapes."""
    match = re.fullmatch(r"::([a-z]+)(?: ([^:]*))?::(.*)", line)
    assert match, line
    name, props, data = match.groups()

    def unescape(text: str, prop: bool) -> str:
        text = text.replace("%0D", "\r").replace("%0A", "\n")
        if prop:
            text = text.replace("%3A", ":").replace("%2C", ",")
        return text.replace("%25", "%")

    properties = {}
    for pair in (props or "").split(","):
        if pair:
            key, _, value = pair.partition("=")
            properties[key] = unescape(value, True)
    return name, properties, unescape(data, False)


def test_github_escaping_round_trips_through_the_runners_parser():
    hostile = "100% sure:\r\nnext, line::error::pwned %0A"
    f = finding(message=hostile, title="T: a, b", file="dir,x/a:b%.yaml", rule="KP001")
    line = gh.finding_command(f)
    assert "\n" not in line and "\r" not in line
    name, properties, data = parse_command(line)
    assert name == "warning"
    assert properties["file"] == "dir,x/a:b%.yaml"
    assert properties["title"] == "KP001 [medium] T: a, b"
    assert data == hostile


def test_github_escape_functions_match_the_actions_toolkit():
    assert gh.escape_data("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad:e,f"
    assert gh.escape_property("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad%3Ae%2Cf"


@pytest.mark.parametrize(("severity", "command"), [
    ("critical", "error"), ("high", "error"), ("medium", "warning"), ("low", "notice"),
    ("info", "notice"),
])
def test_github_severity_mapping(severity, command):
    assert gh.finding_command(finding(severity=severity)).startswith(f"::{command} ")


def test_github_golden_lines_errors_then_most_severe_first():
    out = render("github", make_result())
    assert out.splitlines() == [
        "::error file=stacks/app.yaml,title=kmspolicy%3A engine error%2C not analyzed"
        "::engine timed out",
        "::error file=stacks/broken.yaml,line=3,col=7,title=kmspolicy%3A input error%2C not analyzed"
        "::mapping values are not allowed here",
        "::error file=stacks/app.yaml,line=30,endLine=30,col=15,endColumn=60,"
        "title=KP005 [critical] Anyone can use the key::KP005 message",
        "::error file=stacks/app.yaml,line=14,endLine=16,title=KP003 [high] Admin can escalate"
        "::Admin, can: escalate 100%25%0Athrough kms:CreateGrant [grant].",
        "::warning file=stacks/app.yaml,line=9,endLine=9,col=15,endColumn=60,"
        "title=KP001 [medium] Account delegation::KP001 message"
        "%0ARelated: stacks/app.yaml:10: grants kms:*%0ARelated: stacks/app.yaml:11: on [this] key",
        "3 findings (1 critical, 1 high, 1 medium) in 2 files; 1 suppressed; 2 errors "
        "(1 file not fully analyzed)",
    ]
    for line in out.splitlines()[:-1]:
        parse_command(line)


def test_github_says_when_annotations_exceed_what_github_shows():
    ten = [finding(line=n) for n in range(1, 11)]
    assert "only 10 annotations" not in render("github", Result(findings=ten))
    out = render("github", Result(findings=[*ten, finding(line=11)])).splitlines()
    assert out[-2].startswith("kmspolicy: GitHub shows only 10 annotations of each kind per step")
    assert sum(line.startswith("::warning") for line in out) == 11


def test_github_quiet_keeps_errors_and_summary_verbose_shows_suppressed():
    quiet = render("github", make_result(), quiet=True).splitlines()
    assert [parse_command(line)[0] for line in quiet[:-1]] == ["error", "error"]
    assert all("title=kmspolicy" in line for line in quiet[:-1])
    verbose = render("github", make_result(), verbose=True)
    suppressed = [line for line in verbose.splitlines() if "KP009" in line]
    assert len(suppressed) == 1
    name, properties, data = parse_command(suppressed[0])
    assert name == "notice" and properties["title"].endswith("(suppressed)")
    assert data.endswith("Suppressed: break-glass user, reviewed")
    assert "KP009" not in render("github", make_result())


def test_github_baseline_count_is_in_the_summary_line():
    out = render("github", Result(), baseline_hidden=2)
    assert out == "No findings in 0 files. (2 hidden by the baseline)\n"


ENV = {"GITHUB_SERVER_URL": "https://github.example", "GITHUB_REPOSITORY": "acme/infra",
       "GITHUB_SHA": "abc123"}


def test_github_step_summary_groups_by_file_and_rule_with_links():
    md = gh.step_summary(make_result(), context(), ENV)
    assert md.startswith("## kmspolicy\n\n3 findings (1 critical, 1 high, 1 medium)")
    assert "### stacks/app.yaml\n" in md
    assert "**KP001** Account delegation (medium)\n" in md
    assert ("- [line 9](https://github.example/acme/infra/blob/abc123/stacks/app.yaml#L9) "
            "AppKey: KP001 message") in md
    assert "(https://github.example/acme/infra/blob/abc123/stacks/app.yaml#L14-L16)" in md
    assert "Admin, can: escalate 100% through kms:CreateGrant \\[grant\\]." in md
    assert "KP009" not in md
    assert "### Not analyzed\n\n- stacks/app.yaml: engine timed out\n" in md
    assert md.index("KP001") < md.index("KP003") < md.index("KP005")


def test_github_step_summary_without_repository_has_no_links_and_escapes_markdown():
    result = Result(findings=[finding(message="<img src=x> *bold* | [x](y) `c`\n# h",
                                      resource="Key_1")])
    md = gh.step_summary(result, context(verbose=True), {})
    assert not re.search(r"(?<!\\)\]\(", md)  # no link but escaped ones
    assert ("- line 9 Key\\_1: \\<img src=x\\> \\*bold\\* \\| \\[x\\](y) \\`c\\` \\# h"
            in md)


@pytest.mark.parametrize("file", ["../up/t.yaml", "/abs/t.yaml", "C:/x/t.yaml"])
def test_github_no_links_outside_the_repository(file):
    assert gh.line_url(file, 1, 1, ENV) is None


def test_github_step_summary_is_appended_only_when_asked(tmp_path):
    assert gh.append_step_summary(make_result(), context(), {}) is None
    target = tmp_path / "summary.md"
    target.write_text("# earlier step\n", encoding="utf-8")
    gh.append_step_summary(make_result(), context(), {**ENV, "GITHUB_STEP_SUMMARY": str(target)})
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n## kmspolicy\n")


def test_github_step_summary_stays_under_githubs_size_limit(monkeypatch):
    monkeypatch.setattr(gh, "MAX_SUMMARY_BYTES", 2_000)
    result = Result(findings=[finding(line=n, message="x" * 100) for n in range(1, 60)])
    md = gh.step_summary(result, context(), {})
    assert len(md.encode("utf-8")) < 2_300
    assert re.search(r"\*\d+ more lines left out", md)


# --- junit ----------------------------------------------------------------------------


def junit(result: Result, **changes) -> ET.Element:
    text = render("junit", result, **changes)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_suite_per_file_case_per_key_and_rule():
    root = junit(make_result())
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["stacks/app.yaml", "stacks/broken.yaml"]
    app = suites[0]
    names = [c.get("name") for c in app.findall("testcase")]
    # 2 keys x 5 rules, then the engine error
    assert len(names) == 11
    assert names[0] == "AppKey: KP001 Account delegation"
    assert names[5] == "DataKey: KP001 Account delegation"
    assert names[-1] == "analysis (engine error)"
    assert {c.get("classname") for c in app.findall("testcase")} == {"stacks/app.yaml"}
    assert (app.get("tests"), app.get("failures"), app.get("errors"), app.get("skipped")) == (
        "11", "3", "1", "1")
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "12", "3", "2", "1")


def test_junit_failures_carry_message_and_location():
    cases = {c.get("name"): c for c in junit(make_result()).iter("testcase")}
    failure = cases["AppKey: KP001 Account delegation"].find("failure")
    assert failure.get("message") == "stacks/app.yaml:9:15: KP001 message"
    assert failure.get("type") == "KP001 medium"
    assert failure.text == ("stacks/app.yaml:9:15 [medium] KP001 Account delegation\n"
                            "KP001 message\n"
                            "related: stacks/app.yaml:10: grants kms:*\n"
                            "related: stacks/app.yaml:11: on [this] key")
    assert cases["AppKey: KP001 Account delegation"].get("line") == "9"
    passing = cases["AppKey: KP020 A note"]
    assert list(passing) == [] and passing.get("line") is None
    skipped = cases["AppKey: KP009 IAM users"].find("skipped")
    assert skipped.get("message") == "suppressed: break-glass user, reviewed"
    error = cases["analysis (input error)"].find("error")
    assert error.get("message") == "mapping values are not allowed here"
    assert error.text == "stacks/broken.yaml:3:7: mapping values are not allowed here"


def test_junit_several_findings_make_one_failure():
    result = Result(files=[FileStatus("a.yaml", "analyzed", 1, ("K",))],
                    findings=[finding(file="a.yaml", resource="K", line=n) for n in (5, 3)])
    failures = list(junit(result).iter("failure"))
    assert len(failures) == 1
    assert failures[0].get("message").startswith("2 findings; first at a.yaml:3:15: ")
    assert failures[0].text.count("[medium] KP001") == 2


def test_junit_findings_on_other_resources_and_missing_files():
    result = Result(findings=[finding(resource="")],
                    errors=[FileError("missing.yaml", "no such file or directory")])
    root = junit(result, rules=None)
    names = [c.get("name") for c in root.iter("testcase")]
    assert names == ["analysis (input error)", "(template): KP001 Account delegation"]


def test_junit_control_characters_cannot_break_the_xml():
    result = Result(findings=[finding(message="bell\x07 esc\x1b nul\x00 ok\ttab",
                                      resource="K\x0bey")])
    failure = next(junit(result).iter("failure"))
    assert "bell\ufffd esc\ufffd nul\ufffd ok\ttab" in failure.text


# --- command line ---------------------------------------------------------------------


@pytest.fixture
def in_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"):
        monkeypatch.delenv(name, raising=False)


SEED = "examples/seed/template.yaml"


def test_cli_several_formats_in_one_run(in_repo_root, tmp_path):
    sarif_file, junit_file = tmp_path / "r.sarif", tmp_path / "r.xml"
    out = CliRunner().invoke(cli_main.main, [
        "eval", "--format", "github", "--format", f"sarif={sarif_file}",
        "--format", f"junit={junit_file}", SEED])
    assert out.exit_code == 1, out.output
    assert out.output.startswith("::")
    doc = valid_sarif(json.loads(sarif_file.read_text(encoding="utf-8")))
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert {"KP001", "KP003"} <= {r["id"] for r in rules}
    assert len(rules) > len({r["ruleId"] for r in doc["runs"][0]["results"]})
    root = ET.fromstring(junit_file.read_bytes())
    assert int(root.get("tests")) == len(rules)  # one key
    assert int(root.get("failures")) >= 2


def test_cli_github_writes_the_step_summary(in_repo_root, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
    monkeypatch.setenv("GITHUB_SHA", "0" * 40)
    result = CliRunner().invoke(cli_main.main, ["eval", "-f", "github", SEED])
    assert result.exit_code == 1
    text = summary.read_text(encoding="utf-8")
    assert f"https://github.com/o/r/blob/{'0' * 40}/{SEED}#L23" in text
    unwritable = tmp_path / "missing" / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(unwritable))
    result = CliRunner().invoke(cli_main.main, ["eval", "-f", "github", SEED])
    assert result.exit_code == 2
    assert "cannot write the GitHub step summary" in result.output


def test_cli_sarif_uses_configured_severity_and_leaves_out_disabled_rules(in_repo_root, tmp_path):
    config = tmp_path / "kmspolicy.yaml"
    config.write_text("rules:\n  KP001: {severity: critical}\n  KP003: {enabled: false}\n",
                      encoding="utf-8")
    out = CliRunner().invoke(cli_main.main, ["eval", "-f", "sarif", "-c", str(config), SEED])
    run = json.loads(out.stdout)["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert "KP003" not in rules
    assert rules["KP001"]["properties"]["security-severity"] == "9.5"
    assert all(r["ruleId"] != "KP003" for r in run["results"])


def test_intent_dependent_severity_reaches_code_scanning_through_a_rule_variant(in_repo_root):
    """GitHub reads security-severity from the rule descriptor only: a KP007 that is high
    (declared users) refers to `KP007/high`, whose descriptor says 7.5; the catalog's KP007
    stays medium, as `kmspolicy rules` and `--severity` see it."""
    args = ["eval", "-c", "examples/kmspolicy.yaml", "examples/rules/KP007/template.yaml"]
    run = json.loads(CliRunner().invoke(cli_main.main, [*args, "-f", "sarif"]).stdout)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    [result] = [r for r in run["results"] if r["ruleId"].startswith("KP007")]
    assert result["ruleId"] == "KP007/high" and rules[result["ruleIndex"]]["id"] == "KP007/high"
    assert rules[result["ruleIndex"]]["properties"]["security-severity"] == "7.5"
    assert result["properties"]["security-severity"] == "7.5"
    assert next(r for r in rules if r["id"] == "KP007")["properties"]["security-severity"] == "5.5"
    valid_sarif(json.loads(CliRunner().invoke(cli_main.main, [*args, "-f", "sarif"]).stdout))
    shown = json.loads(CliRunner().invoke(cli_main.main, [*args, "-f", "json", "--severity", "high"]).stdout)
    assert [(f["rule"], f["severity"]) for f in shown["findings"] if f["rule"] == "KP007"] == [("KP007", "high")]


def test_cli_paths_are_relative_with_forward_slashes(in_repo_root):
    absolute = str(ROOT / SEED)
    out = CliRunner().invoke(cli_main.main, ["eval", "-f", "sarif", absolute])
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(out.stdout)["runs"][0]["results"]}
    assert uris == {SEED}
    out = CliRunner().invoke(cli_main.main, ["eval", "-f", "github", "--root", "examples", SEED])
    assert "file=seed/template.yaml," in out.stdout


def test_cli_severity_filter_and_quiet_with_ci_formats(in_repo_root):
    out = CliRunner().invoke(cli_main.main, ["eval", "-f", "sarif", "--severity", "high", SEED])
    levels = {r["level"] for r in json.loads(out.stdout)["runs"][0]["results"]}
    assert levels == {"error"}
    out = CliRunner().invoke(cli_main.main, ["eval", "-f", "github", "-q", SEED])
    assert out.stdout.count("\n") == 1 and not out.stdout.startswith("::")


# --- golden files on the seed example -------------------------------------------------

GOLDEN_FORMATS = {"text": "seed.txt", "json": "seed.json", "sarif": "seed.sarif",
                  "github": "seed.github.txt", "junit": "seed.junit.xml"}
UPDATE = os.environ.get("KMSPOLICY_UPDATE_GOLDEN") == "1"


def test_golden_files_for_every_format(in_repo_root, tmp_path, monkeypatch):
    """Regenerate after an intended change: KMSPOLICY_UPDATE_GOLDEN=1 pytest tests/test_reporters_ci.py"""
    monkeypatch.setattr(cli_main, "__version__", "0.0.0-golden")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "kmspolicy/kmspolicy")
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
    args = ["eval", "--no-color"]
    for name, golden in GOLDEN_FORMATS.items():
        args += ["--format", f"{name}={tmp_path / golden}"]
    out = CliRunner().invoke(cli_main.main, [*args, SEED])
    assert out.exit_code == 1, out.output
    produced = {golden: (tmp_path / golden).read_text(encoding="utf-8")
                for golden in GOLDEN_FORMATS.values()}
    produced["seed.summary.md"] = summary.read_text(encoding="utf-8")
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        for golden, text in produced.items():
            (GOLDEN / golden).write_text(text, encoding="utf-8")
    for golden, text in produced.items():
        assert (GOLDEN / golden).read_text(encoding="utf-8") == text, (
            f"{golden} differs; if intended, regenerate with KMSPOLICY_UPDATE_GOLDEN=1")
    valid_sarif(json.loads(produced["seed.sarif"]))
    validate(json.loads(produced["seed.json"]), "output-v1")
    ET.fromstring(produced["seed.junit.xml"].encode("utf-8"))
    for line in produced["seed.github.txt"].splitlines()[:-1]:
        parse_command(line)


# --- the GitHub Action ----------------------------------------------------------------


def action_steps() -> tuple[dict[str, dict], dict]:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    return {step["name"]: step for step in action["runs"]["steps"]}, action


def test_action_inputs_and_no_script_injection():
    steps, action = action_steps()
    assert {"paths", "config", "bundle", "fail-on", "sarif-file", "baseline"} <= set(action["inputs"])
    for step in steps.values():
        # inputs reach scripts through env only: `${{ inputs.x }}` in a script is injectable
        assert "${{" not in step.get("run", "")
    assert any(step.get("uses", "").startswith("actions/setup-python@") for step in steps.values())
    assert "$GITHUB_ACTION_PATH" in steps["Install kmspolicy from this action"]["run"]


def action_bin() -> Path | None:
    """The folder of the kmspolicy console script: this interpreter's (make test runs
    .venv/bin/python, whose bin is not on PATH), else PATH's."""
    here = Path(sys.executable).parent
    if (here / "kmspolicy").is_file():
        return here
    found = shutil.which("kmspolicy")
    return Path(found).parent if found else None


def run_action_step(tmp_path, **inputs) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """The action's "Run kmspolicy" script, in bash, as the runner would run it."""
    steps, action = action_steps()
    step = steps["Run kmspolicy"]
    defaults = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values = {**defaults, **inputs}
    output = tmp_path / "github_output"
    output.unlink(missing_ok=True)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    env = {**os.environ, "GITHUB_OUTPUT": str(output),
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
           "RUNNER_TEMP": str(runner_temp), "GITHUB_ACTION": "kmspolicy",
           "KMSPOLICY_BIN": str(action_bin())}
    for name, template in step["env"].items():
        match = re.fullmatch(r"\$\{\{ inputs\.([a-z-]+) \}\}", template)
        env[name] = values[match.group(1)]
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines()) \
        if output.exists() else {}
    return done, outputs


@pytest.mark.skipif(action_bin() is None or shutil.which("bash") is None,
                    reason="needs bash and the kmspolicy console script")
def test_action_script_annotates_writes_sarif_and_keeps_the_exit_code(tmp_path):
    sarif_file = tmp_path / "out dir" / "k.sarif"
    sarif_file.parent.mkdir()
    done, outputs = run_action_step(tmp_path, paths=f"{SEED}\n", **{"sarif-file": str(sarif_file)})
    assert done.returncode == 1, done.stderr
    assert outputs == {"exit-code": "1", "sarif-file": str(sarif_file), "findings": "6", "errors": "0"}
    assert done.stdout.startswith("::")
    valid_sarif(json.loads(sarif_file.read_text(encoding="utf-8")))
    assert (tmp_path / "summary.md").read_text(encoding="utf-8").startswith("## kmspolicy")

    done, outputs = run_action_step(tmp_path, paths=SEED, **{"fail-on": "critical",
                                                             "sarif-file": "none",
                                                             "args": "--severity high"})
    assert done.returncode == 0, done.stderr
    assert outputs == {"exit-code": "0", "findings": "0", "errors": "0"}
    assert "::warning" not in done.stdout and "::error" in done.stdout

    done, outputs = run_action_step(tmp_path, paths="no/such/*.yaml", **{"sarif-file": ""})
    assert done.returncode == 2 and outputs == {"exit-code": "2", "findings": "0", "errors": "1"}
    assert "::error file=no/such/*.yaml" in done.stdout  # the glob was not expanded


@pytest.mark.skipif(action_bin() is None or shutil.which("bash") is None,
                    reason="needs bash and the kmspolicy console script")
def test_action_sarif_is_fresh_under_runner_temp_and_errors_are_apart(tmp_path):
    stale = tmp_path / "runner-temp" / "kmspolicy-kmspolicy" / "kmspolicy.sarif"
    stale.parent.mkdir(parents=True)
    stale.write_text("stale")
    done, outputs = run_action_step(tmp_path, paths=str(ROOT / "examples" / "clean-key" / "template.yaml"))
    assert done.returncode == 0, done.stderr
    assert outputs["sarif-file"] == str(stale)  # the default, `auto`, under RUNNER_TEMP
    valid_sarif(json.loads(stale.read_text(encoding="utf-8")))  # rewritten, not the stale one

    broken = tmp_path / "broken.yaml"
    broken.write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  K: [\n")
    both = f"{SEED} {broken}"
    done, outputs = run_action_step(tmp_path, paths=both)
    assert done.returncode == 2 and outputs["errors"] == "1" and outputs["findings"] == "6"
    done, outputs = run_action_step(tmp_path, paths=both, **{"fail-on-error": "false"})
    assert done.returncode == 1, done.stderr  # the errors are reported, the findings fail
    assert "::error file=" in done.stdout
    done, outputs = run_action_step(tmp_path, paths=f"{broken}", **{"fail-on-error": "false"})
    assert done.returncode == 0 and outputs["exit-code"] == "2"
    assert json.loads(stale.read_text(encoding="utf-8"))["runs"][0]["results"] == []  # this run's

    done, outputs = run_action_step(tmp_path, paths=str(ROOT / "tests" / "data" / "repo"),
                                    exclude="services/ cdk.out/* legacy")
    assert done.returncode == 1 and outputs["findings"] == "2", done.stdout  # template.yaml only

    done, outputs = run_action_step(tmp_path, paths=str(SEED), **{"fail-on": "sometimes"})
    assert done.returncode == 2 and "findings" not in outputs  # a usage error: kmspolicy's line
    assert "sometimes" in done.stderr


def test_action_checks_the_platform_and_caches_pip():
    steps, _ = action_steps()
    assert "tools/check_platform.py" in steps["Check the platform"]["run"]
    assert "--only-binary regopy" in steps["Install kmspolicy from this action"]["run"]
    assert steps["Cache pip downloads"]["uses"].startswith("actions/cache@")
    names = list(steps)
    assert names.index("Check the platform") < names.index("Install kmspolicy from this action")
