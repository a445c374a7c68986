"""Hostile and broken input: every problem is an error entry, nothing crashes, nothing
passes silently (issue 7). The corpus is tests/data/bad/ with its manifest expected.yaml."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from click.testing import CliRunner

from kmspolicy.bridge import intrinsics, load, principals, statements, template_checks
from kmspolicy.bridge.engines import EngineError
from kmspolicy.bridge.findings import FileError, Result
from kmspolicy.bridge.normalize import normalize
from kmspolicy.bridge.pipeline import Analyzer
from kmspolicy.cli import reporters
from kmspolicy.cli.main import main
from kmspolicy.cli.run import run

from .conftest import CORPUS, EXAMPLES, corpus_templates

BAD = Path(__file__).parent / "data" / "bad"
MANIFEST = yaml.safe_load((BAD / "expected.yaml").read_text(encoding="utf-8"))
SEED = EXAMPLES / "seed" / "template.yaml"


def analyzer_like(analyzer: Analyzer, **options) -> Analyzer:
    """The session analyzer's policies and engine with other per-file options."""
    return Analyzer(analyzer.policies, engine=analyzer.engine, **options)


def cli(*args: str):
    """eval in this process (--timeout 0: no worker), where the tests' monkeypatches apply."""
    return CliRunner().invoke(main, ["eval", "--jobs", "1", "--timeout", "0", "--no-color", *args])


# --------------------------------------------------------------------------- the corpus


def test_manifest_lists_every_file_and_every_entry_has_one():
    files = {p.name for p in BAD.iterdir()} - {"expected.yaml"}
    assert files == set(MANIFEST)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_bad_file_is_an_error_with_its_line(analyzer, name):
    spec = MANIFEST[name]
    runner = analyzer_like(analyzer, max_bytes=spec.get("max_file_size"))
    result = run([str(BAD / name)], runner)

    assert result.exit_code() == 2
    assert result.exit_code("never") == 0
    got = [(e.message, e.line, e.column) for e in result.errors]
    assert len(got) == len(spec["errors"]), got
    for want in spec["errors"]:
        assert any(want["message"] in message and line == want["line"]
                   and column == want.get("column", column)
                   for message, line, column in got), (want, got)
    for error in result.errors:
        assert error.kind == "input" and error.file.endswith(name)
        assert "\n" not in error.message and "Traceback" not in error.message
    assert all(status.status == "error" for status in result.files)


@pytest.mark.parametrize("name", sorted(n for n, s in MANIFEST.items() if "statements" in s))
def test_a_malformed_statement_does_not_hide_the_valid_ones(analyzer, name):
    spec = MANIFEST[name]
    report = analyzer.analyze(str(BAD / name))
    assert report.status == "error" and report.errors
    key = report.input["keys"]["Key"]
    assert len(key["statements"]) == spec["statements"]
    assert key["policy_complete"] is False or not name.startswith(("statement", "effect"))
    if spec.get("findings"):
        assert report.findings, "the rest of the key was not analyzed"


@pytest.mark.parametrize("name", sorted(n for n, s in MANIFEST.items() if s.get("findings")))
def test_findings_of_a_partly_broken_file_are_still_reported(analyzer, name):
    report = analyzer.analyze(str(BAD / name))
    assert report.findings and report.errors and report.status == "error"


def test_python_tags_construct_nothing(analyzer, tmp_path):
    marker = Path("/tmp/kmspolicy-pwned")
    marker.unlink(missing_ok=True)
    for name in ("python_object_apply.yaml", "python_name.yaml"):
        assert analyzer.analyze(str(BAD / name)).status == "error"
    assert not marker.exists()


def test_whole_corpus_through_the_cli_text_and_json(tmp_path):
    out = tmp_path / "result.json"
    # named one by one: a folder scan passes over the files that do not look like templates
    # (tests/test_discover.py), a file named on the command line is always analyzed
    files = [str(BAD / name) for name in sorted(MANIFEST)]
    result = cli("--max-file-size", "1000000", "-f", "text", "-f", f"json={out}", *files)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    document = json.loads(out.read_text())
    by_file = {}
    for error in document["errors"]:
        by_file.setdefault(Path(error["file"]).name, []).append(error)
    expected = {name for name, spec in MANIFEST.items() if "max_file_size" not in spec}
    assert expected <= set(by_file)
    for name in expected:
        for want in MANIFEST[name]["errors"]:
            assert any(want["message"] in e["message"] and e["line"] == want["line"]
                       for e in by_file[name]), (name, want)
            line = f":{want['line']}" if want["line"] else ""
            assert any(f"{name}{line}" in text and want["message"] in text
                       for text in result.output.splitlines() if text.startswith("error: ")), name
    assert document["summary"]["errors"] == len(document["errors"])


def test_fail_on_never_keeps_the_errors_but_exits_0():
    result = cli("--fail-on", "never", "-f", "json", str(BAD / "truncated.yaml"), str(SEED))
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert [Path(e["file"]).name for e in document["errors"]] == ["truncated.yaml"]
    assert document["findings"], "the good file is still analyzed"


