"""Property tests (issue 7): random mutations of the example templates never raise, never
hang, always end in exit 0, 1 or 2, and in 2 whenever there is an error entry.

The strategies live in fuzz/mutations.py (the atheris harnesses use the same ones). The
runs are derandomized and bounded (max_examples, a per-example time bound) so that the
file stays well under a minute; `make fuzz` explores far more.
"""

from __future__ import annotations

import json
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmspolicy.bridge.findings import Result
from kmspolicy.bridge.pipeline import Analyzer
from kmspolicy.cli.main import main
from kmspolicy.cli.run import add_report

from .conftest import ROOT, require_in_ci

hypothesis = require_in_ci("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

sys.path.insert(0, str(ROOT / "fuzz"))
import contracts  # noqa: E402
import mutations  # noqa: E402

HANG_BOUND = 20.0  # seconds for one template, engine included: beyond it we call it a hang
BOUNDED = settings(derandomize=True, database=None, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.function_scoped_fixture])


@contextmanager
def hang_guard(seconds: float = HANG_BOUND):
    """Fail (instead of waiting forever) when Python code runs longer than `seconds`."""
    def expired(*_):
        raise TimeoutError(f"no answer within {seconds:.0f}s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_report(analyzer: Analyzer, path: Path, text: bytes) -> None:
    """One file through the whole pipeline: no exception, a consistent report and exit code."""
    report = analyzer.analyze(str(path))
    result = Result()
    add_report(result, report, explicit=True)
    assert all(error.kind == "input" for error in report.errors), report.errors
    assert (report.status == "error") == bool(report.errors) or report.status == "skipped"
    assert result.exit_code() in (0, 1, 2)
    if result.errors:
        assert result.exit_code() == 2 and result.exit_code("critical") == 2
    else:
        assert result.exit_code() in (0, 1)
    lines = contracts.line_count(text)
    for error in report.errors:
        assert error.message and "\n" not in error.message
        assert error.line is None or 1 <= error.line <= lines
    for finding in report.findings:
        assert 1 <= finding.line <= lines and finding.column >= 1


@pytest.fixture(scope="module")
def strict_analyzer(analyzer):
    """The session engine with --debug: a bug raises here instead of becoming an error entry."""
    return Analyzer(analyzer.policies, engine=analyzer.engine, debug=True)


@settings(BOUNDED, max_examples=300)
@given(mutations.mutated_texts())
def test_text_mutations_load_or_fail_with_a_located_error(case):
    name, data = case
    with hang_guard(5.0):
        contracts.check_load(data, name)


@settings(BOUNDED, max_examples=150)
@given(mutations.mutated_documents())
def test_structural_mutations_normalize_into_a_valid_input(case):
    _, document = case
    with hang_guard(5.0):
        contracts.check_normalize(document)


@settings(BOUNDED, max_examples=60)
@given(case=st.one_of(mutations.mutated_files(), mutations.mutated_texts()))
def test_mutated_templates_through_the_analyzer(strict_analyzer, tmp_path_factory, case):
    name, data = case
    path = tmp_path_factory.mktemp("mutant") / name
    path.write_bytes(data)
    with hang_guard():
        check_report(strict_analyzer, path, data)


@settings(BOUNDED, max_examples=8)
@given(case=mutations.mutated_files())
def test_mutated_templates_through_the_cli(tmp_path_factory, case):
    name, data = case
    folder = tmp_path_factory.mktemp("cli")
    (folder / name).write_bytes(data)
    with hang_guard():
        result = CliRunner().invoke(main, ["eval", "--jobs", "1", "-f", "json", str(folder / name)])
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    document = json.loads(result.output)
    if document["errors"]:
        assert result.exit_code == 2
        assert all(e["kind"] == "input" for e in document["errors"]), document["errors"]
    else:
        failing = [f for f in document["findings"]
                   if f["severity"] != "info" and not f["suppressed"]]
        assert result.exit_code == (1 if failing else 0)


@pytest.fixture
def readers_harness(tmp_path, monkeypatch):
    import fuzz_readers

    monkeypatch.setattr(fuzz_readers, "SCRATCH", tmp_path)
    return fuzz_readers


@settings(BOUNDED, max_examples=150)
@given(kind=st.integers(0, 255), body=st.one_of(st.binary(max_size=512),
                                                 mutations.mutated_texts().map(lambda c: c[1])))
def test_operator_file_readers_keep_their_contract(readers_harness, kind, body):
    """fuzz/fuzz_readers.py's property: config, baseline, parameters and bundles (raw and
    well-formed with any member) give a value or one error line naming the file."""
    with hang_guard():
        readers_harness.test_one_input(bytes([kind]) + body)


@pytest.mark.parametrize("kind", range(16))
def test_operator_file_readers_refuse_hostile_seeds(readers_harness, kind):
    from .test_hostile import alias_bomb, deep_json

    for body in (alias_bomb(), deep_json(), b"\xff\xfe{", b'{"a": "\\ud800"}'):
        with hang_guard():
            readers_harness.test_one_input(bytes([kind]) + body)
