"""Reporters (text, json), the registry, and the public JSON output schema (output-v1)."""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, ValidationError

from kmspolicy.bridge.findings import SEVERITIES, FileError, FileStatus, Finding, Related, Result
from kmspolicy.bridge.schema import load_schema, validate
from kmspolicy.cli import reporters
from kmspolicy.cli.reporters import (
    DEFAULT_FORMAT,
    REPORTERS,
    ReportContext,
    Reporter,
    UnknownFormatError,
    file_sources,
    get_reporter,
)
from kmspolicy.cli.reporters.base import split_lines
from kmspolicy.cli.reporters.text import summary_line
from kmspolicy.cli.rule_docs import docs_base

APP = """\
Resources:
  AppKey:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Statement:
          - Effect: Allow
            Principal:
              AWS: !Sub arn:aws:iam::${AWS::AccountId}:root
            Action: kms:*
            Resource: '*'
          - Effect: Allow
            Principal: '*'
            Action:
              - kms:Decrypt
              - kms:Encrypt
"""

DATA = """\
{"Resources": {"DataKey": {"Type": "AWS::KMS::Key",
  "Properties": {"EnableKeyRotation": false}}}}
"""

SOURCES = {"stacks/app.yaml": split_lines(APP), "stacks/data.json": split_lines(DATA)}
STMT = "/Resources/AppKey/Properties/KeyPolicy/Statement"


def sources(file: str) -> list[str] | None:
    return SOURCES.get(file)


def make_result() -> Result:
    delegation = Finding(
        rule="KP001", severity="medium",
        title="Key policy delegates to the whole account, not the root user",
        message="The :root ARN names the account: any principal in it that IAM allows "
                "kms:* can use AppKey.",
        file="stacks/app.yaml", line=9, column=15, end_line=9, end_column=60,
        resource="AppKey", path=f"{STMT}/0/Principal/AWS",
        related=[
            Related("stacks/app.yaml", 10, 13, f"{STMT}/0/Action", "grants kms:*"),
            Related("stacks/app.yaml", 11, 23, f"{STMT}/0/Resource", "on this key"),
        ],
        fingerprint="f1",
    )
    anyone = Finding(
        rule="KP003", severity="high", title="Anyone can use the key",
        message="Principal '*' without a condition.\nAny AWS account can decrypt with AppKey.",
        file="stacks/app.yaml", line=14, column=13, end_line=16, end_column=27,
        resource="AppKey", path=f"{STMT}/1/Action", fingerprint="f2",
    )
    accepted = Finding(
        rule="KP002", severity="low", title="Wildcard principal",
        message="Principal is '*'.",
        file="stacks/app.yaml", line=13, column=24, end_line=13, end_column=27,
        resource="AppKey", path=f"{STMT}/1/Principal",
        suppressed=True, suppression_reason="public decrypt is intended", fingerprint="f3",
    )
    rotation = Finding(
        rule="KP005", severity="critical", title="Key rotation disabled",
        message="DataKey does not rotate.",
        file="stacks/data.json", line=1, column=16, end_line=1, end_column=25,
        resource="DataKey", path="/Resources/DataKey", fingerprint="f4",
    )
    return Result(
        files=[
            FileStatus("stacks/app.yaml", "analyzed", 1),
            FileStatus("stacks/broken.yaml", "error", 0),
            FileStatus("stacks/data.json", "analyzed", 1),
        ],
        # deliberately not in report order
        findings=[rotation, anyone, accepted, delegation],
        errors=[
            FileError("stacks/broken.yaml", "mapping values are not allowed here", 3, 7),
            FileError("stacks/app.yaml", "engine timed out", kind="engine"),
        ],
    )