def test_other_files_are_still_analyzed(analyzer):
    result = run([str(BAD / "tabs.yaml"), str(SEED), str(BAD / "binary.yaml")], analyzer)
    assert result.exit_code() == 2
    statuses = {Path(f.file).name: f.status for f in result.files}
    assert statuses == {"tabs.yaml": "error", "template.yaml": "analyzed", "binary.yaml": "error"}
    assert {Path(f.file).name for f in result.findings} == {"template.yaml"}


def test_every_output_format_carries_the_error_entries():
    result = Result(errors=[FileError("templates/probe.yaml", "kmspolicy probe message 42", 3, 7)])
    context = reporters.ReportContext()
    for name, reporter in reporters.REPORTERS.items():
        output = reporter.render(result, context)
        assert "kmspolicy probe message 42" in output, name
        assert "probe.yaml" in output, name


# --------------------------------------------------------------------------- limits


def _template_with_metadata(value: str) -> str:
    return f"Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Metadata:\n      Big: {value}\n"


def _attempt(function, *args, **kwargs):
    """(result, TemplateError): what `function` returns, or the error it raises."""
    try:
        return function(*args, **kwargs), None
    except load.TemplateError as exc:
        return None, exc


def test_node_limit_just_under_and_just_over():
    overhead = 11  # root, Resources, its mapping, Key, its mapping, Type, value, Metadata, mapping, Big, list
    under = _template_with_metadata("[" + ", ".join(["0"] * (load.MAX_NODES - overhead)) + "]")
    loaded = load.load_text(under, "under.yaml")
    assert len(loaded.document["Resources"]["Key"]["Metadata"]["Big"]) == load.MAX_NODES - overhead
    over = _template_with_metadata("[" + ", ".join(["0"] * (load.MAX_NODES - overhead + 1)) + "]")
    _, error = _attempt(load.load_text, over, "over.yaml")
    assert error is not None and "MAX_NODES" in error.message


def test_alias_expansion_just_under_and_just_over():
    def laughs(levels: int, width: int) -> str:
        lines = ["      a0: &a0 [" + ", ".join(["x"] * width) + "]"]
        lines += [f"      a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]"
                  for i in range(1, levels)]
        return "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Metadata:\n" + "\n".join(lines) + "\n"
    # 10 + 100 + 1000 + 10000 + 100000 leaves: far over; one level less: well under
    _, error = _attempt(load.load_text, laughs(5, 10), "laughs.yaml")
    assert error is not None and "MAX_NODES" in error.message
    loaded, error = _attempt(load.load_text, laughs(4, 10), "laughs.yaml")
    assert error is None
    assert len(loaded.document["Resources"]["Key"]["Metadata"]["a3"]) == 10


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_depth_limit_just_under_and_just_over(suffix):
    levels = load.MAX_DEPTH - 4  # root, Resources, Key and Metadata mappings come first
    def text(depth: int) -> str:
        nested = "[" * depth + "]" * depth
        if suffix == "json":
            return ('{"Resources": {"Key": {"Type": "AWS::KMS::Key", "Metadata": {"Big": '
                    + nested + "}}}}")
        return _template_with_metadata(nested)
    _, error = _attempt(load.load_text, text(levels), f"under.{suffix}")
    assert error is None
    _, error = _attempt(load.load_text, text(levels + 1), f"over.{suffix}")
    assert error is not None and "MAX_DEPTH" in error.message
    _, error = _attempt(load.load_text, text(5000), f"thousands.{suffix}")
    assert error is not None and "depth" in error.message.lower()


def test_file_size_limit_just_under_and_just_over(analyzer, tmp_path):
    head = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Metadata:\n      Note: '"
    tail = "'\n"
    under = tmp_path / "under.yaml"
    under.write_text(head + "x" * (load.MAX_BYTES - len(head) - len(tail)) + tail)
    assert under.stat().st_size == load.MAX_BYTES
    report = analyzer.analyze(str(under))
    assert report.status == "analyzed" and not report.errors
    over = tmp_path / "over.yaml"
    over.write_text(head + "x" * (load.MAX_BYTES - len(head) - len(tail) + 1) + tail)
    report = analyzer.analyze(str(over))
    assert [e.message for e in report.errors] == [
        f"file is {load.MAX_BYTES + 1:,} bytes, larger than the {load.MAX_BYTES:,}-byte limit"]


def test_max_file_size_option(tmp_path):
    assert cli("--max-file-size", str(SEED.stat().st_size), str(SEED)).exit_code == 1
    result = cli("--max-file-size", str(SEED.stat().st_size - 1), str(SEED))
    assert result.exit_code == 2 and "-byte limit" in result.output
    assert cli("--max-file-size", "0", str(SEED)).exit_code == 2  # usage error, not a crash


def _key_policy(statement_list: list[dict]) -> dict:
    return {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {
        "KeyPolicy": {"Version": "2012-10-17", "Statement": statement_list}}}}}


def _statement(principal, action="kms:Decrypt") -> dict:
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": "*"}


def _analyze_document(analyzer, tmp_path, document: dict):
    """Just over a limit: the whole pipeline."""
    path = tmp_path / "template.json"
    path.write_text(json.dumps(document))
    return analyzer.analyze(str(path))


