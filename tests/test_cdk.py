"""CDK applications (bridge/cdk/, docs/cdk.md): a cloud assembly read from its manifest,
nested stages included; every finding names its construct; with creation traces the
finding is on the app's line and the template line is related; without them it stays on
the template and says how to get the app's line; cdk-nag's rotation suppressions.

tests/data/cdk-app is a TypeScript app and the cloud assembly `cdk synth --debug` made of
it (`make cdk-fixture`; its traces name the absolute paths of the machine that ran it). The
goldens are its expected.json and examples/cdk/*/expected.json (regenerate after an
intended change with KMSPOLICY_UPDATE_GOLDEN=1 and review the diff)."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmspolicy.bridge import schema
from kmspolicy.bridge.cdk.traces import find_source, first_application_frame, frames_cut_short, parse_frame
from kmspolicy.cli.main import main

from .conftest import ROOT

APP = ROOT / "tests" / "data" / "cdk-app"
APP_OUT = "tests/data/cdk-app/cdk.out"
DATA_TEMPLATE = f"{APP_OUT}/DataStack.template.json"
ARCHIVE_TEMPLATE = f"{APP_OUT}/assembly-Prod/ProdArchiveStackE7C91713.template.json"
VAULT_TEMPLATE = f"{APP_OUT}/assembly-Prod/ProdArchiveStackVaultD602AA13.nested.template.json"
CDK_GOLDENS = [APP, *sorted(p.parent for p in (ROOT / "examples" / "cdk").glob("*/expected.json"))]
UPDATE = os.environ.get("KMSPOLICY_UPDATE_GOLDEN") == "1"


def invoke(*args):
    return CliRunner().invoke(main, ["eval", "-j", "1", "--timeout", "0", *args])


def findings_of(*args) -> list[dict]:
    return json.loads(invoke("-f", "json", *args).stdout)["findings"]


def golden_view(document: dict) -> list[dict]:
    keep = ("rule", "file", "line", "column", "construct", "suppressed")
    return [{k: f[k] for k in keep if k in f}
            | {"related_first": f"{f['related'][0]['file']}:{f['related'][0]['line']}" if f["related"] else None}
            for f in document["findings"]]


def recorded_frame(metadata_file: Path, construct_path: str) -> str:
    """The first frame of the app's code CDK recorded for a construct (an absolute path of
    the machine that synthesized the fixture)."""
    entries = json.loads(metadata_file.read_text())[construct_path]
    trace = next(e["data"] for e in entries if e["type"] == "aws:cdk:creationStack")
    return str(first_application_frame(tuple(trace)))


@pytest.fixture(autouse=True)
def in_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("example", CDK_GOLDENS, ids=lambda p: p.name)
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
    findings = findings_of(APP_OUT)
    on_key = [f for f in findings if f["construct"] == "DataStack/DataKey"]
    assert on_key and {(f["file"], f["line"], f["column"]) for f in on_key} == {
        ("tests/data/cdk-app/lib/data-stack.ts", 24, 17)}
    for finding in on_key:
        template = finding["related"][0]
        assert template["file"] == DATA_TEMPLATE
        assert template["path"] == finding["path"]
        assert "synthesized as DataKey17AFBB84 in the template of stack DataStack" in template["message"]
        assert "cdk synth --debug" not in finding["message"]
    # a finding on the role's policy is on the grant that wrote that policy
    admin = [f for f in findings if f["construct"] == "DataStack/OpsRole/DefaultPolicy"]
    assert admin and {(f["file"], f["line"]) for f in admin} == {("tests/data/cdk-app/lib/data-stack.ts", 26)}
    source = (APP / "lib/data-stack.ts").read_text().splitlines()
    assert source[23].strip().startswith("const key = new kms.Key(this, 'DataKey'")
    assert source[25].strip() == "key.grantAdmin(opsRole);"


def test_intent_added_with_add_metadata_names_the_roles_by_their_arn_tokens():
    """`addMetadata('kmspolicy', {admins: [opsRole.roleArn], ...})` synthesizes to Fn::GetAtt:
    the role given key administration by grantAdmin (kms:Create*, kms:Put*) is a declared
    administrator that can give itself use, once per way, on the grantAdmin line."""
    admin = [f for f in findings_of(APP_OUT) if f["construct"] == "DataStack/OpsRole/DefaultPolicy"]
    assert [(f["rule"], f["line"]) for f in admin] == [("KP003", 26), ("KP003", 26)]
    assert all("OpsRoleBC007320 administers DataKey17AFBB84 (declared)" in f["message"] for f in admin)
    assert [f["path"].rsplit("/", 1)[-1] for f in admin] == ["1", "8"]  # kms:Create*, kms:Put*


def test_nested_stage_assembly_is_read_and_its_stacks_found():
    document = json.loads(invoke("-f", "json", APP_OUT).stdout)
    assert [f["file"] for f in document["files"]] == [
        DATA_TEMPLATE, ARCHIVE_TEMPLATE, VAULT_TEMPLATE,
        f"{APP_OUT}/assembly-Prod/ProdReaderStack332BF80C.template.json"]
    archive = [f for f in document["findings"] if f["construct"] == "Prod/ArchiveStack/ArchiveKey"]
    assert archive and {(f["file"], f["line"]) for f in archive} == {("tests/data/cdk-app/lib/prod-stage.ts", 27)}


def test_a_nested_stack_is_its_parent_stack_for_account_and_creation_traces():
    """The nested template is a file asset of ArchiveStack, whose metadata holds the nested
    constructs: its key is on the app's line, and 111111111111 is its own account too."""
    vault = [f for f in findings_of(APP_OUT) if f["construct"] == "Prod/ArchiveStack/Vault/VaultKey"]
    assert [(f["rule"], f["file"], f["line"], f["column"]) for f in vault] == [
        ("KP001", "tests/data/cdk-app/lib/prod-stage.ts", 33, 5)]
    assert vault[0]["related"][0]["file"] == VAULT_TEMPLATE
    assert vault[0]["related"][0]["message"] == (
        "synthesized as VaultKey6B75F33E in the template of a nested stack of Prod/ArchiveStack "
        "(ProdArchiveStackVaultD602AA13.nested.template.json)")