GOLDEN_TEXT = """\
KP001 [medium] stacks/app.yaml:9:15  AppKey
  Key policy delegates to the whole account, not the root user
  The :root ARN names the account: any principal in it that IAM allows kms:* can use AppKey.
   |
 8 |             Principal:
 9 |               AWS: !Sub arn:aws:iam::${AWS::AccountId}:root
   |               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
  related: stacks/app.yaml:10  grants kms:*
  related: stacks/app.yaml:11  on this key

KP003 [high] stacks/app.yaml:14:13  AppKey
  Anyone can use the key
  Principal '*' without a condition.
  Any AWS account can decrypt with AppKey.
    |
 13 |             Principal: '*'
 14 |             Action:
    |             ^^^^^^^
    |

KP005 [critical] stacks/data.json:1:16  DataKey
  Key rotation disabled
  DataKey does not rotate.
   |
 1 | {"Resources": {"DataKey": {"Type": "AWS::KMS::Key",
   |                ^^^^^^^^^
   |

error: stacks/app.yaml: engine timed out
error: stacks/broken.yaml:3:7: mapping values are not allowed here
3 findings (1 critical, 1 high, 1 medium) in 3 files; 1 suppressed; 2 errors (1 file not fully analyzed)
"""

SUPPRESSED_BLOCK = """\
KP002 [low] stacks/app.yaml:13:24  AppKey
  Wildcard principal
  Principal is '*'.
  suppressed: public decrypt is intended
    |
 12 |           - Effect: Allow
 13 |             Principal: '*'
    |                        ^^^
    |

"""


def render(fmt: str, result: Result, **context) -> str:
    context.setdefault("sources", sources)
    context.setdefault("tool_version", "9.9.9")
    return get_reporter(fmt).render(result, ReportContext(**context))


# --- registry -------------------------------------------------------------------------


def test_registry_holds_text_and_json_with_text_default():
    assert list(REPORTERS)[:2] == ["text", "json"]
    assert DEFAULT_FORMAT == "text"
    for name, reporter in REPORTERS.items():
        assert isinstance(reporter, Reporter)
        assert reporter.name == name
        assert get_reporter(name) is reporter


def test_registry_is_built_from_module_list():
    assert len(reporters._MODULES) == len(REPORTERS)


def test_unknown_format_names_the_choices():
    with pytest.raises(UnknownFormatError, match=r"'xml'.*text, json"):
        get_reporter("xml")
    assert issubclass(UnknownFormatError, ValueError)


# --- text -----------------------------------------------------------------------------


def test_text_golden():
    assert render("text", make_result()) == GOLDEN_TEXT


def test_text_is_deterministic_whatever_the_input_order():
    result = make_result()
    for seed in range(5):
        random.Random(seed).shuffle(result.findings)
        random.Random(seed).shuffle(result.errors)
        assert render("text", result) == GOLDEN_TEXT


def test_text_verbose_shows_suppressed_findings_marked():
    out = render("text", make_result(), verbose=True)
    docs = [line for line in out.splitlines() if line.startswith("  docs: ")]
    heads = re.findall(r"^(KP\d+) \[", out, re.MULTILINE)
    assert docs == [f"  docs: {docs_base()}{rule}.md" for rule in heads] and len(heads) == 4
    out = "".join(line for line in out.splitlines(keepends=True) if not line.startswith("  docs: "))
    before, _, after = GOLDEN_TEXT.partition("KP003 [high]")
    assert out == before + SUPPRESSED_BLOCK + "KP003 [high]" + after


def test_text_suppressed_without_reason():
    result = make_result()
    result.findings[2].suppression_reason = None
    assert "  suppressed: no reason given\n" in render("text", result, verbose=True)


def test_text_quiet_prints_only_errors_and_summary():
    assert render("text", make_result(), quiet=True) == (
        "error: stacks/app.yaml: engine timed out\n"
        "error: stacks/broken.yaml:3:7: mapping values are not allowed here\n"
        "3 findings (1 critical, 1 high, 1 medium) in 3 files; 1 suppressed;"
        " 2 errors (1 file not fully analyzed)\n"
    )


def test_text_quiet_wins_over_verbose():
    assert render("text", make_result(), quiet=True, verbose=True) == render(
        "text", make_result(), quiet=True
    )