def _normalized(document: dict):
    """Just under a limit: everything is read into the rules' input, nothing refused. (The
    rules' evaluation time at the limits is measured in docs/limits.md, not here.)"""
    return normalize(document, "template.json")


def test_statement_limit_just_under_and_just_over(analyzer, tmp_path):
    admin = _statement("arn:aws:iam::111122223333:role/Admin", "kms:*")
    limit = statements.MAX_STATEMENTS
    under = _normalized(_key_policy([admin] * limit))
    assert not under.problems and len(under.input["keys"]["Key"]["statements"]) == limit
    report = _analyze_document(analyzer, tmp_path, _key_policy([admin] * (limit + 1)))
    assert [(e.message, e.line) for e in report.errors] == [
        (f"policy has {limit + 1} statements, more than the limit of {limit} (MAX_STATEMENTS); "
         "it is not analyzed", 1)]


def test_identity_policy_statement_limit_just_under_and_just_over(analyzer, tmp_path):
    def with_role(count: int) -> dict:
        document = _key_policy([_statement("arn:aws:iam::111122223333:root", "kms:*")])
        statement = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}
        document["Resources"]["App"] = {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {}, "Policies": [{"PolicyName": "p", "PolicyDocument": {
                "Statement": [statement] * count}}]}}
        return document

    under = _normalized(with_role(statements.MAX_STATEMENTS))
    assert not under.problems
    assert len(under.input["identities"]["App"]["statements"]) == statements.MAX_STATEMENTS
    report = _analyze_document(analyzer, tmp_path, with_role(statements.MAX_STATEMENTS + 1))
    assert report.status == "error"
    assert ["MAX_STATEMENTS" in e.message for e in report.errors] == [True]


def test_principal_limits_just_under_and_just_over(analyzer, tmp_path):
    per_statement = principals.MAX_PRINCIPALS_PER_STATEMENT
    per_key = statements.MAX_PRINCIPALS_PER_KEY
    roles = [f"arn:aws:iam::111122223333:role/R{i}" for i in range(2 * max(per_statement, per_key))]
    under = _normalized(_key_policy([_statement(roles[:per_statement])]))
    assert not under.problems
    assert len(under.input["keys"]["Key"]["statements"][0]["principals"]) == per_statement
    report = _analyze_document(analyzer, tmp_path, _key_policy(
        [_statement(roles[:per_statement + 1])]))
    assert ["MAX_PRINCIPALS_PER_STATEMENT" in e.message for e in report.errors] == [True]

    half = per_key // 2
    under = _normalized(_key_policy([_statement(roles[:half]),
                                     _statement(roles[half:per_key])]))
    assert not under.problems and len(under.input["keys"]["Key"]["subjects"]) > per_key
    report = _analyze_document(analyzer, tmp_path, _key_policy(
        [_statement(roles[:half]), _statement(roles[half:per_key + 1])]))
    assert ["MAX_PRINCIPALS_PER_KEY" in e.message for e in report.errors] == [True]


def test_resource_limit_just_under_and_just_over(analyzer, tmp_path):
    limit = template_checks.MAX_RESOURCES
    document = _key_policy([_statement("arn:aws:iam::111122223333:root", "kms:*")])
    document["Resources"].update({f"Topic{i}": {"Type": "AWS::SNS::Topic"} for i in range(limit - 1)})
    report = _analyze_document(analyzer, tmp_path, document)
    assert not report.errors and report.keys == 1
    document["Resources"]["OneTooMany"] = {"Type": "AWS::SNS::Topic"}
    report = _analyze_document(analyzer, tmp_path, document)
    assert ["MAX_RESOURCES" in e.message for e in report.errors] == [True]


def test_alternatives_limit_just_under_and_just_over(analyzer, tmp_path):
    def joined(ifs: int) -> dict:  # one independent Condition each: over 64 scenarios, merged
        document = _key_policy([_statement({"Fn::Join": ["", [
            "arn:aws:iam::111122223333:role/",
            *({"Fn::If": [f"C{i}", f"a{i}", f"b{i}"]} for i in range(ifs))]]})])
        document["Parameters"] = {f"P{i}": {"Type": "String"} for i in range(ifs)}
        document["Conditions"] = {f"C{i}": {"Fn::Equals": [{"Ref": f"P{i}"}, "a"]} for i in range(ifs)}
        return document

    doubling = intrinsics.MAX_ALTERNATIVES.bit_length() - 1  # 2 ** doubling == the limit
    assert 2 ** doubling == intrinsics.MAX_ALTERNATIVES
    under = _normalized(joined(doubling))
    assert not under.problems
    assert len(under.input["keys"]["Key"]["statements"][0]["principals"]) == 2 ** doubling
    report = _analyze_document(analyzer, tmp_path, joined(doubling + 1))
    assert ["MAX_ALTERNATIVES" in e.message for e in report.errors] == [True]


