"""Hostile and broken input: every problem is an error entry, nothing crashes, nothing
passes silently (issue 7). The corpus is tests/data/bad/ with its manifest expected.yaml."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path

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
FAST = 1.0  # CPU seconds (not wall-clock, so a busy machine does not fail it): a limit must
#            stop the work faster than this


def analyzer_like(analyzer: Analyzer, **options) -> Analyzer:
    """The session analyzer's policies and engine with other per-file options."""
    return Analyzer(analyzer.policies, engine=analyzer.engine, **options)


def cli(*args: str):
    return CliRunner().invoke(main, ["eval", "--jobs", "1", "--no-color", *args])


# --------------------------------------------------------------------------- the corpus


def test_manifest_lists_every_file_and_every_entry_has_one():
    files = {p.name for p in BAD.iterdir()} - {"expected.yaml"}
    assert files == set(MANIFEST)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_bad_file_is_an_error_with_its_line(analyzer, name):
    spec = MANIFEST[name]
    runner = analyzer_like(analyzer, max_bytes=spec.get("max_file_size"))
    started = time.process_time()
    result = run([str(BAD / name)], runner)
    elapsed = time.process_time() - started

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
    if spec.get("limit"):
        assert elapsed < FAST, f"{name}: {elapsed:.2f}s"


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


def _timed(function, *args, **kwargs):
    """(result, TemplateError, seconds): the best of up to three runs, so that a busy
    machine does not fail a limit that is fast."""
    best = None
    for _ in range(3):
        started = time.process_time()
        try:
            outcome = (function(*args, **kwargs), None)
        except load.TemplateError as exc:
            outcome = (None, exc)
        elapsed = time.process_time() - started
        best = elapsed if best is None else min(best, elapsed)
        if best < FAST / 2:
            break
    return (*outcome, best)


def test_node_limit_just_under_and_just_over():
    overhead = 11  # root, Resources, its mapping, Key, its mapping, Type, value, Metadata, mapping, Big, list
    under = _template_with_metadata("[" + ", ".join(["0"] * (load.MAX_NODES - overhead)) + "]")
    loaded = load.load_text(under, "under.yaml")
    assert len(loaded.document["Resources"]["Key"]["Metadata"]["Big"]) == load.MAX_NODES - overhead
    over = _template_with_metadata("[" + ", ".join(["0"] * (load.MAX_NODES - overhead + 1)) + "]")
    _, error, elapsed = _timed(load.load_text, over, "over.yaml")
    assert error is not None and "MAX_NODES" in error.message and elapsed < FAST


def test_alias_expansion_just_under_and_just_over():
    def laughs(levels: int, width: int) -> str:
        lines = ["      a0: &a0 [" + ", ".join(["x"] * width) + "]"]
        lines += [f"      a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]"
                  for i in range(1, levels)]
        return "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Metadata:\n" + "\n".join(lines) + "\n"
    # 10 + 100 + 1000 + 10000 + 100000 leaves: far over; one level less: well under
    _, error, elapsed = _timed(load.load_text, laughs(5, 10), "laughs.yaml")
    assert error is not None and "MAX_NODES" in error.message and elapsed < FAST
    loaded, error, _ = _timed(load.load_text, laughs(4, 10), "laughs.yaml")
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
    _, error, _ = _timed(load.load_text, text(levels), f"under.{suffix}")
    assert error is None
    _, error, elapsed = _timed(load.load_text, text(levels + 1), f"over.{suffix}")
    assert error is not None and "MAX_DEPTH" in error.message and elapsed < FAST
    _, error, elapsed = _timed(load.load_text, text(5000), f"thousands.{suffix}")
    assert error is not None and "depth" in error.message.lower() and elapsed < FAST


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
    started = time.process_time()
    report = analyzer.analyze(str(over))
    assert time.process_time() - started < FAST
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
    """Just over a limit: the whole pipeline, timed (the limit must stop it early)."""
    path = tmp_path / "template.json"
    path.write_text(json.dumps(document))
    started = time.process_time()
    report = analyzer.analyze(str(path))
    return report, time.process_time() - started


def _normalized(document: dict):
    """Just under a limit: everything is read into the rules' input, nothing refused. (The
    rules' evaluation time at the limits is measured in docs/limits.md, not here.)"""
    return normalize(document, "template.json")


