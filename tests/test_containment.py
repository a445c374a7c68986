"""Engine failures are contained: with the default options, even for one file, a native crash
while analyzing a file is an error naming that file (exit 2) and the other files go on; a
crash while compiling the policies stops the run with one line (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import EXAMPLES, ROOT

SEED = EXAMPLES / "seed" / "template.yaml"
# eval with Analyzer.analyze replaced before any worker starts: files named crash* abort
# the process as native code does (SIGABRT, the shell's exit 134)
CRASHING_CLI = """
import os
from pathlib import Path
from kmspolicy.bridge.pipeline import Analyzer
analyze = Analyzer.analyze
def crashing(self, path, display=None):
    if Path(path).name.startswith("crash"):
        os.abort()
    return analyze(self, path, display)
Analyzer.analyze = crashing
from kmspolicy.cli.main import entrypoint
entrypoint()
"""
CRASH_WHILE_COMPILING = """# METADATA
# title: Crash probe
# description: regopy 1.5 aborts compiling a with around a rule that calls a function.
# custom:
#   id: CRASH001
#   severity: low
#   remediation: none
package kmspolicy.rules.crash_probe

_f(x) := x

_inner contains y if {
\tsome k, _ in input.keys
\ty := _f(k)
}

findings contains {"rule": "CRASH001", "resource": k, "message": "m", "path": "/Resources"} if {
\tsome k in _inner with input as {"keys": {"a": 1}}
\tk == "never"
}
"""


def engines() -> list[str]:
    try:
        import opa_bindings  # noqa: F401
    except ImportError:
        return ["embedded"]
    return ["embedded", "opa"]


def eval_cli(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, "eval", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("engine", engines())
@pytest.mark.parametrize("jobs", [[], ["--jobs", "1"], ["--jobs", "2"]], ids=["default", "1", "2"])
def test_a_crash_on_one_file_is_an_error_for_that_file_and_the_others_go_on(tmp_path, engine, jobs):
    for name in ("a.yaml", "crash.yaml", "b.yaml"):
        (tmp_path / name).write_bytes(SEED.read_bytes())
    proc = eval_cli(CRASHING_CLI, str(tmp_path), "--root", str(tmp_path), "--format", "json",
                    "--engine", engine, *jobs)
    assert proc.returncode == 2, proc.stderr
    report = json.loads(proc.stdout)
    assert [(f["file"], f["status"]) for f in report["files"]] == [
        ("a.yaml", "analyzed"), ("b.yaml", "analyzed"), ("crash.yaml", "error")]
    [error] = report["errors"]
    assert error["file"] == "crash.yaml" and "\n" not in error["message"]
    assert error["message"].startswith("analysis crashed: the worker process died (SIGABRT)")
    assert {f["file"] for f in report["findings"]} == {"a.yaml", "b.yaml"}


@pytest.mark.parametrize("engine", engines())
def test_a_crash_on_a_single_file_is_exit_2_naming_it(tmp_path, engine):
    target = tmp_path / "crash.yaml"
    target.write_bytes(SEED.read_bytes())
    proc = eval_cli(CRASHING_CLI, str(target), "--root", str(tmp_path), "--engine", engine)
    assert proc.returncode == 2
    assert "crash.yaml" in proc.stdout and "analysis crashed" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_a_crash_while_compiling_the_policies_is_one_line_exit_2(tmp_path):
    pack = tmp_path / "pack" / "kmspolicy" / "rules"
    pack.mkdir(parents=True)
    (pack / "crash_probe.rego").write_text(CRASH_WHILE_COMPILING)
    proc = subprocess.run([sys.executable, "-c", "from kmspolicy.cli.main import entrypoint; entrypoint()",
                           "eval", str(SEED), "--bundle", str(tmp_path / "pack")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"KMSPOLICY_CACHE_DIR": "off", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("kmspolicy: error: ")  # the engine's own abort text may come before
    assert "Traceback" not in proc.stderr and "No findings" not in proc.stdout