def test_the_account_of_a_stack_environment_is_the_stack_own():
    """ArchiveStack's `env` names 111111111111: CDK writes that account literally in the key
    policy, and it is the stack's own account, not another one (nor a lockout)."""
    archive = [f for f in findings_of(APP_OUT) if f["construct"] == "Prod/ArchiveStack/ArchiveKey"]
    assert sorted(f["rule"] for f in archive) == ["KP001", "KP011", "KP012"]
    kp001 = next(f for f in archive if f["rule"] == "KP001")
    assert kp001["message"].startswith("arn:aws:iam::111111111111:root is the whole account, not the root user")
    # the grant to a role of ReaderStack (account 222222222222) names that role in the key policy
    kp012 = next(f for f in archive if f["rule"] == "KP012")
    assert kp012["message"].startswith(
        "arn:aws:iam::222222222222:role/prod-readerstackrstackreaderrole523b91f811c66d8de687 belongs to account "
        "222222222222, not the stack's own (111111111111): it can call kms:Decrypt on ArchiveKeyDC5BCBC1")
    assert "list it under `accounts`" not in kp012["message"]


def test_the_rule_input_carries_the_account_of_the_stack_environment():
    def accounts(template):
        result = CliRunner().invoke(main, ["input", "--compact", template])
        document = json.loads(result.stdout)
        schema.validate(document, "input-v2")
        return document.get("accounts")

    assert accounts(ARCHIVE_TEMPLATE) == ["111111111111"]
    assert accounts(DATA_TEMPLATE) is None  # environment-agnostic