def test_text_color_golden():
    result = Result(
        files=[FileStatus("stacks/app.yaml", "analyzed", 1)],
        findings=[make_result().findings[3]],
        errors=[FileError("stacks/app.yaml", "engine timed out", kind="engine")],
    )
    assert render("text", result, color=True) == (
        "\x1b[1mKP001\x1b[0m \x1b[33m[medium]\x1b[0m stacks/app.yaml:9:15  AppKey\n"
        "  Key policy delegates to the whole account, not the root user\n"
        "  The :root ARN names the account: any principal in it that IAM allows kms:*"
        " can use AppKey.\n"
        "   |\n"
        " 8 |             Principal:\n"
        " 9 |               AWS: !Sub arn:aws:iam::${AWS::AccountId}:root\n"
        "   |               \x1b[31m" + "^" * 45 + "\x1b[0m\n"
        "   |\n"
        "  related: stacks/app.yaml:10  grants kms:*\n"
        "  related: stacks/app.yaml:11  on this key\n"
        "\n"
        "\x1b[1;31merror\x1b[0m: stacks/app.yaml: engine timed out\n"
        "1 finding (1 medium) in 1 file; 1 error\n"
    )


def test_text_without_color_has_no_escape_sequences():
    assert "\x1b" not in render("text", make_result(), verbose=True)


@pytest.mark.parametrize(
    ("severity", "code"),
    [("critical", "1;31"), ("high", "31"), ("medium", "33"), ("low", "36"), ("info", "34")],
)
def test_text_severity_colors(severity, code):
    finding = copy.deepcopy(make_result().findings[0])
    finding.severity = severity
    out = render("text", Result(findings=[finding]), color=True)
    assert f"\x1b[{code}m[{severity}]\x1b[0m" in out


def test_text_no_frame_when_source_unavailable():
    out = render("text", make_result(), sources=lambda _file: None)
    assert " | " not in out and "^" not in out
    assert "KP005 [critical] stacks/data.json:1:16  DataKey\n" in out


def test_text_no_frame_when_line_out_of_range():
    finding = copy.deepcopy(make_result().findings[0])
    finding.line = 99
    out = render("text", Result(findings=[finding]))
    assert "|" not in out


@pytest.mark.parametrize(
    ("line", "column", "end_column", "marker"),
    [
        ("x: value", 4, 9, "   |    ^^^^^"),            # plain span
        ("x: value", 4, 4, "   |    ^"),                # empty span still gets one caret
        ("x: value", 4, 80, "   |    ^^^^^"),           # end past the line is clamped
        ("x: value", 12, 13, "   |            ^"),      # start past the line
        ("\tk: v", 5, 6, "   | \t   ^"),                # tabs kept so the marker lines up
        ("k: 鍵鍵 x", 4, 6, "   |    ^^^^"),             # wide characters take two columns
    ],
)
def test_text_marker_alignment(line, column, end_column, marker):
    finding = Finding(
        rule="KP009", severity="info", title="", message="m", file="f.yaml",
        line=2, column=column, end_line=2, end_column=end_column, resource="", path="",
    )
    out = render("text", Result(findings=[finding]), sources=lambda _f: ["top", line])
    assert f"KP009 [info] f.yaml:2:{column}\n  m\n   |\n 1 | top\n 2 | {line}\n{marker}\n" in out


def test_text_first_line_has_no_context_line_and_multiline_span_marks_to_line_end():
    finding = Finding(
        rule="KP009", severity="info", title="t", message="m", file="f.yaml",
        line=1, column=4, end_line=4, end_column=2, resource="R", path="/R",
    )
    out = render("text", Result(findings=[finding]), sources=lambda _f: ["a: bcd  ", "e"])
    assert out.startswith(
        "KP009 [info] f.yaml:1:4  R\n  t\n  m\n   |\n 1 | a: bcd\n   |    ^^^\n   |\n\n"
    )