def test_statement_limit_just_under_and_just_over(analyzer, tmp_path):
    admin = _statement("arn:aws:iam::111122223333:role/Admin", "kms:*")
    limit = statements.MAX_STATEMENTS
    under = _normalized(_key_policy([admin] * limit))
    assert not under.problems and len(under.input["keys"]["Key"]["statements"]) == limit
    report, elapsed = _analyze_document(analyzer, tmp_path, _key_policy([admin] * (limit + 1)))
    assert elapsed < FAST
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
    report, elapsed = _analyze_document(analyzer, tmp_path, with_role(statements.MAX_STATEMENTS + 1))
    assert elapsed < FAST and report.status == "error"
    assert ["MAX_STATEMENTS" in e.message for e in report.errors] == [True]


def test_principal_limits_just_under_and_just_over(analyzer, tmp_path):
    per_statement = principals.MAX_PRINCIPALS_PER_STATEMENT
    per_key = statements.MAX_PRINCIPALS_PER_KEY
    roles = [f"arn:aws:iam::111122223333:role/R{i}" for i in range(2 * max(per_statement, per_key))]
    under = _normalized(_key_policy([_statement(roles[:per_statement])]))
    assert not under.problems
    assert len(under.input["keys"]["Key"]["statements"][0]["principals"]) == per_statement
    report, elapsed = _analyze_document(analyzer, tmp_path, _key_policy(
        [_statement(roles[:per_statement + 1])]))
    assert elapsed < FAST
    assert ["MAX_PRINCIPALS_PER_STATEMENT" in e.message for e in report.errors] == [True]

    half = per_key // 2
    under = _normalized(_key_policy([_statement(roles[:half]),
                                     _statement(roles[half:per_key])]))
    assert not under.problems and len(under.input["keys"]["Key"]["subjects"]) > per_key
    report, elapsed = _analyze_document(analyzer, tmp_path, _key_policy(
        [_statement(roles[:half]), _statement(roles[half:per_key + 1])]))
    assert elapsed < FAST
    assert ["MAX_PRINCIPALS_PER_KEY" in e.message for e in report.errors] == [True]


def test_resource_limit_just_under_and_just_over(analyzer, tmp_path):
    limit = template_checks.MAX_RESOURCES
    document = _key_policy([_statement("arn:aws:iam::111122223333:root", "kms:*")])
    document["Resources"].update({f"Topic{i}": {"Type": "AWS::SNS::Topic"} for i in range(limit - 1)})
    report, _ = _analyze_document(analyzer, tmp_path, document)
    assert not report.errors and report.keys == 1
    document["Resources"]["OneTooMany"] = {"Type": "AWS::SNS::Topic"}
    report, elapsed = _analyze_document(analyzer, tmp_path, document)
    assert elapsed < FAST and ["MAX_RESOURCES" in e.message for e in report.errors] == [True]


def test_alternatives_limit_just_under_and_just_over(analyzer, tmp_path):
    def joined(ifs: int) -> dict:
        document = _key_policy([_statement({"Fn::Join": ["", [
            "arn:aws:iam::111122223333:role/",
            *({"Fn::If": ["IsProd", f"a{i}", f"b{i}"]} for i in range(ifs))]]})])
        document["Conditions"] = {"IsProd": {"Fn::Equals": ["a", "b"]}}
        return document

    doubling = intrinsics.MAX_ALTERNATIVES.bit_length() - 1  # 2 ** doubling == the limit
    assert 2 ** doubling == intrinsics.MAX_ALTERNATIVES
    under = _normalized(joined(doubling))
    assert not under.problems
    assert len(under.input["keys"]["Key"]["statements"][0]["principals"]) == 2 ** doubling
    report, elapsed = _analyze_document(analyzer, tmp_path, joined(doubling + 1))
    assert elapsed < FAST
    assert ["MAX_ALTERNATIVES" in e.message for e in report.errors] == [True]


def test_wildcard_patterns_cannot_make_matching_exponential(analyzer, tmp_path):
    pattern = "kms:" + "*?" * 40 + "*z"
    report, elapsed = _analyze_document(analyzer, tmp_path, _key_policy(
        [_statement("arn:aws:iam::111122223333:root", "kms:*"),
         _statement("arn:aws:iam::111122223333:role/App", pattern)]))
    assert elapsed < FAST * 3 and not report.errors


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
    "echristiaans__aws__parameterStore.yaml": (47, "is not a valid principal ARN"),
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