def test_access_knows_the_account_of_the_stack_environment():
    """Management is not possible across accounts: 111111111111 manages the key only as its own."""
    result = CliRunner().invoke(main, ["access", "-f", "json", ARCHIVE_TEMPLATE])
    subjects = {s["id"]: s["cells"] for s in json.loads(result.stdout)["keys"][0]["subjects"]}
    assert subjects["account:111111111111"]["manage"]["verdict"] == "allowed"


def test_fix_knows_the_account_of_the_stack_environment():
    result = CliRunner().invoke(main, ["fix", ARCHIVE_TEMPLATE])
    assert "of another account" not in result.output
    assert "no deployer is known" in result.output  # what a policy for this key needs from the user


def test_an_environment_agnostic_stack_keeps_literal_accounts_unknown():
    kp012 = next(f for f in findings_of(APP_OUT) if f["rule"] == "KP012" and f["construct"] == "DataStack/DataKey")
    assert "222222222222 is the stack's own account, list it under `accounts`" in kp012["message"]


def test_asset_copies_and_cdk_files_are_not_analyzed_so_nothing_is_duplicated():
    result = invoke("-f", "json", "-v", "tests/data/cdk-app")
    document = json.loads(result.stdout)
    assert not any("asset." in f["file"] for f in document["files"])
    copies = sorted(p.name for p in (APP / "cdk.out").glob("asset.*"))
    assert len(copies) == 2 and any((APP / "cdk.out" / c / "template.yaml").is_file() for c in copies)
    for copy in copies:
        assert f"{APP_OUT}/{copy}/ (a CDK asset copy)" in result.stderr
    assert f"{APP_OUT}/DataStack.metadata.json (CDK's own metadata, not a template)" in result.stderr
    # the app's own blueprint is analyzed once, from its source
    assert "tests/data/cdk-app/blueprints/template.yaml" in [f["file"] for f in document["files"]]
    keys = [(f["file"], f["rule"], f["path"], f["message"]) for f in document["findings"]]
    assert len(keys) == len(set(keys))


def test_cdk_nag_rotation_suppression_on_the_key_is_honoured():
    kp011 = [f for f in findings_of(APP_OUT) if f["rule"] == "KP011"]
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
    assert {f["file"] for f in findings_of(DATA_TEMPLATE)} == {"tests/data/cdk-app/lib/data-stack.ts"}