def test_text_neutralizes_terminal_control_characters():
    finding = Finding(
        rule="KP009", severity="info", title="t\x1b[2J", message="m\x07\rx",
        file="f.yaml", line=1, column=1, end_line=1, end_column=2, resource="R\u202e",
        path="/R",
        related=[Related("f.yaml", 1, 1, "/R", "a\x1b]0;pwn\x07b\nc")],
    )
    out = render("text", Result(findings=[finding]), sources=lambda _f: ["v: \x1b[31mred"])
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out
    assert "\u202e" not in out
    assert "  related: f.yaml:1  a\ufffd]0;pwn\ufffdb c\n" in out
    assert " 1 | v: \ufffd[31mred\n" in out


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (Result(files=[FileStatus("a", "analyzed"), FileStatus("b", "analyzed")]),
         "No findings in 2 files."),
        (Result(files=[FileStatus("a", "analyzed")]), "No findings in 1 file."),
        (Result(), "No findings in 0 files."),
        (Result(files=[FileStatus("a", "analyzed")],
                findings=[Finding("KP1", "low", "", "", "a", 1, 1, 1, 2, "", "",
                                  suppressed=True, suppression_reason="ok")]),
         "No findings in 1 file (1 suppressed)."),
        (Result(files=[FileStatus("a", "analyzed"), FileStatus("b", "error")],
                errors=[FileError("b", "bad")]),
         "No findings in 2 files; 1 error (1 file not fully analyzed)"),
        (Result(files=[FileStatus("a", "analyzed")],
                findings=[Finding("KP1", "high", "", "", "a", 1, 1, 1, 2, "", "")] * 2
                + [Finding("KP2", "info", "", "", "a", 1, 1, 1, 2, "", "")]),
         "3 findings (2 high, 1 info) in 1 file; 0 errors"),
    ],
)
def test_text_summary_line(result, expected):
    assert summary_line(result) == expected
    assert render("text", result).endswith(expected + "\n")


def test_text_clean_run_is_only_the_summary():
    result = Result(files=[FileStatus("a.yaml", "analyzed", 2)])
    assert render("text", result) == "No findings in 1 file.\n"


# --- sources --------------------------------------------------------------------------


def test_split_lines_counts_lines_like_the_yaml_loader():
    assert split_lines("a\r\nb\rc\nd\x85e\u2028f\n") == ["a", "b", "c", "d", "e", "f"]
    assert split_lines("a\fb\vc\x1cd\n\n") == ["a\fb\vc\x1cd", ""]
    assert split_lines("") == []


def test_file_sources_reads_relative_to_root_and_tolerates_missing(tmp_path):
    (tmp_path / "t.yaml").write_text("a: 1\r\nb: 2\n", encoding="utf-8")
    read = file_sources(tmp_path)
    assert read("t.yaml") == ["a: 1", "b: 2"]
    assert read("missing.yaml") is None
    (tmp_path / "t.yaml").unlink()
    assert read("t.yaml") == ["a: 1", "b: 2"]  # cached: one read per file per run


# --- json -----------------------------------------------------------------------------


def test_json_is_exactly_to_json_indented():
    result = make_result()
    out = render("json", result)
    assert out == json.dumps(result.to_json("9.9.9"), indent=2) + "\n"
    assert json.loads(out)["tool"] == {"name": "kmspolicy", "version": "9.9.9"}


def test_json_ignores_presentation_options():
    plain = render("json", make_result())
    assert render("json", make_result(), color=True, verbose=True, quiet=True) == plain


def test_json_output_validates_against_schema():
    doc = json.loads(render("json", make_result()))
    validate(doc, "output-v1")
    assert [f["suppressed"] for f in doc["findings"]].count(True) == 1
    validate(json.loads(render("json", Result())), "output-v1.json")


# --- schema ---------------------------------------------------------------------------


def valid_doc() -> dict:
    return make_result().to_json("1.2.3")


def test_schema_is_a_valid_draft_2020_12_schema():
    schema = load_schema("output-v1")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_load_schema_returns_a_copy_and_rejects_paths():
    load_schema("output-v1")["properties"].clear()
    assert "findings" in load_schema("output-v1")["properties"]
    with pytest.raises(ValueError):
        load_schema("../findings")


def test_schema_severities_match_the_model():
    defs = load_schema("output-v1")["$defs"]
    assert tuple(defs["severity"]["enum"]) == SEVERITIES
    by_severity = defs["summary"]["properties"]["by_severity"]
    assert tuple(by_severity["required"]) == SEVERITIES


def test_schema_requires_exactly_the_fields_to_json_writes():
    defs = load_schema("output-v1")["$defs"]
    finding = make_result().findings[3]
    assert finding.related
    error = make_result().errors[0]
    assert set(defs["finding"]["required"]) == set(finding.to_json())
    assert set(defs["finding"]["properties"]) == set(finding.to_json()) | {"suppression_reason", "construct"}
    assert set(defs["error"]["required"]) == set(error.to_json()) == set(
        defs["error"]["properties"]
    )
    assert set(defs["related"]["required"]) == set(finding.related[0].to_json())
    assert set(defs["summary"]["required"]) == set(Result().summary())