def test_wildcard_patterns_cannot_make_matching_exponential(analyzer, tmp_path):
    pattern = "kms:" + "*?" * 40 + "*z"
    report = _analyze_document(analyzer, tmp_path, _key_policy(
        [_statement("arn:aws:iam::111122223333:root", "kms:*"),
         _statement("arn:aws:iam::111122223333:role/App", pattern)]))
    assert not report.errors  # exponential matching would show as a test that never ends


# --------------------------------------------------------------------------- engine failures


class RaisingEngine:
    def __init__(self, exc: Exception):
        self.exc = exc

    def findings(self, input_doc):
        raise self.exc


class ReturningEngine:
    def __init__(self, value):
        self.value = value

    def findings(self, input_doc):
        return self.value


@pytest.mark.parametrize("engine, message", [
    (RaisingEngine(EngineError("evaluation failed: boom")), "engine error: evaluation failed: boom"),
    (RaisingEngine(RuntimeError("native crash")), "engine error: RuntimeError: native crash"),
    (RaisingEngine(ConnectionRefusedError("OPA server down")),
     "engine error: ConnectionRefusedError: OPA server down"),
    (ReturningEngine(None), "engine error: the engine returned NoneType, not a list of findings"),
    (ReturningEngine({"findings": []}), "the engine returned dict"),
    (ReturningEngine(["not a finding", {"rule": ["KP001"], "path": "/", "message": "x"},
                      {"rule": "KP001", "path": "/Resources", "message": 42, "resource": "KmsKey"},
                      {"rule": "KP001", "path": "/Resources", "message": "x", "resource": [1]}]),
     "a rule returned a malformed finding"),
])
def test_engine_failure_is_an_error_for_the_file_never_clean(analyzer, engine, message):
    broken = Analyzer(analyzer.policies, engine=engine)
    result = run([str(SEED), str(EXAMPLES / "clean-key" / "template.yaml")], broken)
    assert result.exit_code() == 2
    assert {Path(e.file).parent.name for e in result.errors} == {"seed", "clean-key"}
    assert all(e.kind == "engine" and message in e.message for e in result.errors), result.errors
    assert all(f.status == "error" for f in result.files)


def test_engine_failing_on_one_file_spares_the_others(analyzer):
    class FailsOnPublicKeys:
        def findings(self, input_doc):
            if "public" in input_doc["file"]:
                raise EngineError("evaluation failed: out of memory")
            return analyzer.engine.findings(input_doc)

    files = [str(EXAMPLES / "public-key" / "template.yaml"), str(SEED)]
    result = run(files, Analyzer(analyzer.policies, engine=FailsOnPublicKeys()))
    assert result.exit_code() == 2
    assert [Path(e.file).parent.name for e in result.errors] == ["public-key"]
    assert {Path(f.file).parent.name for f in result.findings} == {"seed"}


def test_engine_failure_through_the_cli(monkeypatch):
    import kmspolicy.cli.engine_options as engine_options

    monkeypatch.setattr(engine_options, "make_engine",
                        lambda *a, **k: RaisingEngine(EngineError("evaluation failed: boom")))
    result = cli("-f", "json", str(SEED))
    assert result.exit_code == 2
    document = json.loads(result.output)
    assert document["findings"] == []
    assert [e["kind"] for e in document["errors"]] == ["engine"]


def test_internal_error_costs_one_file_and_debug_shows_the_traceback(monkeypatch):
    import kmspolicy.bridge.pipeline as pipeline

    real = pipeline.normalize

    def fails_on_seed(document, file, *args, **kwargs):
        if "seed" in file:
            raise KeyError("a bug")
        return real(document, file, *args, **kwargs)

    monkeypatch.setattr(pipeline, "normalize", fails_on_seed)
    clean = str(EXAMPLES / "clean-key" / "template.yaml")
    result = cli("-f", "json", str(SEED), clean)
    assert result.exit_code == 2 and "Traceback" not in result.output
    document = json.loads(result.output)
    assert [(Path(e["file"]).parent.name, e["kind"]) for e in document["errors"]] == [
        ("seed", "internal")]
    assert "KeyError" in document["errors"][0]["message"]
    assert {Path(f["file"]).parent.name: f["status"] for f in document["files"]} == {
        "seed": "error", "clean-key": "analyzed"}
    debug = cli("--debug", str(SEED), clean)
    assert isinstance(debug.exception, KeyError)


# --------------------------------------------------------------------------- reading only


def _snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


