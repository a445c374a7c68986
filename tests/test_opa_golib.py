"""`--engine opa`: OPA's own evaluator in-process (opa-golib-python-bindings).

Its findings are compared with the embedded engine's in tests/test_conformance.py (the
policies, and `kmspolicy eval` on the examples and the corpus); here: its errors, the
missing package, and worker processes once the Go runtime runs.
"""

from __future__ import annotations

import functools

import pytest
from click.testing import CliRunner

from kmspolicy.bridge.engines import EngineError, opa_golib
from kmspolicy.bridge.pipeline import Analyzer, PolicySet, make_engine
from kmspolicy.cli import parallel
from kmspolicy.cli.main import main
from kmspolicy.cli.run import run

from .conftest import EXAMPLES, require_in_ci
from .test_parallel import copies, no_hang  # noqa: F401 - autouse: a pool that hangs fails the test

require_in_ci("opa_bindings")

SEED = EXAMPLES / "seed" / "template.yaml"
META = ("# METADATA\n# title: T\n# description: D\n# custom:\n#   id: {id}\n#   severity: low\n"
        "#   remediation: R\n")


def pack(body: str, rule_id: str = "PROBE1") -> PolicySet:
    policies = PolicySet.builtin()
    source = META.format(id=rule_id) + f"package kmspolicy.rules.probe\n\n{body}"
    return PolicySet({**policies.modules, "probe/probe.rego": source})


def seed_input(analyzer) -> dict:
    return analyzer.analyze(str(SEED)).input


def test_the_findings_equal_the_embedded_ones(analyzer):
    doc = seed_input(analyzer)
    opa = make_engine(PolicySet.builtin(), "opa")
    assert opa.name == "opa"
    key = lambda f: sorted(f.items())  # noqa: E731
    assert sorted(opa.findings(doc), key=key) == sorted(analyzer.engine.findings(doc), key=key)
    assert len(opa.findings(doc)) >= 3


def test_a_pack_that_does_not_compile_fails_at_construction_naming_file_and_line():
    with pytest.raises(EngineError) as caught:
        make_engine(pack("findings contains x if {\n\tx := y\n}\n"), "opa")
    message = str(caught.value)
    assert message.startswith("the policies do not compile on OPA:")
    assert "probe/probe.rego:11" in message and "var y is unsafe" in message
    assert "\n" not in message


def test_a_syntax_error_fails_at_construction():
    with pytest.raises(EngineError, match=r"do not compile on OPA: .*probe/probe.rego:\d+: rego_parse_error"):
        make_engine(pack("findings contains x if {\n\tx := 1 +\n}\n"), "opa")


def test_an_evaluation_error_is_an_engine_error_not_a_clean_result(analyzer):
    engine = make_engine(pack("f := input.schema_version\n\nf := 0\n\n"
                              "findings contains 1 if f == 1\n"), "opa")
    with pytest.raises(EngineError, match="evaluation failed on OPA: .*eval_conflict_error"):
        engine.findings(seed_input(analyzer))


def test_an_undefined_entrypoint_or_a_non_set_is_an_engine_error(analyzer):
    doc = seed_input(analyzer)
    modules = {"m.rego": "package kmspolicy.main\n\nother := 1\n"}
    with pytest.raises(EngineError, match=r"data.kmspolicy.main.findings is undefined \(OPA\)"):
        opa_golib.OpaGolibEngine(modules).findings(doc)
    modules = {"m.rego": "package kmspolicy.main\n\nfindings := \"none\"\n"}
    with pytest.raises(EngineError, match="is not a set of findings"):
        opa_golib.OpaGolibEngine(modules).findings(doc)


def test_not_installed_is_one_line_exit_2_naming_the_install_step(monkeypatch):
    monkeypatch.setattr(opa_golib, "MODULE", "opa_bindings_not_installed")
    result = CliRunner().invoke(main, ["eval", str(SEED), "--engine", "opa"])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("kmspolicy: error: --engine opa needs OPA's evaluator, which is not installed:")
    assert "pip install --ignore-requires-python 'opa-golib-python-bindings==0.4.4'" in line


def test_timeout_goes_with_the_opa_engine(tmp_path):
    result = CliRunner().invoke(main, ["eval", str(SEED), "--engine", "opa", "--timeout", "30"])
    assert result.exit_code == 1, result.output  # findings; not a usage error


def opa_analyzer() -> Analyzer:
    policies = PolicySet.builtin()
    return Analyzer(policies, engine=make_engine(policies, "opa"))


def test_workers_start_without_fork_once_the_go_runtime_runs(tmp_path, analyzer):
    make_engine(PolicySet.builtin(), "opa")  # the Go runtime now runs in this process
    assert parallel._os_threads() > 1
    assert parallel.default_start_method() in ("forkserver", "spawn")
    copies(tmp_path / "t", ["a.yaml", "b.yaml", "c.yaml"])
    result = run([str(tmp_path / "t")], functools.partial(opa_analyzer), root=str(tmp_path), jobs=2)
    try:
        assert [f.status for f in result.files] == ["analyzed"] * 3
        assert not list(result.errors)
        expected = analyzer.analyze(str(SEED)).findings
        assert len(list(result.findings)) == 3 * len(expected) > 0
    finally:
        result.close()


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_opa_workers_under_each_start_method_that_is_safe_with_go(tmp_path, analyzer, method):
    tasks = copies(tmp_path / "t", ["a.yaml", "b.yaml", "c.yaml"])
    pool = parallel.WorkerPool(functools.partial(opa_analyzer), jobs=2, start_method=method)
    parts = list(pool.map(tasks))
    expected = sorted(f.message for f in analyzer.analyze(str(SEED)).findings)
    assert [sorted(f.message for f in part.findings) for part in parts] == [expected] * 3
    assert pool.crashes == 0 and pool.timeouts == 0