def test_sarif_has_the_construct_as_a_logical_location_and_is_valid():
    from .test_reporters_ci import valid_sarif

    sarif = valid_sarif(json.loads(invoke("-f", "sarif", APP_OUT).stdout))
    results = sarif["runs"][0]["results"]
    assert {r["properties"].get("construct") for r in results} == {
        "DataStack/DataKey", "DataStack/OpsRole/DefaultPolicy", "Prod/ArchiveStack/ArchiveKey",
        "Prod/ArchiveStack/Vault/VaultKey"}
    first = next(r for r in results if r["properties"].get("construct") == "DataStack/DataKey")
    physical = first["locations"][0]["physicalLocation"]
    assert (physical["artifactLocation"]["uri"], physical["region"]["startLine"]) == (
        "tests/data/cdk-app/lib/data-stack.ts", 24)
    assert first["locations"][0]["logicalLocations"] == [
        {"name": "DataKey17AFBB84", "kind": "resource"},
        {"name": "DataKey", "fullyQualifiedName": "DataStack/DataKey"}]
    assert first["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == DATA_TEMPLATE
    policy = next(r for r in results if r["properties"].get("construct") == "DataStack/OpsRole/DefaultPolicy")
    assert policy["locations"][0]["logicalLocations"][1] == {
        "name": "DefaultPolicy", "fullyQualifiedName": "DataStack/OpsRole/DefaultPolicy"}


def test_github_annotations_and_text_name_the_construct():
    github = invoke("-f", "github", APP_OUT).stdout
    assert "file=tests/data/cdk-app/lib/data-stack.ts,line=24" in github
    assert "%0AConstruct: DataStack/DataKey" in github
    text = invoke(APP_OUT).stdout
    assert ("KP001 [high] tests/data/cdk-app/lib/data-stack.ts:24:17  DataKey17AFBB84  "
            "(construct DataStack/DataKey)") in text
    assert " 24 |     const key = new kms.Key(this, 'DataKey', { enableKeyRotation: true });" in text


# --------------------------------------------------------------------------- another clone


def copy_app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    shutil.copytree(APP, app, ignore=shutil.ignore_patterns("node_modules"))
    return app


def test_a_clone_elsewhere_finds_the_recorded_files_in_its_own_app_folder(tmp_path):
    """The traces name the folder the fixture was synthesized in; a clone at another path
    (CI's) reports the same lines, of its own files, relative to where it is run."""
    app = copy_app(tmp_path)
    recorded = recorded_frame(app / "cdk.out/DataStack.metadata.json", "/DataStack/DataKey/Resource")
    assert recorded.endswith("/lib/data-stack.ts:24:17") and not recorded.startswith(str(tmp_path))
    findings = findings_of("--root", str(tmp_path), str(app / "cdk.out"))
    assert {(f["construct"], f["file"], f["line"]) for f in findings} == {
        ("DataStack/DataKey", "app/lib/data-stack.ts", 24),
        ("DataStack/OpsRole/DefaultPolicy", "app/lib/data-stack.ts", 26),
        ("Prod/ArchiveStack/ArchiveKey", "app/lib/prod-stage.ts", 27),
        ("Prod/ArchiveStack/Vault/VaultKey", "app/lib/prod-stage.ts", 33)}


def test_inline_metadata_and_per_entry_traces_of_older_cdk_versions_are_read(tmp_path):
    """Older CDK versions write the construct metadata in the manifest and the creation
    trace as the `trace` of each entry."""
    app = copy_app(tmp_path)
    manifest_file = app / "cdk.out/manifest.json"
    manifest = json.loads(manifest_file.read_text())
    stack = manifest["artifacts"]["DataStack"]
    metadata = json.loads((app / "cdk.out" / stack.pop("additionalMetadataFile")).read_text())
    for entries in metadata.values():
        trace = next((e["data"] for e in entries if e["type"] == "aws:cdk:creationStack"), None)
        entries[:] = [e | ({"trace": trace} if trace else {}) for e in entries if e["type"] != "aws:cdk:creationStack"]
    stack["metadata"] = metadata
    manifest_file.write_text(json.dumps(manifest))
    (app / "cdk.out/DataStack.metadata.json").unlink()
    findings = findings_of("--root", str(tmp_path), str(app / "cdk.out/DataStack.template.json"))
    assert {(f["construct"], f["file"], f["line"]) for f in findings} == {
        ("DataStack/DataKey", "app/lib/data-stack.ts", 24),
        ("DataStack/OpsRole/DefaultPolicy", "app/lib/data-stack.ts", 26)}


def test_a_logical_id_repeated_in_the_parent_metadata_is_told_apart_by_its_cdk_path(tmp_path):
    """A stack's metadata lists its nested stacks' constructs too, and logical IDs are unique
    only within one template: the resource's own aws:cdk:path says which construct it is."""
    app = copy_app(tmp_path)
    metadata_file = app / "cdk.out/assembly-Prod/ProdArchiveStackE7C91713.metadata.json"
    metadata = json.loads(metadata_file.read_text())
    metadata["/Prod/ArchiveStack/Elsewhere/Resource"] = [{"type": "aws:cdk:logicalId", "data": "VaultKey6B75F33E"}]
    metadata_file.write_text(json.dumps(metadata))
    vault = [f for f in findings_of("--root", str(tmp_path), str(app / "cdk.out"))
             if f["resource"] == "VaultKey6B75F33E"]
    assert [(f["construct"], f["file"], f["line"]) for f in vault] == [
        ("Prod/ArchiveStack/Vault/VaultKey", "app/lib/prod-stage.ts", 33)]


# --------------------------------------------------------------------------- broken assemblies


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
    recorded = recorded_frame(app / "cdk.out/DataStack.metadata.json", "/DataStack/DataKey/Resource")
    on_key = [f for f in findings_of("--root", str(tmp_path), str(app / "cdk.out"))
              if f["construct"] == "DataStack/DataKey"]
    assert on_key and all(f["file"] == "app/cdk.out/DataStack.template.json" for f in on_key)
    assert all(f"DataStack/DataKey was created at {recorded}, a file not found in the application's folder app/."
               in f["message"] for f in on_key)


def test_a_trace_beyond_the_end_of_the_source_says_the_assembly_is_stale(tmp_path):
    app = copy_app(tmp_path)
    (app / "lib/data-stack.ts").write_text("// emptied\n")
    on_key = [f for f in findings_of(str(app / "cdk.out")) if f["construct"] == "DataStack/DataKey"]
    assert on_key and all("the cloud assembly is older than the source, synthesize again" in f["message"]
                          for f in on_key)


def test_a_trace_node_cut_short_says_how_to_record_more_frames(tmp_path):
    """What `cdk synth --debug` records for a grant's DefaultPolicy with Node's default limit
    of 10 frames (the fixture is synthesized with a higher one)."""
    app = copy_app(tmp_path)
    metadata_file = app / "cdk.out/DataStack.metadata.json"
    metadata = json.loads(metadata_file.read_text())
    for entry in metadata["/DataStack/OpsRole/DefaultPolicy/Resource"]:
        if entry["type"] == "aws:cdk:creationStack":
            entry["data"] = ["...aws-cdk-lib...",
                             "(no user code in 10 frames, use --stack-trace-limit to capture more)"]
    metadata_file.write_text(json.dumps(metadata))
    policy = [f for f in findings_of(str(app / "cdk.out")) if f["construct"] == "DataStack/OpsRole/DefaultPolicy"]
    assert policy and all(f["file"].endswith("app/cdk.out/DataStack.template.json") for f in policy)
    assert all(f["message"].endswith(
        "the creation trace of DataStack/OpsRole/DefaultPolicy ends after 10 frames (Node's stack trace "
        "limit), none in the application's own code; synthesize with NODE_OPTIONS=--stack-trace-limit=60 "
        "set as well to have it reported on the line of the app that created it.") for f in policy)


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


def test_a_trace_cut_short_by_node_is_told_apart():
    assert frames_cut_short(("...aws-cdk-lib...",
                             "(no user code in 10 frames, use --stack-trace-limit to capture more)")) == 10
    assert frames_cut_short(("...new Key2 in aws-cdk-lib...", "new S (/a/lib/s.ts:3:5)")) is None


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
    shutil.copytree(APP, tmp_path / "infra",
                    ignore=shutil.ignore_patterns("expected.json", "node_modules", "blueprints"))
    (tmp_path / "infra/cdk.out").rename(tmp_path / "infra/synth-output")
    result = invoke("-f", "json", "-v", "--root", str(tmp_path), str(tmp_path))
    document = json.loads(result.stdout)
    assert [f["file"] for f in document["files"]] == [
        "infra/synth-output/DataStack.template.json",
        "infra/synth-output/assembly-Prod/ProdArchiveStackE7C91713.template.json",
        "infra/synth-output/assembly-Prod/ProdArchiveStackVaultD602AA13.nested.template.json",
        "infra/synth-output/assembly-Prod/ProdReaderStack332BF80C.template.json"]
    assert sum("infra/synth-output/asset." in line and "(a CDK asset copy)" in line
               for line in result.stderr.splitlines()) == 2
    assert {f["file"] for f in document["findings"]} == {"infra/lib/data-stack.ts", "infra/lib/prod-stage.ts"}