def test_symlinks_are_not_followed_out_of_a_scanned_folder(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(BAD / "truncated.yaml", outside / "secret.yaml")
    scanned = tmp_path / "repo"
    (scanned / "sub").mkdir(parents=True)
    shutil.copy(SEED, scanned / "sub" / "template.yaml")
    (scanned / "loop").symlink_to(scanned, target_is_directory=True)
    (scanned / "sub" / "up").symlink_to("..", target_is_directory=True)
    (scanned / "escape").symlink_to(outside, target_is_directory=True)
    (scanned / "escape.yaml").symlink_to(outside / "secret.yaml")
    (scanned / "dangling.yaml").symlink_to(tmp_path / "missing.yaml")
    result = cli("-f", "json", "--root", str(scanned), str(scanned))  # returns: no loop followed
    document = json.loads(result.output)
    assert [f["file"] for f in document["files"]] == ["sub/template.yaml"]
    assert document["errors"] == [] and result.exit_code == 1


def test_analysis_writes_nothing_next_to_the_templates(tmp_path):
    folder = tmp_path / "templates"
    shutil.copytree(BAD, folder)
    shutil.copy(SEED, folder / "seed.yaml")
    before = _snapshot(folder)
    assert cli("-f", "text", "-f", "json=" + str(tmp_path / "out.json"), str(folder)).exit_code == 2
    assert cli("-f", "json", str(folder / "seed.yaml")).exit_code == 1
    assert _snapshot(folder) == before


def test_embedded_analysis_never_opens_a_network_connection(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access during analysis")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    result = cli("-f", "json", str(SEED), str(BAD))
    assert result.exit_code == 2 and not attempts


def test_pipes_and_devices_do_not_block(tmp_path):
    fifo = tmp_path / "folder" / "template.yaml"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    result = cli("-f", "json", str(fifo.parent), str(fifo), "/dev/zero")  # returns: no read blocks
    assert result.exit_code == 2
    messages = [e["message"] for e in json.loads(result.output)["errors"]]
    assert len(messages) == 3 and all("not a regular file" in m for m in messages), messages


# --------------------------------------------------------------------------- shared corpus

# The corpus templates CloudFormation itself would reject, with their errors.
KNOWN_BROKEN = {
    "Neos21__practice-cloudformation__aws-backup-s3.yaml": (74, "duplicate key 'Effect'"),
    "aws-samples__serverless-patterns__cognito-sns-sms-origination-id-sam__template.yaml":
        (65, "duplicate key 'MfaConfiguration'"),
    "awslabs__aws-cloudformation-templates__aws__solutions__CloudFrontCustomOriginLambda@Edge__"
    "CloudFront.yaml": (828, "duplicate key 'EC2InstanceSGID'"),
    "echristiaans__aws__kms.yaml": (41, "did not find expected key"),
    "org-formation__org-formation-cli__examples__templates__cross-account-secret.yml":
        (5, "unknown tag '!Include'"),
}
# Valid, but built by a macro at deploy time: not analyzable, so an error, never clean.
MACRO_BUILT = "awslabs__aws-cloudformation-templates__aws__services__CloudFormation__" \
              "MacrosExamples__MergeStatements__example.yaml"


@pytest.mark.skipif(not corpus_templates(), reason=f"{CORPUS} is missing (../shared/corpus)")
def test_shared_corpus_runs_without_traceback_and_reports_the_broken_files():
    result = cli("-f", "json", "--root", str(CORPUS), str(CORPUS))
    assert "Traceback" not in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)
    document = json.loads(result.output)
    assert len(document["files"]) == len(corpus_templates())
    errors: dict[str, list[dict]] = {}
    for error in document["errors"]:
        errors.setdefault(error["file"], []).append(error)
    assert set(errors) == set(KNOWN_BROKEN) | {MACRO_BUILT}
    for file, (line, message) in KNOWN_BROKEN.items():
        assert [(e["line"], message in e["message"], e["kind"]) for e in errors[file]] == [
            (line, True, "input")], errors[file]
    assert all("Fn::Transform" in e["message"] for e in errors[MACRO_BUILT])
    assert result.exit_code == 2


# --------------------------------------------------------------------------- in CI's hands
# (issue 18) Every subprocess below is bounded by BOUND seconds so that a regression fails
# the test instead of hanging the suite; no test asserts how fast anything is.

BOUND = 120
# eval with Analyzer.analyze replaced before workers are forked: a file named hang* marks
# the process analyzing it (MARK/busy-PID) and never ends.
HANGING_EVAL = """
import os, sys, time
from pathlib import Path
from kmspolicy.bridge.pipeline import Analyzer
analyze = Analyzer.analyze
def hanging(self, path, display=None):
    if Path(path).name.startswith("hang"):
        Path(os.environ["MARK"], f"busy-{os.getpid()}").write_text("")
        time.sleep(600)
    return analyze(self, path, display)
Analyzer.analyze = hanging
from kmspolicy.cli.main import entrypoint
entrypoint()
"""


def kmspolicy(*args: str, capture_output: bool = True, **options) -> subprocess.CompletedProcess:
    """The console script's code path (entrypoint) in a subprocess, bounded."""
    return subprocess.run([sys.executable, "-c", "from kmspolicy.cli.main import entrypoint; "
                           "entrypoint()", *args], stdin=subprocess.DEVNULL,
                          capture_output=capture_output, text=True, timeout=BOUND, **options)


def wait_for(predicate, what: str) -> None:
    """Poll until `predicate()` (bounded: BOUND seconds, then the test fails)."""
    stop = time.monotonic() + BOUND
    while not predicate():
        if time.monotonic() > stop:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie is dead, only not yet reaped


def hanging_run(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    folder, mark = tmp_path / "templates", tmp_path / "mark"
    folder.mkdir()
    mark.mkdir()
    for name in ("a.yaml", "hang1.yaml", "hang2.yaml"):
        shutil.copy(SEED, folder / name)
    process = subprocess.Popen([sys.executable, "-c", HANGING_EVAL, "eval", "--no-color", *args,
                                str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "MARK": str(mark)})
    return process, mark


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_signal_stops_the_run_and_its_workers_with_128_plus_the_signal(tmp_path, signum, code,
                                                                        jobs):
    process, mark = hanging_run(tmp_path, "--jobs", jobs, "-f", f"json={tmp_path / 'out.json'}")
    try:
        wait_for(lambda: len(list(mark.iterdir())) >= int(jobs), "the workers to be busy")
        workers = [int(p.name.split("-")[1]) for p in mark.iterdir()]
        assert process.pid not in workers  # the analysis runs in workers even with --jobs 1
        process.send_signal(signum)
        out, err = process.communicate(timeout=BOUND)
    finally:
        process.kill()
    assert process.returncode == code, err
    assert err.strip().splitlines() == [f"kmspolicy: interrupted ({signal.Signals(signum).name}): "
                                        "the run was stopped; any report written is incomplete"]
    assert "Traceback" not in err and out == ""
    assert not (tmp_path / "out.json").exists(), "no report presented as complete"
    wait_for(lambda: not any(alive(pid) for pid in workers), "the workers to stop")


def test_workers_do_not_outlive_a_killed_parent(tmp_path):
    process, mark = hanging_run(tmp_path, "--jobs", "2")
    try:
        wait_for(lambda: len(list(mark.iterdir())) >= 2, "the workers to be busy")
        workers = [int(p.name.split("-")[1]) for p in mark.iterdir()]
        process.kill()  # SIGKILL: the parent cannot stop them itself
        process.communicate(timeout=BOUND)
    finally:
        process.kill()
    wait_for(lambda: not any(alive(pid) for pid in workers), "the orphaned workers to die")


@pytest.mark.parametrize("extra", [(), ("--no-color",), ("-f", "json"), ("-f", "sarif")])
def test_a_closed_stdout_is_one_clear_error_before_any_work(extra):
    closed = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-c",
                             "from kmspolicy.cli.main import entrypoint; entrypoint()",
                             "eval", *extra, str(SEED)], capture_output=False,
                            stderr=subprocess.PIPE, text=True, timeout=BOUND)
    assert closed.returncode == 2, closed.stderr
    assert closed.stderr.splitlines() == [
        f"kmspolicy: error: stdout is closed: nowhere to write the "
        f"{extra[-1] if extra[:1] == ('-f',) else 'text'} report (write it to a file with --output FILE)"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize("name", ["text", "json", "sarif", "github", "junit"])
def test_a_full_stdout_is_one_clear_error(name):
    with open("/dev/full", "w") as full:
        result = kmspolicy("eval", "--jobs", "1", "-f", name, str(SEED), stdout=full,
                           stderr=subprocess.PIPE, capture_output=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1:] == [
        f"kmspolicy: error: stdout: cannot write the {name} output: No space left on device"]
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr


def test_with_stdout_closed_a_report_to_a_file_is_still_written(tmp_path):
    out = tmp_path / "out.json"
    closed = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-c",
                             "from kmspolicy.cli.main import entrypoint; entrypoint()",
                             "eval", "-f", "json", "-o", str(out), str(SEED)],
                            stderr=subprocess.PIPE, text=True, timeout=BOUND)
    assert closed.returncode == 1, closed.stderr  # the seed's findings
    assert json.loads(out.read_text())["findings"]


