"""CDK applications (bridge/cdk/, docs/cdk.md): a cloud assembly read from its manifest,
nested stages included; every finding names its construct; with creation traces the
finding is on the app's line and the template line is related; without them it stays on
the template and says how to get the app's line; cdk-nag's rotation suppressions.

The goldens are examples/cdk/*/expected.json (regenerate after an intended change with
KMSPOLICY_UPDATE_GOLDEN=1 and review the diff)."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmspolicy.bridge import schema
from kmspolicy.bridge.cdk.traces import find_source, first_application_frame, parse_frame
from kmspolicy.cli.main import main

from .conftest import ROOT

CDK_EXAMPLES = sorted(p.parent for p in (ROOT / "examples" / "cdk").glob("*/expected.json"))
UPDATE = os.environ.get("KMSPOLICY_UPDATE_GOLDEN") == "1"


def invoke(*args):
    return CliRunner().invoke(main, ["eval", "-j", "1", "--timeout", "0", *args])


def golden_view(document: dict) -> list[dict]:
    keep = ("rule", "file", "line", "column", "construct", "suppressed")
    return [{k: f[k] for k in keep if k in f} | {"related_first": f["related"][0]["file"] if f["related"] else None}
            for f in document["findings"]]


@pytest.fixture(autouse=True)
def in_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("example", CDK_EXAMPLES, ids=lambda p: p.name)
def test_cdk_example_matches_expected(example):
    expected_file = example / "expected.json"
    expected = json.loads(expected_file.read_text())
    result = invoke("-f", "json", *expected.get("args", []), str((example / "cdk.out").relative_to(ROOT)))
    document = json.loads(result.stdout)
    schema.validate(document, "output-v1")
    got = {"args": expected.get("args", []), "findings": golden_view(document), "exit_code": result.exit_code}
    if UPDATE:
        expected_file.write_text(json.dumps(got, indent=2) + "\n")
        expected = got
    assert got == expected
    assert document["errors"] == []


def test_traced_app_reports_on_the_line_that_created_the_construct():
    document = json.loads(invoke("-f", "json", "examples/cdk/app/cdk.out").stdout)
    on_key = [f for f in document["findings"] if f["construct"] == "DataStack/DataKey"]
    assert on_key and {(f["file"], f["line"], f["column"]) for f in on_key} == {
        ("examples/cdk/app/lib/data-stack.ts", 19, 17)}
    for finding in on_key:
        template = finding["related"][0]
        assert template["file"] == "examples/cdk/app/cdk.out/DataStack.template.json"
        assert template["path"] == finding["path"]
        assert "synthesized as DataKey17AFBB84 in the template of stack DataStack" in template["message"]
        assert "cdk synth --debug" not in finding["message"]
    # a finding on the role's policy is on the grant that wrote that policy
    admin = [f for f in document["findings"] if f["construct"] == "DataStack/OpsRole/DefaultPolicy"]
    assert admin and {(f["file"], f["line"]) for f in admin} == {("examples/cdk/app/lib/data-stack.ts", 21)}


def test_nested_stage_assembly_is_read_and_its_frame_found_by_its_trailing_path():
    document = json.loads(invoke("-f", "json", "examples/cdk/app/cdk.out").stdout)
    files = [f["file"] for f in document["files"]]
    assert files == ["examples/cdk/app/cdk.out/DataStack.template.json",
                     "examples/cdk/app/cdk.out/assembly-Prod/ProdArchiveStackE7C91713.template.json"]
    archive = [f for f in document["findings"] if f["construct"] == "Prod/ArchiveStack/ArchiveKey"]
    assert archive and {(f["file"], f["line"]) for f in archive} == {("examples/cdk/app/lib/prod-stage.ts", 18)}


def test_asset_copies_and_cdk_files_are_not_analyzed_so_nothing_is_duplicated():
    result = invoke("-f", "json", "-v", "examples/cdk/app")
    document = json.loads(result.stdout)
    assert not any("asset." in f["file"] for f in document["files"])
    assert "examples/cdk/app/cdk.out/asset.4f2c1e0b9a/ (a CDK asset copy)" in result.stderr
    assert "examples/cdk/app/cdk.out/DataStack.metadata.json (CDK's own metadata, not a template)" in result.stderr
    keys = [(f["rule"], f["path"], f["message"]) for f in document["findings"]]
    assert len(keys) == len(set(keys))


def test_cdk_nag_rotation_suppression_on_the_key_is_honoured():
    document = json.loads(invoke("-f", "json", "examples/cdk/app/cdk.out").stdout)
    kp011 = [f for f in document["findings"] if f["rule"] == "KP011"]
    assert [(f["construct"], f["suppressed"], f["suppression_reason"]) for f in kp011] == [
        ("Prod/ArchiveStack/ArchiveKey", True, "archive key material is rotated by re-encryption")]


def test_without_traces_the_template_line_stays_and_the_message_says_how():
    document = json.loads(invoke("-f", "json", "examples/cdk/v1-legacy/cdk.out").stdout)
    assert document["findings"]
    for finding in document["findings"]:
        assert finding["file"] == "examples/cdk/v1-legacy/cdk.out/LegacyStack.template.json"
        assert finding["construct"] == "LegacyStack/LegacyKey"
        assert finding["message"].endswith("synthesize with `cdk synth --debug` (or CDK_DEBUG=true) to have "
                                           "it reported on the line of the app that created LegacyStack/LegacyKey.")


def test_a_template_named_alone_still_gets_its_construct_and_source_line():
    document = json.loads(invoke("-f", "json", "examples/cdk/app/cdk.out/DataStack.template.json").stdout)
    assert {f["file"] for f in document["findings"]} == {"examples/cdk/app/lib/data-stack.ts"}


def test_sarif_has_the_construct_as_a_logical_location_and_is_valid():
    jsonschema = pytest.importorskip("jsonschema")
    sarif = json.loads(invoke("-f", "sarif", "examples/cdk/app/cdk.out").stdout)
    jsonschema.validate(sarif, json.loads((ROOT / "tests/data/sarif-schema-2.1.0.json").read_text()))
    results = sarif["runs"][0]["results"]
    first = next(r for r in results if r["properties"].get("construct") == "DataStack/DataKey")
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "examples/cdk/app/lib/data-stack.ts"
    assert first["locations"][0]["logicalLocations"] == [
        {"name": "DataKey17AFBB84", "kind": "resource"},
        {"name": "DataKey", "fullyQualifiedName": "DataStack/DataKey"}]
    assert first["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "examples/cdk/app/cdk.out/DataStack.template.json"


def test_github_annotations_and_text_name_the_construct():
    github = invoke("-f", "github", "examples/cdk/app/cdk.out").stdout
    assert "file=examples/cdk/app/lib/data-stack.ts,line=19" in github
    assert "%0AConstruct: DataStack/DataKey" in github
    text = invoke("examples/cdk/app/cdk.out").stdout
    assert ("KP001 [medium] examples/cdk/app/lib/data-stack.ts:19:17  DataKey17AFBB84  "
            "(construct DataStack/DataKey)") in text
    assert " 19 |     const key = new kms.Key(this, 'DataKey', { enableKeyRotation: true });" in text


# --------------------------------------------------------------------------- broken assemblies


def copy_app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    shutil.copytree(ROOT / "examples/cdk/app", app)
    return app


def test_a_manifest_that_names_a_missing_template_is_an_error(tmp_path):
    app = copy_app(tmp_path)
    (app / "cdk.out/DataStack.template.json").unlink()
    result = invoke("-f", "json", str(app / "cdk.out"))
    errors = json.loads(result.stdout)["errors"]
    assert result.exit_code == 2
    assert [e["message"] for e in errors] == ["stack DataStack: its template DataStack.template.json is missing"]
    assert errors[0]["file"].endswith("cdk.out/manifest.json")


def test_a_template_named_alone_reports_the_problems_of_its_assembly_once(tmp_path):
    app = copy_app(tmp_path)
    (app / "cdk.out/DataStack.metadata.json").unlink()
    template = str(app / "cdk.out/DataStack.template.json")
    result = invoke("-f", "json", template, template, str(app / "cdk.out"))
    errors = json.loads(result.stdout)["errors"]
    assert result.exit_code == 2
    assert [e["message"] for e in errors] == ["stack DataStack: its metadata file DataStack.metadata.json is missing"]


def test_a_manifest_that_does_not_parse_is_an_error_with_its_line(tmp_path):
    app = copy_app(tmp_path)
    (app / "cdk.out/assembly-Prod/manifest.json").write_text('{"version": "36.0.0", "artifacts": {\n  "x": ]\n}')
    result = invoke("-f", "json", str(app / "cdk.out"))
    errors = json.loads(result.stdout)["errors"]
    assert result.exit_code == 2 and len(errors) == 1
    assert errors[0]["file"].endswith("assembly-Prod/manifest.json") and "(line 2)" in errors[0]["message"]


def test_a_source_file_not_found_leaves_the_finding_on_the_template_and_says_so(tmp_path):
    app = copy_app(tmp_path)
    (app / "lib/data-stack.ts").unlink()
    document = json.loads(invoke("-f", "json", "--root", str(tmp_path), str(app / "cdk.out")).stdout)
    on_key = [f for f in document["findings"] if f["construct"] == "DataStack/DataKey"]
    assert on_key and all(f["file"] == "app/cdk.out/DataStack.template.json" for f in on_key)
    assert all("DataStack/DataKey was created at /home/dev/work/kms-app/lib/data-stack.ts:19:17, a file not "
               "found in the application's folder app/." in f["message"] for f in on_key)


def test_a_trace_beyond_the_end_of_the_source_says_the_assembly_is_stale(tmp_path):
    app = copy_app(tmp_path)
    (app / "lib/data-stack.ts").write_text("// emptied\n")
    document = json.loads(invoke("-f", "json", str(app / "cdk.out")).stdout)
    on_key = [f for f in document["findings"] if f["construct"] == "DataStack/DataKey"]
    assert on_key and all("the cloud assembly is older than the source, synthesize again" in f["message"]
                          for f in on_key)


# --------------------------------------------------------------------------- traces


@pytest.mark.parametrize(("text", "frame"), [
    ("new DataStack (/app/lib/data-stack.ts:19:17)", ("/app/lib/data-stack.ts", 19, 17)),
    ("/app/bin/app.ts:7:1", ("/app/bin/app.ts", 7, 1)),
    ("__init__ (/app/stacks/data.py:14)", ("/app/stacks/data.py", 14, 1)),
    ("Object.<anonymous> (file:///app/bin/app%20v2.mjs:3:5)", ("/app/bin/app v2.mjs", 3, 5)),
    ("new DataStack (C:\\work\\app\\lib\\data-stack.ts:19:17)", ("C:/work/app/lib/data-stack.ts", 19, 17)),
])
def test_frames_are_parsed(text, frame):
    parsed = parse_frame(text)
    assert (parsed.file, parsed.line, parsed.column) == frame


@pytest.mark.parametrize("text", ["...constructs, new Key in aws-cdk-lib...", "...node internals...",
                                  "(no user code in 10 frames, use --stack-trace-limit to capture more)", "native"])
def test_lines_that_are_not_frames_are_none(text):
    assert parse_frame(text) is None


def test_the_first_frame_in_the_application_is_chosen_past_libraries_and_runtimes():
    trace = ("new CfnKey (/a/node_modules/aws-cdk-lib/aws-kms/lib/kms.generated.js:1:9)",
             "Kernel._create (/venv/lib/python3.11/site-packages/jsii/_embedded/jsii/lib/program.js:9:1)",
             "Module._compile (node:internal/modules/cjs/loader:1364:14)",
             "internal/main/run_main_module.js:17:47",
             "new Key (/src/aws-cdk/packages/aws-cdk-lib/aws-kms/lib/key.ts:10:5)",
             "__init__ (/a/stacks/data.py:14)",
             "<module> (/a/app.py:9)")
    assert str(first_application_frame(trace)) == "/a/stacks/data.py:14:1"
    assert first_application_frame(trace[:5]) is None


def test_a_frame_is_found_under_the_app_folder_by_the_synthesis_root_or_its_trailing_path(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "stack.ts").write_text("x\n")
    trace = ("new Key (/ci/build/node_modules/aws-cdk-lib/aws-kms/lib/key.js:1:9)",
             "new S (/ci/build/lib/stack.ts:1:1)")
    frame = first_application_frame(trace)
    assert find_source(frame, trace, str(tmp_path)) == str(tmp_path / "lib" / "stack.ts")
    no_root = parse_frame("new S (/elsewhere/checkout/lib/stack.ts:1:1)")
    assert find_source(no_root, (), str(tmp_path)) == str(tmp_path / "lib" / "stack.ts")
    assert find_source(parse_frame("new S (/elsewhere/stack.ts:1:1)"), (), str(tmp_path)) is None


def test_a_trace_naming_a_file_outside_the_application_is_never_read(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    secret = tmp_path / "secret.ts"
    secret.write_text("the first line of a file the check must not quote\n")
    (app / "link.ts").symlink_to(secret)
    assert find_source(parse_frame(f"new S ({secret}:1:1)"), (), str(app)) is None
    assert find_source(parse_frame(f"new S ({app}/link.ts:1:1)"), (), str(app)) is None


# --------------------------------------------------------------------------- cdk-nag suppressions


UNROTATED = """{{
 {stack}"Resources": {{
  "KeyA1B2C3D4": {{
   "Type": "AWS::KMS::Key",
   "Properties": {{"KeyPolicy": {{"Statement": [{{"Action": "kms:*", "Effect": "Allow",
     "Principal": {{"AWS": {{"Fn::Join": ["", ["arn:", {{"Ref": "AWS::Partition"}}, ":iam::",
                                               {{"Ref": "AWS::AccountId"}}, ":root"]]}}}},
     "Resource": "*"}}]}}}},
   "Metadata": {{{key}"aws:cdk:path": "S/Key/Resource"}}
  }}
 }}
}}
"""


def kp011(tmp_path, key: str = "", stack: str = "") -> dict:
    path = tmp_path / "S.template.json"
    path.write_text(UNROTATED.format(key=key, stack=stack))
    document = json.loads(invoke("-f", "json", str(path)).stdout)
    return next(f for f in document["findings"] if f["rule"] == "KP011")


def nag(*items) -> str:
    return json.dumps({"rules_to_suppress": list(items)})


def test_cdk_nag_pack_rotation_rules_suppress_kp011(tmp_path):
    assert kp011(tmp_path)["suppressed"] is False
    for rule in ("AwsSolutions-KMS5", "NIST.800.53.R5-KMSBackingKeyRotationEnabled",
                 "HIPAA.Security-KMSBackingKeyRotationEnabled", "PCI.DSS.321-KMSBackingKeyRotationEnabled"):
        finding = kp011(tmp_path, key=f'"cdk_nag": {nag({"id": rule, "reason": "rotated by hand yearly"})}, ')
        assert (finding["suppressed"], finding["suppression_reason"]) == (True, "rotated by hand yearly"), rule


def test_cdk_nag_other_rules_and_granular_suppressions_do_not_suppress(tmp_path):
    assert kp011(tmp_path, key=f'"cdk_nag": {nag({"id": "AwsSolutions-IAM5", "reason": "not this one"})}, ')[
        "suppressed"] is False
    granular = {"id": "AwsSolutions-KMS5", "reason": "only some findings", "applies_to": ["Resource::*"]}
    assert kp011(tmp_path, key=f'"cdk_nag": {nag(granular)}, ')["suppressed"] is False


def test_cdk_nag_encoded_reason_and_stack_suppression(tmp_path):
    encoded = base64.b64encode("rotated by re-encryption — yearly".encode()).decode()
    suppression = {"id": "AwsSolutions-KMS5", "reason": encoded, "is_reason_encoded": True}
    finding = kp011(tmp_path, key=f'"cdk_nag": {nag(suppression)}, ')
    assert finding["suppression_reason"] == "rotated by re-encryption — yearly"
    stack = f'"Metadata": {{"cdk_nag": {nag({"id": "AwsSolutions-KMS5", "reason": "whole stack accepted"})}}}, '
    finding = kp011(tmp_path, stack=stack)
    assert (finding["suppressed"], finding["suppression_reason"]) == (True, "whole stack accepted")
    assert finding["construct"] == "S/Key"


def test_an_assembly_is_found_by_its_manifest_whatever_its_folder_is_named(tmp_path):
    shutil.copytree(ROOT / "examples/cdk/app", tmp_path / "infra", ignore=shutil.ignore_patterns("expected.json"))
    (tmp_path / "infra/cdk.out").rename(tmp_path / "infra/synth-output")
    result = invoke("-f", "json", "-v", "--root", str(tmp_path), str(tmp_path))
    document = json.loads(result.stdout)
    assert [f["file"] for f in document["files"]] == [
        "infra/synth-output/DataStack.template.json",
        "infra/synth-output/assembly-Prod/ProdArchiveStackE7C91713.template.json"]
    assert "infra/synth-output/asset.4f2c1e0b9a/ (a CDK asset copy)" in result.stderr
    assert {f["file"] for f in document["findings"]} == {"infra/lib/data-stack.ts", "infra/lib/prod-stage.ts"}
