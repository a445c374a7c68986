"""`eval --timeout`: a file whose analysis hangs costs its worker and that file, never the run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from kmspolicy.cli import parallel
from kmspolicy.cli.main import main
from kmspolicy.cli.parallel import WorkerPool
from kmspolicy.cli.run import DEFAULT_TIMEOUT, analyze_tasks, run

from .conftest import ROOT
from .test_parallel import (
    LoggingAnalyzer,
    copies,
    events,
    no_hang,  # noqa: F401 - autouse: a pool that hangs fails the test
)

OUTPUT_SCHEMA = ROOT / "bridge" / "schema" / "output-v1.json"
# eval with Analyzer.analyze replaced before the workers are forked: files named hang* never end
HANGING_CLI = """
import sys, time
from pathlib import Path
from kmspolicy.bridge.pipeline import Analyzer
analyze = Analyzer.analyze
def hanging(self, path, display=None):
    if Path(path).name.startswith("hang"):
        time.sleep(600)
    return analyze(self, path, display)
Analyzer.analyze = hanging
from kmspolicy.cli.main import entrypoint
entrypoint()
"""


def spin_forever() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # like native code that never returns
    while True:
        pass


class StallingAnalyzer(LoggingAnalyzer):
    """Spins forever on files named hang*, sleeps `delay` seconds on slow*."""

    def __init__(self, log: str, delay: float):
        super().__init__(log)
        self.delay = delay

    def analyze(self, path, display=None):
        name = Path(path).name
        if name.startswith("hang"):
            self._write(f"hang {os.getpid()} {name}")
            spin_forever()
        if name.startswith("slow"):
            time.sleep(self.delay)
        return super().analyze(path, display)


@dataclass
class StallingFactory:
    log: str
    delay: float = 0.0

    def __call__(self) -> StallingAnalyzer:
        return StallingAnalyzer(self.log, self.delay)


def test_hanging_files_time_out_their_workers_are_replaced_and_the_others_are_reported(tmp_path):
    log = tmp_path / "log"
    names = ["a.yaml", "hang1.yaml", "b.yaml", "hang2.yaml", "c.yaml", "d.yaml"]
    tasks = copies(tmp_path / "t", names)
    pool = WorkerPool(StallingFactory(str(log)), jobs=2, timeout=1)
    parts = list(pool.map(tasks))

    assert [p.files[0].file for p in parts] == names  # task order
    for name, part in zip(names, parts, strict=True):
        if name.startswith("hang"):
            assert part.files[0].status == "error" and not part.findings
            assert [(e.kind, e.line) for e in part.errors] == [("internal", None)]
            assert part.errors[0].message.startswith("analysis timed out after 1 s (--timeout);")
            assert "\n" not in part.errors[0].message
        else:
            assert part.files[0].status == "analyzed" and part.findings and not part.errors
    assert pool.timeouts == 2 and pool.crashes == 0
    hang_pids = [int(e[1]) for e in events(log) if e[0] == "hang"]
    assert len(hang_pids) == 2 and set(hang_pids) <= {s.pid for s in pool.stats} - {os.getpid()}
    for pid in hang_pids:
        with pytest.raises(ProcessLookupError):  # killed and reaped, not left spinning
            os.kill(pid, 0)
    # c and d were still queued when the first worker was stopped (the other holds hang2)
    assert len(pool.stats) >= 3
    assert sum(s.files for s in pool.stats) == 4


def test_the_limit_is_per_file_not_per_worker(tmp_path):
    names = ["slow1.yaml", "slow2.yaml", "slow3.yaml"]
    tasks = copies(tmp_path / "t", names)
    pool = WorkerPool(StallingFactory(str(tmp_path / "log"), delay=0.6), jobs=1, timeout=1.5)
    parts = list(pool.map(tasks))  # over 1.8 s on one worker, each file well under 1.5 s
    assert [p.files[0].status for p in parts] == ["analyzed"] * 3
    assert pool.timeouts == 0 and len(pool.stats) == 1


def test_a_timeout_makes_the_run_exit_2_even_with_one_job(tmp_path):
    copies(tmp_path / "t", ["a.yaml", "hang.yaml", "b.yaml"])
    log = tmp_path / "log"
    result = run([str(tmp_path / "t")], StallingFactory(str(log)), root=str(tmp_path), jobs=1,
                 timeout=1)
    assert [(f.file, f.status) for f in result.files] == [
        ("t/a.yaml", "analyzed"), ("t/b.yaml", "analyzed"), ("t/hang.yaml", "error")]
    assert [e.file for e in result.errors] == ["t/hang.yaml"]
    assert result.findings
    assert result.exit_code("low") == 2 and result.exit_code("critical") == 2
    assert os.getpid() not in {int(e[1]) for e in events(log)}  # analyzed in a worker


class RecordingPool:
    made: list[tuple[int, float | None]] = []

    def __init__(self, make_analyzer, jobs, timeout=None, environment=None):
        RecordingPool.made.append((jobs, timeout))

    def map(self, tasks):
        return iter(())


@pytest.mark.parametrize("jobs, files, timeout, pool_timeout", [
    (2, 2, None, DEFAULT_TIMEOUT),  # workers run anyway: the default limit
    (2, 2, 0, None),  # 0: no limit
    (1, 2, 5, 5),  # a limit given: a worker even for one job...
    (4, 1, 5, 5),  # ...and for one file
    (1, 2, None, DEFAULT_TIMEOUT),  # the default limit applies whatever --jobs (issue 18)...
    (4, 1, None, DEFAULT_TIMEOUT),  # ...and for a single file
    (1, 2, 0, "in-process"),
    (4, 1, 0, "in-process"),
])
def test_when_files_go_to_workers_and_with_which_limit(monkeypatch, analyzer, jobs, files, timeout,
                                                       pool_timeout):
    monkeypatch.setattr(parallel, "WorkerPool", RecordingPool)
    monkeypatch.setattr(RecordingPool, "made", [])
    tasks = [(f"t{i}.yaml", f"t{i}.yaml", False) for i in range(files)]
    analyze_tasks(tasks, lambda: analyzer, jobs, timeout)
    if pool_timeout == "in-process":
        assert RecordingPool.made == []
    else:
        assert RecordingPool.made == [(jobs, pool_timeout)]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_command_line_reports_a_timeout_in_the_json_contract(tmp_path, jobs):
    folder = tmp_path / "t"
    copies(folder, ["a.yaml", "b.yaml", "hang.yaml"])
    proc = subprocess.run([sys.executable, "-c", HANGING_CLI, "eval", str(folder), "--root", str(folder),
                           "--format", "json", "--timeout", "1", "--jobs", jobs],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    report = json.loads(proc.stdout)
    jsonschema.validate(report, json.loads(OUTPUT_SCHEMA.read_text()))
    assert [(f["file"], f["status"]) for f in report["files"]] == [
        ("a.yaml", "analyzed"), ("b.yaml", "analyzed"), ("hang.yaml", "error")]
    [error] = report["errors"]
    assert error["file"] == "hang.yaml" and error["kind"] == "internal"
    assert error["message"].startswith("analysis timed out after 1 s")
    assert report["findings"]


def test_timeout_must_not_be_negative():
    result = CliRunner().invoke(main, ["eval", "x.yaml", "--timeout", "-1"])
    assert result.exit_code == 2 and "--timeout" in result.output


def test_timeout_goes_with_the_embedded_engine(tmp_path):
    result = CliRunner().invoke(main, ["eval", str(tmp_path), "--timeout", "5", "--engine", "opa-cli"])
    assert result.exit_code == 2
    assert "--timeout goes with the embedded and opa engines" in result.output