# Text that would drive a CI log or a terminal: workflow commands after a line break (also
# U+2028), a legacy command, OSC 8, CSI (7-bit and C1), BEL, a bidi override.
EVIL = ("x\n::stop-commands::tok\n##[add-mask]secret \u001b]8;;http://e\u0007 \u001b[2J "
        "\u009b31m \u202egnp.exe \u2028::error::fake \r::warning::cr")
RAW_ON_A_LINE = "##[add-mask]raw \u009b1m \u202e"  # raw in the source: in the code frames
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_OUR_COMMANDS = re.compile(r"::(error|warning|notice) (file=[^:]*)?::")


def evil_template(tmp_path: Path) -> Path:
    statements = [{"Effect": "Allow", "Sid": RAW_ON_A_LINE, "Principal": "*",  # KP005's line follows
                   "Action": "kms:*", "Resource": "*"},
                  {"Sid": "s2", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::123456789012:user/" + EVIL},
                   "Action": "kms:Decrypt", "Resource": "*"},
                  {"Sid": "s3", "Effect": "Allow", "Principal": {EVIL: "x"},
                   "Action": "kms:Decrypt", "Resource": "*"}]
    document = {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {
        "Description": EVIL, "KeyPolicy": {"Version": "2012-10-17", "Statement": statements}}}}}
    text = json.dumps(document, indent=2).replace(json.dumps(RAW_ON_A_LINE),
                                                  json.dumps(RAW_ON_A_LINE, ensure_ascii=False))
    path = tmp_path / "evil.json"
    path.write_text(text, encoding="utf-8")
    return path


