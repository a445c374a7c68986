"""Analyze files in worker processes (`kmspolicy eval --jobs N`).

Each worker builds its Analyzer — and so compiles the policies — once, then analyzes one
file at a time and sends back that file's partial `Result` (findings, errors, status: never
the document or the rule input), its lists already pickled as the parent's spools keep them
(`Pickled`), so the parent writes them out without unpickling them. The parent keeps the
next file waiting in each worker's pipe while the queue is long (`PREFETCH`), so a worker
never waits for the parent between files, and hands the files out largest first within
each run of `WINDOW` tasks, so the last files of a scan are its small ones. It hands the
parts on in task order, whatever order they finish in (holding at most about a window of
them), so the output does not depend on N.

A worker that dies (a crash in native code kills the whole process) turns the file it held
into an error and is replaced; the run never passes that file as clean. With a `timeout`,
a worker still on one file after that many seconds from when it started on it (the Rego
engine spinning in native code cannot be interrupted any other way) is killed, replaced,
and its file is an error; a file waiting in its pipe goes back to the queue.
A worker that cannot build its Analyzer fails the run: the parent re-raises the worker's
exception (or an `EngineError` if the worker died, quoting the last line it wrote on stderr
while building: native code's own reason for aborting; what it writes there while building
is passed on to stderr once built).
Everything sent to a worker is pickled, so this works with the spawn and forkserver start
methods: `make_analyzer` must be a picklable callable (e.g. `functools.partial(Analyzer,
policies, parameters=...)`) that builds its engine when called.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import pickle
import select
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from multiprocessing.connection import Connection

from kmspolicy.bridge.engines import EngineError
from kmspolicy.bridge.findings import FileError, Result
from kmspolicy.bridge.pipeline import Analyzer, FileReport
from kmspolicy.bridge.spool import Pickled, SpoolError

from .run import Task, add_report, analyze_task

PRELOAD = ["kmspolicy.cli.parallel"]  # what a forkserver imports once for all its workers
STOP_TIMEOUT = 5.0
PREFETCH = 2  # files a worker holds at most: the one it analyzes, the next waiting in its pipe
WINDOW = 256  # tasks handed out largest first among themselves (results held: about as many)


def default_start_method() -> str:
    """fork on Linux when this process has no other thread (the CLI: it has built no engine
    either), as it costs no interpreter start; else forkserver, else spawn. Threads that
    native libraries start (a Go runtime, an engine's pool) count too: a fork while one of
    them holds a lock (malloc's, say) deadlocks the child."""
    if sys.platform.startswith("linux") and threading.active_count() == 1 and _os_threads() == 1:
        return "fork"
    return fresh_start_method()


def fresh_start_method() -> str:
    """A start method whose workers begin a new process (forkserver, else spawn)."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _os_threads() -> int:
    """Every thread of this process, Python's or not (Linux)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 2  # unknown: do not fork


class WorkerError(RuntimeError):
    """A worker raised an unexpected exception (a bug): the run stops, as it would in-process."""


class RemoteTraceback(Exception):
    """The worker's traceback, chained to `WorkerError` so --debug shows where it failed."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f"\n{self.text}"


@dataclass
class WorkerStats:
    pid: int
    ready: bool = False  # built its Analyzer
    files: int = 0


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    stats: WorkerStats
    build_log: str  # what the worker wrote on stderr while building its Analyzer (then removed)
    held: deque[int] = field(default_factory=deque)  # tasks sent, not done; it analyzes the first
    deadline: float = float("inf")  # when its time for the first is up (time.monotonic)

    @property
    def current(self) -> int | None:
        """The index of the task it is analyzing."""
        return self.held[0] if self.held else None


@dataclass
class WorkerPool:
    """`map(tasks)` yields one partial Result per task, in task order. `timeout`: seconds a
    worker may spend on one file (None: no limit)."""

    make_analyzer: Callable[[], Analyzer]
    jobs: int
    start_method: str | None = None
    timeout: float | None = None
    environment: dict[str, str] = field(default_factory=dict)  # workers start afresh with it
    stats: list[WorkerStats] = field(default_factory=list)  # one per worker started
    crashes: int = 0
    timeouts: int = 0

    def map(self, tasks: list[Task]) -> Iterator[Result]:
        context = multiprocessing.get_context(self.start_method or self._start_method())
        if context.get_start_method() == "forkserver":
            context.set_forkserver_preload(PRELOAD)
        run = _PoolRun(self, context, tasks)
        with _environment(self.environment):
            try:
                yield from run.results()
            except BaseException:  # an error, an interrupt (SIGINT, SIGTERM) or close(): stop now
                run.shut_down(kill=True)
                raise
            run.shut_down()

    def _start_method(self) -> str:
        """A worker given an environment is started afresh, never forked: what reads the
        environment a process started with (a Go runtime) sees only that."""
        return fresh_start_method() if self.environment else default_start_method()


@contextlib.contextmanager
def _environment(extra: dict[str, str]) -> Iterator[None]:
    """`extra` in os.environ while the block runs (workers started in it inherit it)."""
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _PoolRun:
    def __init__(self, pool: WorkerPool, context, tasks: list[Task]):
        self.pool = pool
        self.context = context
        self.tasks = tasks
        self.queue: deque[int] = deque(handout_order(tasks))
        self.finished: dict[int, Result] = {}
        self.live: list[_Worker] = []
        # one poll set for the whole run: multiprocessing's wait() and Connection.poll()
        # build a selector at every call, several times per file
        self.poller = select.poll()
        self.by_fd: dict[int, _Worker] = {}

    def results(self) -> Iterator[Result]:
        for _ in range(min(self.pool.jobs, len(self.tasks))):
            self._start_worker()
        for index in range(len(self.tasks)):
            while index not in self.finished:
                self._wait()
            yield self.finished.pop(index)

    def _start_worker(self) -> None:
        parent_end, child_end = self.context.Pipe()
        try:
            handle, build_log = tempfile.mkstemp(prefix="kmspolicy-worker-", suffix=".stderr")
        except OSError as exc:  # the same temporary folder the results are spooled in
            raise SpoolError(exc) from None
        os.close(handle)
        process = self.context.Process(target=_worker_main,
                                       args=(child_end, self.pool.make_analyzer, build_log),
                                       daemon=True, name="kmspolicy-worker")
        try:
            process.start()
        except BaseException:
            _remove(build_log)
            raise
        child_end.close()  # so the parent sees EOF when the worker dies
        stats = WorkerStats(process.pid)
        self.pool.stats.append(stats)
        worker = _Worker(process, parent_end, stats, build_log)
        self.live.append(worker)
        for fd in (parent_end.fileno(), process.sentinel):
            self.poller.register(fd, select.POLLIN)
            self.by_fd[fd] = worker

    def _wait(self) -> None:
        if not self.live:
            raise EngineError("no worker process is left to analyze the remaining files")
        left = self._time_left()
        handled = set()
        for fd, _ in self.poller.poll(None if left is None else math.ceil(left * 1000)):
            worker = self.by_fd.get(fd)
            if worker is None or id(worker) in handled:  # gone since (its fd maybe reused)
                continue
            handled.add(id(worker))
            self._service(worker)
        self._stop_overdue()

    def _time_left(self) -> float | None:
        """Seconds until the first deadline of a busy worker; None: wait for a message."""
        first = min((w.deadline for w in self.live if w.current is not None), default=float("inf"))
        return None if first == float("inf") else max(0.0, first - time.monotonic())

    def _stop_overdue(self) -> None:
        for worker in list(self.live):
            if worker.current is None or time.monotonic() < worker.deadline:
                continue
            if _readable(worker.conn.fileno()):  # it answered after all: take the answer
                self._service(worker)
                continue
            worker.process.kill()
            self._remove(worker)
            self.pool.timeouts += 1
            self._replace(worker, timeout_result(self.tasks[worker.current], self.pool.timeout))

    def _service(self, worker: _Worker) -> None:
        """Read what the worker sent; if it has died, account for the file it held."""
        try:
            while _readable(worker.conn.fileno()):
                self._receive(worker, worker.conn.recv())
        except (EOFError, OSError):
            pass
        else:
            if not _readable(worker.process.sentinel):  # readable once the process has ended
                return
        self._bury(worker)

    def _receive(self, worker: _Worker, message: tuple) -> None:
        kind = message[0]
        if kind == "ready":
            worker.stats.ready = True
            _remove(worker.build_log)
            self._assign(worker)
        elif kind == "done":
            _, index, part = message
            self.finished[index] = part
            worker.held.popleft()
            worker.stats.files += 1
            if worker.held and self.pool.timeout:  # it starts on the next one now
                worker.deadline = time.monotonic() + self.pool.timeout
            self._assign(worker)
        elif kind == "init-error":
            raise message[1]
        elif kind == "failed":
            _, index, summary, text = message
            raise WorkerError(f"{self.tasks[index][1]}: {summary}") from RemoteTraceback(text)

    def _assign(self, worker: _Worker) -> None:
        """Give an idle worker a file, and one to wait in its pipe while more files are
        queued than there are workers (near the end, only idle workers get files)."""
        while self.queue and (not worker.held or (
                len(worker.held) < PREFETCH and len(self.queue) > len(self.live))):
            index = self.queue.popleft()
            try:
                worker.conn.send((index, self.tasks[index]))
            except (BrokenPipeError, EOFError, OSError):
                self.queue.appendleft(index)  # it never reached the worker
                return
            if not worker.held and self.pool.timeout:
                worker.deadline = time.monotonic() + self.pool.timeout
            worker.held.append(index)

    def _bury(self, worker: _Worker) -> None:
        self._remove(worker)
        how = _how_it_died(worker.process.exitcode)
        if not worker.stats.ready:
            said = _last_line(worker.build_log)
            _remove(worker.build_log)
            raise EngineError(f"a worker process died ({how}) while compiling the policies"
                              + (f"; the last line it wrote on stderr: {said}" if said else ""))
        lost = None
        if worker.current is not None:
            self.pool.crashes += 1
            lost = crash_result(self.tasks[worker.current], how)
        self._replace(worker, lost)

    def _remove(self, worker: _Worker) -> None:
        for fd in (worker.conn.fileno(), worker.process.sentinel):
            self.poller.unregister(fd)
            del self.by_fd[fd]
        worker.process.join()
        worker.conn.close()
        self.live.remove(worker)
        if worker.stats.ready:
            _remove(worker.build_log)

    def _replace(self, worker: _Worker, lost: Result | None) -> None:
        """A worker is gone: `lost` stands for the file it was analyzing, the files waiting
        in its pipe go back to the queue's front; the queue gets a new worker."""
        if worker.held:
            self.finished[worker.held.popleft()] = lost
            self.queue.extendleft(reversed(worker.held))
            worker.held.clear()
            for idle in self.live:
                if idle.stats.ready and not idle.held:
                    self._assign(idle)
        if self.queue:
            self._start_worker()

    def shut_down(self, kill: bool = False) -> None:
        """Ask the idle workers to stop (finished: they all are); `kill`: stop them at once,
        whatever they are doing."""
        if kill:
            for worker in self.live:
                worker.process.kill()
        for worker in self.live:
            try:
                worker.conn.send(None)
            except (BrokenPipeError, EOFError, OSError):
                continue
        for worker in self.live:
            worker.process.join(STOP_TIMEOUT)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
            _remove(worker.build_log)
        self.live.clear()


def _readable(fd: int) -> bool:
    """Whether a read of `fd` would not block (data, or the other end closed)."""
    check = select.poll()
    check.register(fd, select.POLLIN)
    return bool(check.poll(0))


def handout_order(tasks: list[Task]) -> list[int]:
    """Task indexes in the order workers get them: within each run of `WINDOW` tasks, the
    largest files first (a file that cannot be read counts as empty), so a scan does not
    end waiting on one worker's big file while the others are idle."""
    sizes = []
    for file, _, _ in tasks:
        try:
            sizes.append(os.stat(file).st_size)
        except OSError:
            sizes.append(0)
    order: list[int] = []
    for start in range(0, len(tasks), WINDOW):
        window = range(start, min(start + WINDOW, len(tasks)))
        order.extend(sorted(window, key=lambda index: -sizes[index]))
    return order


def crash_result(task: Task, how: str) -> Result:
    """The file a dead worker held: an error, never clean."""
    return _not_analyzed(task, f"analysis crashed: the worker process died ({how}) while "
                               "analyzing this file; it was not analyzed")


def timeout_result(task: Task, seconds: float) -> Result:
    """The file a worker spent too long on: an error, never clean."""
    return _not_analyzed(task, f"analysis timed out after {seconds:g} s (--timeout); "
                               "the worker process was stopped and this file was not analyzed")


def _not_analyzed(task: Task, message: str) -> Result:
    _, display, explicit = task
    report = FileReport(display, "error", errors=[FileError(display, message, kind="internal")])
    part = Result()
    add_report(part, report, explicit)
    return part


def _how_it_died(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return signal.Signals(-exitcode).name
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit code {exitcode}"


def _portable(exc: Exception) -> Exception:
    """The exception itself if it survives pickling, else an EngineError that describes it."""
    try:
        return pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any pickling failure
        return EngineError(f"{type(exc).__name__}: {exc}")


def _die_with_parent() -> None:
    """On Linux, the kernel kills this worker when its parent (the CLI, or the forkserver
    that dies with it) dies, however it dies: even SIGKILL, which leaves the parent no
    chance to stop its workers."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the request was made
        os._exit(1)


def _last_line(path: str) -> str:
    """The last line a worker wrote while building (a native abort's reason), one line."""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - 4096))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _building(make_analyzer: Callable[[], Analyzer], build_log: str) -> Analyzer:
    """`make_analyzer()` with stderr (fd 2, native code's too) going to `build_log`, then
    replayed on the real stderr: if the worker dies building, the parent quotes the log."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        log = os.open(build_log, os.O_WRONLY | os.O_TRUNC)
    except OSError:
        os.close(saved)
        return make_analyzer()
    os.dup2(log, 2)
    os.close(log)
    try:
        return make_analyzer()
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        try:
            with open(build_log, "rb") as handle:
                said = handle.read()
        except OSError:
            said = b""
        if said:
            os.write(2, said)


def _worker_main(conn: Connection, make_analyzer: Callable[[], Analyzer], build_log: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler (fork copies it)
    _die_with_parent()
    try:
        analyzer = _building(make_analyzer, build_log)
    except Exception as exc:  # noqa: BLE001 - re-raised by the parent, as if built there
        conn.send(("init-error", _portable(exc)))
        return
    conn.send(("ready",))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        index, task = message
        try:
            part = analyze_task(analyzer, task)
        except Exception as exc:  # noqa: BLE001 - a bug: the parent re-raises it
            conn.send(("failed", index, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
            continue
        conn.send(("done", index, _pickled(part)))


def _pickled(part: Result) -> Result:
    """The part with its lists as their pickles: the parent writes them into its spools
    as they come."""
    return Result(*(Pickled(getattr(part, item.name)) for item in fields(Result)))
