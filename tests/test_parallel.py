"""`eval --jobs N`: same output whatever N, one engine per worker, crashes become errors."""

from __future__ import annotations

import faulthandler
import io
import os
import pty
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from kmspolicy.bridge.engines import EngineError
from kmspolicy.bridge.findings import Result
from kmspolicy.bridge.pipeline import Analyzer, PolicySet
from kmspolicy.cli import reporters
from kmspolicy.cli.parallel import WorkerError, WorkerPool
from kmspolicy.cli.progress import ERASE, ProgressBar, progress_for
from kmspolicy.cli.run import analyze_task, run

from .conftest import CORPUS, EXAMPLES, ROOT

SEED = EXAMPLES / "seed" / "template.yaml"
START_METHODS = ["spawn", "forkserver", "fork"]
CLI = [sys.executable, "-c", "from kmspolicy.cli.main import entrypoint; entrypoint()"]


@pytest.fixture(autouse=True)
def no_hang():
    """A pool that hangs fails the test instead of blocking the suite."""
    def hung(signum, frame):
        raise TimeoutError("the worker pool hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(240)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


# -- factories that workers unpickle: they must live at module level -------------------------

class LoggingAnalyzer(Analyzer):
    """Appends "build PID" when built (the engine is compiled in Analyzer.__init__) and
    "file PID NAME" per file to `log`; dies by `crash_signal` on files named crash*."""

    def __init__(self, log: str, crash_signal: int | None = None, fail: bool = False):
        super().__init__(PolicySet.builtin())
        self.log = log
        self.crash_signal = crash_signal
        self.fail = fail
        self._write(f"build {os.getpid()}")

    def analyze(self, path, display=None):
        name = Path(path).name
        self._write(f"file {os.getpid()} {name}")
        if name.startswith("crash") and self.crash_signal is not None:
            faulthandler.disable()  # pytest's would dump the crash on the test's stderr
            os.kill(os.getpid(), self.crash_signal)
            time.sleep(10)  # the signal is delivered before this ends
        if name.startswith("crash") and self.fail:
            raise ValueError(f"cannot analyze {name}")
        return super().analyze(path, display)

    def _write(self, line: str) -> None:
        with open(self.log, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


@dataclass
class LoggingFactory:
    log: str
    crash_signal: int | None = None
    fail: bool = False

    def __call__(self) -> Analyzer:
        return LoggingAnalyzer(self.log, self.crash_signal, self.fail)


@dataclass
class DyingFactory:
    """A worker that dies while building its engine (as a segfault in compilation would)."""

    def __call__(self) -> Analyzer:
        faulthandler.disable()
        os.kill(os.getpid(), signal.SIGSEGV)
        time.sleep(10)
        raise AssertionError("unreachable")


@dataclass
class AbortingFactory:
    """A worker whose native code writes its reason on stderr, then aborts, while building."""

    def __call__(self) -> Analyzer:
        faulthandler.disable()
        os.write(2, b"terminate called after throwing an instance of 'std::runtime_error'\n"
                    b"  what():  shape `rego-localref` has no field `rego-refhead`\n")
        os.abort()


@dataclass
class TalkingFactory:
    """Writes on stderr while building (as a cache warning does), then builds."""

    log: str

    def __call__(self) -> Analyzer:
        print("kmspolicy: warning: said while building", file=sys.stderr)
        return LoggingAnalyzer(self.log)


@dataclass
class FailingFactory:
    message: str

    def __call__(self) -> Analyzer:
        raise EngineError(self.message)


def events(log: Path) -> list[list[str]]:
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


def copies(folder: Path, names: list[str]) -> list[tuple[str, str, bool]]:
    folder.mkdir(parents=True, exist_ok=True)
    tasks = []
    for name in names:
        target = folder / name
        target.write_bytes(SEED.read_bytes())
        tasks.append((str(target), target.name, False))
    return tasks


# -- the command line: identical output for every N, in every format ------------------------

def scan_folders() -> list[Path]:
    return [EXAMPLES] + ([CORPUS] if CORPUS.is_dir() else [])


def eval_all_formats(folder: Path, jobs: int, out: Path) -> tuple[int, bytes, bytes, dict]:
    out.mkdir()
    names = list(reporters.REPORTERS)
    args = ["eval", str(folder), "--jobs", str(jobs), "--root", str(ROOT), "--format", "text"]
    for name in names[1:] if names[0] == "text" else names:
        if name != "text":
            args += ["--format", f"{name}={out / name}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    proc = subprocess.run(CLI + args, cwd=ROOT, capture_output=True, timeout=300, env=env)
    files = {path.name: path.read_bytes() for path in sorted(out.iterdir())}
    return proc.returncode, proc.stdout, proc.stderr, files


@pytest.mark.parametrize("folder", scan_folders(), ids=lambda p: p.name)
def test_jobs_1_and_4_give_byte_identical_output_in_every_format(folder, tmp_path):
    one = eval_all_formats(folder, 1, tmp_path / "one")
    four = eval_all_formats(folder, 4, tmp_path / "four")
    assert one[0] in (0, 1, 2) and one[1], one[2].decode()
    assert "internal error" not in one[2].decode()
    assert set(one[3]) == set(reporters.REPORTERS) - {"text"}
    assert one[0] == four[0]
    assert one[1] == four[1]
    assert one[2] == four[2]
    assert one[3] == four[3]


def test_jobs_must_be_positive():
    proc = subprocess.run(CLI + ["eval", str(SEED), "--jobs", "0"], cwd=ROOT,
                          capture_output=True, timeout=60)
    assert proc.returncode == 2
    assert b"--jobs" in proc.stderr


# -- the worker pool ---------------------------------------------------------------------------

@pytest.mark.parametrize("method", START_METHODS)
def test_each_worker_builds_the_engine_once_and_analyzes_many_files(tmp_path, method):
    log = tmp_path / "log"
    tasks = copies(tmp_path / "t", [f"t{i:02}.yaml" for i in range(12)])
    pool = WorkerPool(LoggingFactory(str(log)), jobs=2, start_method=method)
    parts = list(pool.map(tasks))

    builds = [int(e[1]) for e in events(log) if e[0] == "build"]
    analyzed = [(int(e[1]), e[2]) for e in events(log) if e[0] == "file"]
    assert sorted(builds) == sorted({*builds}) and len(builds) == 2  # one per worker
    assert os.getpid() not in builds
    assert {pid for pid, _ in analyzed} == set(builds)
    assert sorted(name for _, name in analyzed) == [Path(t[0]).name for t in tasks]
    assert sorted(s.pid for s in pool.stats) == sorted(builds)
    assert all(s.ready for s in pool.stats) and max(s.files for s in pool.stats) > 1
    assert sum(s.files for s in pool.stats) == 12
    assert [p.files[0].file for p in parts] == [t[1] for t in tasks]  # task order


def test_results_equal_the_in_process_ones_in_task_order(tmp_path):
    tasks = copies(tmp_path / "t", [f"t{i}.yaml" for i in range(5)])
    tasks.append((str(tmp_path / "t" / "missing.yaml"), "missing.yaml", True))
    analyzer = Analyzer(PolicySet.builtin())
    expected = [analyze_task(analyzer, task) for task in tasks]
    got = list(WorkerPool(LoggingFactory(str(tmp_path / "log")), jobs=3).map(tasks))
    assert got == expected
    assert got[0].findings, "the seed template has findings"


@pytest.mark.parametrize("method", START_METHODS)
def test_a_worker_that_dies_turns_its_file_into_an_error_and_is_replaced(tmp_path, method):
    log = tmp_path / "log"
    names = ["a.yaml", "crash1.yaml", "b.yaml", "crash2.yaml", "c.yaml", "d.yaml"]
    tasks = copies(tmp_path / "t", names)
    pool = WorkerPool(LoggingFactory(str(log), crash_signal=signal.SIGSEGV), jobs=2,
                      start_method=method)
    parts = list(pool.map(tasks))

    assert [p.files[0].file for p in parts] == names
    for name, part in zip(names, parts, strict=True):
        if name.startswith("crash"):
            assert part.files[0].status == "error"
            assert len(part.errors) == 1 and part.errors[0].kind == "internal"
            assert "SIGSEGV" in part.errors[0].message
            assert not part.findings
        else:
            assert part.files[0].status == "analyzed" and part.findings and not part.errors
    assert pool.crashes == 2
    assert len(pool.stats) >= 3  # the dead workers were replaced
    builds = [int(e[1]) for e in events(log) if e[0] == "build"]
    assert sorted(builds) == sorted({*builds})  # once per worker
    assert {s.pid for s in pool.stats if s.ready} <= set(builds) <= {s.pid for s in pool.stats}
    assert sum(s.files for s in pool.stats) == len(names) - 2


def test_a_crash_makes_the_run_exit_2(tmp_path):
    copies(tmp_path / "t", ["a.yaml", "crash.yaml", "b.yaml"])
    result = run([str(tmp_path / "t")], LoggingFactory(str(tmp_path / "log"), signal.SIGKILL),
                 root=str(tmp_path), jobs=2)
    assert [f.status for f in result.files] == ["analyzed", "analyzed", "error"]
    assert "SIGKILL" in result.errors[0].message and result.errors[0].file == "t/crash.yaml"
    assert result.exit_code("low") == 2
    assert result.exit_code("critical") == 2


def test_a_worker_that_dies_while_compiling_fails_the_run(tmp_path):
    tasks = copies(tmp_path / "t", ["a.yaml", "b.yaml"])
    with pytest.raises(EngineError, match="SIGSEGV.*compiling"):
        list(WorkerPool(DyingFactory(), jobs=2).map(tasks))


@pytest.mark.parametrize("method", START_METHODS)
def test_a_native_abort_while_compiling_is_one_line_quoting_its_reason(tmp_path, method):
    tasks = copies(tmp_path / "t", ["a.yaml"])
    before = set(Path(tempfile.gettempdir()).glob("kmspolicy-worker-*"))
    with pytest.raises(EngineError) as caught:
        list(WorkerPool(AbortingFactory(), jobs=1, start_method=method).map(tasks))
    assert str(caught.value) == ("a worker process died (SIGABRT) while compiling the policies; the "
                                 "last line it wrote on stderr: what(): shape `rego-localref` has "
                                 "no field `rego-refhead`")
    assert set(Path(tempfile.gettempdir()).glob("kmspolicy-worker-*")) == before  # removed


def test_what_a_worker_writes_while_building_reaches_stderr(tmp_path, capfd):
    tasks = copies(tmp_path / "t", ["a.yaml", "b.yaml"])
    parts = list(WorkerPool(TalkingFactory(str(tmp_path / "log")), jobs=2, start_method="fork").map(tasks))
    assert [p.files[0].status for p in parts] == ["analyzed"] * 2
    assert "kmspolicy: warning: said while building" in capfd.readouterr().err


def test_a_worker_that_cannot_build_reraises_its_error(tmp_path):
    copies(tmp_path / "t", ["a.yaml", "b.yaml"])
    with pytest.raises(EngineError, match="^the policies do not compile: boom$"):
        run([str(tmp_path / "t")], FailingFactory("the policies do not compile: boom"), jobs=2)


def test_an_exception_in_a_worker_stops_the_run_with_its_traceback(tmp_path):
    tasks = copies(tmp_path / "t", ["a.yaml", "crash.yaml", "b.yaml"])
    with pytest.raises(WorkerError, match="crash.yaml: ValueError: cannot analyze") as caught:
        list(WorkerPool(LoggingFactory(str(tmp_path / "log"), fail=True), jobs=2).map(tasks))
    assert "ValueError" in str(caught.value.__cause__)
    assert "LoggingAnalyzer" not in str(caught.value)  # one line; the traceback is the cause


def test_with_no_time_limit_jobs_1_and_a_single_file_stay_in_this_process(tmp_path):
    import multiprocessing

    log = tmp_path / "log"
    copies(tmp_path / "t", ["a.yaml", "b.yaml"])
    run([str(tmp_path / "t")], LoggingFactory(str(log)), jobs=1, timeout=0)
    run([str(tmp_path / "t" / "a.yaml")], LoggingFactory(str(log)), jobs=4, timeout=0)
    assert {int(e[1]) for e in events(log)} == {os.getpid()}
    assert [e[0] for e in events(log)].count("build") == 2  # once per run, not per file
    assert not multiprocessing.active_children()


def test_no_worker_is_left_behind(tmp_path):
    import multiprocessing

    tasks = copies(tmp_path / "t", [f"t{i}.yaml" for i in range(4)])
    results = WorkerPool(LoggingFactory(str(tmp_path / "log")), jobs=2).map(tasks)
    next(results)
    results.close()  # the consumer stops early (e.g. Ctrl-C)
    assert not [p for p in multiprocessing.active_children() if p.name == "kmspolicy-worker"]


# -- progress ------------------------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_waits_for_a_long_scan_then_counts_files_and_findings():
    stream, clock = io.StringIO(), FakeClock()
    bar = ProgressBar(stream, delay=0.5, interval=0.1, clock=clock)
    bar.start(4)
    bar.advance(2)
    assert stream.getvalue() == ""  # a short scan shows nothing
    clock.now += 1
    bar.advance(0)
    assert stream.getvalue().endswith("2/4 files, 2 findings")
    bar.advance(1)  # within the interval: not redrawn
    assert "3/4" not in stream.getvalue()
    bar.advance(0)  # the last file is always drawn
    assert stream.getvalue().endswith("[" + "#" * 24 + "] 4/4 files, 3 findings")
    bar.finish()
    assert stream.getvalue().endswith(ERASE)


def test_progress_that_never_drew_erases_nothing():
    stream = io.StringIO()
    bar = ProgressBar(stream, clock=FakeClock())
    bar.start(1)
    bar.advance(1)
    bar.finish()
    assert stream.getvalue() == ""


def test_progress_only_on_a_terminal_and_for_text_reports():
    assert progress_for(["text"], quiet=False, stream=Terminal()) is not None
    assert progress_for(["text"], quiet=False, stream=io.StringIO()) is None
    assert progress_for(["json"], quiet=False, stream=Terminal()) is None
    assert progress_for(["text", "sarif"], quiet=False, stream=Terminal()) is None
    assert progress_for(["text"], quiet=True, stream=Terminal()) is None


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not there")
def test_progress_bar_on_a_terminal_stderr_is_erased_before_the_report(tmp_path):
    main_end, child_end = pty.openpty()
    out = tmp_path / "out.txt"
    with open(out, "wb") as stdout:
        proc = subprocess.Popen(CLI + ["eval", str(CORPUS), "--jobs", "2"], cwd=ROOT,
                                stdout=stdout, stderr=child_end)
    os.close(child_end)
    seen = b""
    while True:
        try:
            chunk = os.read(main_end, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=120)
    os.close(main_end)
    text = seen.decode()
    assert "files," in text and "/" in text
    assert text.endswith(ERASE)
    assert "kmspolicy [" not in out.read_text()


def test_merged_parts_keep_every_result_field():
    from kmspolicy.cli.run import merge

    whole = Result()
    part = Result()
    part.skipped.append("x.yaml")
    merge(whole, part)
    merge(whole, part)
    assert whole.skipped == ["x.yaml", "x.yaml"]