def assert_commands_nothing(text: str, github: bool = False) -> None:
    """No line (as the Actions runner splits them) starts a workflow command; no control."""
    for line in re.split(r"\r\n|\r|\n", text):
        assert "##[" not in line, line
        if line.lstrip().startswith("::"):
            assert github and _OUR_COMMANDS.match(line), line
        assert not _CONTROLS.search(line), ascii(line)


@pytest.mark.parametrize("name", sorted(reporters.REPORTERS))
def test_no_format_lets_a_template_command_the_ci_log_or_the_terminal(tmp_path, name):
    template = evil_template(tmp_path)
    result = kmspolicy("eval", "--jobs", "1", "-v", "-f", name, str(template))
    assert result.returncode == 2, result.stderr  # the third statement's principal type is an error
    assert "stop-commands" in result.stdout, "the text is shown, only defused"
    assert_commands_nothing(result.stdout, github=name == "github")
    assert_commands_nothing(result.stderr)
    if name in ("json", "sarif"):  # escaped, not altered: the values are what the template holds
        assert any("x\n::stop-commands::tok\n##" in text and "\x1b" in text and "\u202e" in text
                   for text in strings(json.loads(result.stdout)))
    if name == "junit":  # (XML 1.0 cannot hold ESC or BEL at all: those are U+FFFD)
        root = ElementTree.fromstring(result.stdout.encode("utf-8"))
        assert any("x\n::stop-commands::tok\n##[add-mask]secret" in (e.get("message") or "")
                   for e in root.iter())
    if name == "text":
        assert re.search(r"^ *\d+ \| .*add-mask\]raw", result.stdout, re.M), "a code frame shows it"


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def test_error_lines_on_stderr_command_nothing(tmp_path):
    bad = tmp_path / "##[add-mask]x.yaml"
    bad.write_text("Resources: [\n", encoding="utf-8")
    config = tmp_path / "##[add-mask]c.yaml"
    config.write_text("a: !Evil\u202e\n", encoding="utf-8")
    result = kmspolicy("eval", "--jobs", "1", "-c", str(config), str(bad))
    assert result.returncode == 2
    assert "add-mask" in result.stderr
    assert_commands_nothing(result.stderr)
    result = kmspolicy("eval", "--jobs", "1", "-f", "text", str(bad))
    assert result.returncode == 2 and "add-mask" in result.stdout
    assert_commands_nothing(result.stdout)


def test_a_lone_surrogate_escape_costs_its_file_only(tmp_path):
    lone = tmp_path / "lone.json"
    lone.write_text('{"Resources": {"K": {"Type": "AWS::KMS::Key",\n'
                    '  "Properties": {"Description": "a\\ud800b"}}}}\n', encoding="utf-8")
    sarif = tmp_path / "out.sarif"
    result = kmspolicy("eval", "--jobs", "1", "-f", "github", "-f", f"sarif={sarif}", str(lone),
                       str(SEED))
    assert result.returncode == 2, result.stderr
    assert result.stderr == ""
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error file=")]
    assert any("lone.json,line=2,col=35" in line and "surrogate" in line for line in errors), errors
    assert any("template.yaml" in line for line in result.stdout.splitlines())  # the seed's findings
    document = json.loads(sarif.read_text(encoding="utf-8"))
    located = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
               for r in document["runs"][0]["results"]}
    assert any(uri.endswith("template.yaml") for uri in located)


def test_a_lone_surrogate_in_a_key_policy_json_string_is_located(analyzer, tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {
        "KeyPolicy": '{"Statement": [{"Sid": "\\udc00"}]}'}}}}), encoding="utf-8")
    report = analyzer.analyze(str(path))
    assert report.status == "error"
    assert any("surrogate" in e.message for e in report.errors)


# Files kmspolicy reads besides templates: each goes through the loader's limits.
def alias_bomb(levels: int = 12) -> bytes:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [*a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, "
              f"*a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}]" for n in range(1, levels)]
    return ("\n".join(lines) + "\n").encode()


def deep_json(levels: int = 50_000) -> bytes:
    return ('{"version": 1, "findings": ' + "[" * levels + "]" * levels + "}").encode()


def bundle_with(tmp_path: Path, name: str, content: bytes) -> Path:
    import io
    import tarfile

    path = tmp_path / "org.tar.gz"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    path.write_bytes(raw.getvalue())
    return path


@pytest.mark.parametrize(("option", "make", "message"), [
    ("--baseline", lambda tmp: "/dev/zero", "not a regular file"),
    ("--baseline", lambda tmp: fifo(tmp), "not a regular file"),
    ("-c", lambda tmp: fifo(tmp), "not a regular file"),
    ("--parameters-file", lambda tmp: fifo(tmp), "not a regular file"),
    ("--bundle", lambda tmp: fifo(tmp), "not a regular file"),
    ("--bundle", lambda tmp: "/dev/zero", "not a regular file"),
    ("--baseline", lambda tmp: write(tmp / "b.json", deep_json()), "nesting deeper than"),
    ("-c", lambda tmp: write(tmp / "c.yaml", alias_bomb()), "alias"),
    ("--parameters-file", lambda tmp: write(tmp / "p.yaml", alias_bomb()), "alias"),
    ("--bundle", lambda tmp: bundle_with(tmp, "data.yaml", alias_bomb()), "data.yaml"),
    ("--bundle", lambda tmp: bundle_with(tmp, "data.json", deep_json()[27:-1]), "nesting deeper"),
    ("--bundle", lambda tmp: bundle_with(tmp, ".manifest", deep_json()), "nesting deeper"),
])
def test_every_file_read_by_name_is_bounded_and_named(tmp_path, option, make, message):
    path = str(make(tmp_path))
    result = kmspolicy("eval", "--jobs", "1", option, path, str(SEED))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    [line] = result.stderr.splitlines()[-1:]
    assert path in line and message in line, line
    assert "internal error" not in line and "Traceback" not in result.stderr