def _mutations():
    def drop(key):
        return lambda d: d["findings"][0].pop(key)

    def put(section, key, value, index=0):
        return lambda d: d[section][index].__setitem__(key, value)

    suppressed_index = 2  # make_result().findings[2] is the suppressed one
    return {
        "finding missing line": drop("line"),
        "finding missing fingerprint": drop("fingerprint"),
        "finding extra field": put("findings", "cwe", "CWE-732"),
        "finding line 0": put("findings", "line", 0),
        "finding line as string": put("findings", "line", "9"),
        "finding column bool": put("findings", "column", True),
        "finding lowercase rule": put("findings", "rule", "kp001"),
        "finding unknown severity": put("findings", "severity", "warning"),
        "finding path not a pointer": put("findings", "path", "Resources/AppKey"),
        "finding bad pointer escape": put("findings", "path", "/a~2b"),
        "reason while not suppressed": put("findings", "suppression_reason", "x"),
        "suppressed without reason": lambda d: d["findings"][suppressed_index].pop(
            "suppression_reason"),
        "related missing message": lambda d: d["findings"][3]["related"][0].pop("message"),
        "related extra field": lambda d: d["findings"][3]["related"][0].update(kind="x"),
        "error extra field": put("errors", "severity", "high"),
        "error missing line": lambda d: d["errors"][0].pop("line"),
        "error column 0": put("errors", "column", 0),
        "error unknown kind": put("errors", "kind", "warning"),
        "file unknown status": put("files", "status", "skipped"),
        "version 2": lambda d: d.__setitem__("version", 2),
        "top-level extra": lambda d: d.__setitem__("skipped", []),
        "summary extra": lambda d: d["summary"].__setitem__("clean", True),
        "by_severity unknown": lambda d: d["summary"]["by_severity"].__setitem__("warn", 0),
        "by_rule bad id": lambda d: d["summary"]["by_rule"].__setitem__("kp1", 1),
        "tool renamed": lambda d: d["tool"].__setitem__("name", "other"),
    }


def test_valid_doc_fixture_matches_mutation_indices():
    doc = valid_doc()
    assert doc["findings"][2]["suppressed"] is True
    assert doc["findings"][3]["related"]
    validate(doc, "output-v1")


@pytest.mark.parametrize("mutation", sorted(_mutations()))
def test_schema_rejects(mutation):
    doc = valid_doc()
    _mutations()[mutation](doc)
    with pytest.raises(ValidationError):
        validate(doc, "output-v1")


def test_schema_accepts_null_error_position_and_empty_pointer():
    doc = valid_doc()
    assert doc["errors"][1]["line"] is None and doc["errors"][1]["column"] is None
    validate(doc, "output-v1")
    for pointer in ("", "/", "/Resources/a~1b~0c/0", "/Resources//x"):
        doc["findings"][0]["path"] = pointer
        validate(doc, "output-v1")


def test_documented_example_is_valid_output():
    doc_md = Path(__file__).resolve().parent.parent / "docs" / "output-json.md"
    blocks = re.findall(r"```json\n(.*?)```", doc_md.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1
    validate(json.loads(blocks[0]), "output-v1")


def test_file_notes_in_every_format():
    """A note (scenarios merged beyond the cap) is in the JSON, text, GitHub and SARIF output."""
    note = "not analysed per scenario: it has more than 64 scenarios"
    result = Result(files=[FileStatus("a.yaml", "analyzed", 1, ("K",), (note,))])
    doc = json.loads(render("json", result))
    validate(doc, "output-v1")
    assert doc["files"] == [{"file": "a.yaml", "status": "analyzed", "keys": 1, "notes": [note]}]
    assert f"note: a.yaml: {note}\n" in render("text", result)
    assert f"::warning file=a.yaml,title=kmspolicy%3A analysis note::{note}\n" in render("github", result)
    sarif = json.loads(render("sarif", result))["runs"][0]["invocations"][0]
    assert sarif["toolExecutionNotifications"] == [
        {"level": "warning", "message": {"text": f"a.yaml: {note}"}, "descriptor": {"id": "analysis-note"}}]
    assert json.loads(render("json", Result(files=[FileStatus("a.yaml", "analyzed", 1)])))["files"] == [
        {"file": "a.yaml", "status": "analyzed", "keys": 1}]