def fifo(folder: Path) -> Path:
    path = folder / "pipe.yaml"
    os.mkfifo(path)
    return path


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("verbose", [(), ("-v",)])
def test_templates_only_in_hidden_or_vendored_folders_are_not_a_silent_pass(tmp_path, verbose):
    for folder in (".hidden", "node_modules", "vendor/.git"):
        (tmp_path / folder).mkdir(parents=True)
        shutil.copy(SEED, tmp_path / folder / "template.yaml")
    (tmp_path / "notes.yaml").write_text("just: data\n", encoding="utf-8")
    result = kmspolicy("eval", "--jobs", "1", *verbose, str(tmp_path))
    # a directory scan that finds no template is an error (exit 2), said on one line
    assert result.returncode == 2
    assert "No findings in 0 files; 1 error" in result.stdout
    assert f"{tmp_path}: no CloudFormation or SAM template found" in result.stdout + result.stderr
    assert ("notes.yaml" in result.stderr) == bool(verbose)


def test_config_that_checks_less_than_meant_is_said(tmp_path, analyzer):
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("rules:\n  KP999: {enabled: false}\n", encoding="utf-8")
    result = kmspolicy("eval", "--jobs", "1", "-c", str(unknown), str(SEED))
    assert result.returncode == 2  # a rule id that names nothing is an error, with a suggestion
    assert "KP999" in result.stderr and "did you mean" in result.stderr
    off = tmp_path / "off.yaml"
    off.write_text(yaml.safe_dump({"rules": {rule: {"enabled": False}
                                             for rule in analyzer.policies.rules}}), encoding="utf-8")
    result = kmspolicy("eval", "--jobs", "1", "-c", str(off), str(SEED))
    assert result.stderr.splitlines() == [
        f"kmspolicy: warning: {off} disables every rule: nothing is checked"]


def test_a_single_file_under_default_settings_has_a_time_limit(tmp_path):
    """The default limit (DEFAULT_TIMEOUT, lowered here to 1 s) with --jobs 1 and one file."""
    hang = tmp_path / "hang.yaml"
    shutil.copy(SEED, hang)
    script = HANGING_EVAL.replace("from kmspolicy.cli.main import entrypoint",
                                  "import kmspolicy.cli.run\nkmspolicy.cli.run.DEFAULT_TIMEOUT = 1.0\n"
                                  "from kmspolicy.cli.main import entrypoint")
    mark = tmp_path / "mark"
    mark.mkdir()
    result = subprocess.run([sys.executable, "-c", script, "eval", "--jobs", "1", "-f", "json",
                             str(hang)], capture_output=True, text=True, timeout=BOUND,
                            env={**os.environ, "MARK": str(mark)})
    assert result.returncode == 2, result.stderr
    [error] = json.loads(result.stdout)["errors"]
    assert "timed out after 1 s" in error["message"] and error["kind"] == "internal"
    [busy] = mark.iterdir()
    assert int(busy.name.split("-")[1]) != os.getpid()
    wait_for(lambda: not alive(int(busy.name.split("-")[1])), "the stopped worker to be gone")


def test_an_interrupted_scan_erases_its_progress_bar(analyzer):
    class Bar:
        finished = 0

        def start(self, total):
            pass

        def advance(self, findings):
            raise KeyboardInterrupt

        def finish(self):
            self.finished += 1

    bar = Bar()
    with pytest.raises(KeyboardInterrupt):
        run([str(SEED), str(EXAMPLES / "clean-key" / "template.yaml")], analyzer, progress=bar)
    assert bar.finished == 1


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that takes any bytes")
@pytest.mark.parametrize("name", ["text", "json", "sarif"])
def test_a_file_name_that_is_not_utf8_is_analyzed_and_shown_escaped(tmp_path, name):
    shutil.copy(SEED, os.fsencode(tmp_path) + b"/\xff\xfe.yaml")
    result = kmspolicy("eval", "--jobs", "1", "-f", name, str(tmp_path))
    assert result.returncode == 1, result.stderr  # the seed's findings, nothing failed
    assert result.stderr == ""
    shown = [result.stdout] if name == "text" else list(strings(json.loads(result.stdout)))
    assert any("\\xff\\xfe.yaml" in text or "%5Cxff%5Cxfe.yaml" in text for text in shown)  # (SARIF: a URI)
