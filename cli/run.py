"""Run the analysis over files and gather one `Result` (no output, no exit code here)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Protocol

from kmspolicy.bridge.cdk import annotate_findings
from kmspolicy.bridge.findings import FileError, FileStatus, Result
from kmspolicy.bridge.pipeline import Analyzer, FileReport

from .discover import NOT_A_TEMPLATE, Discovery, discover
from .go_runtime import worker_environment

Task = tuple[str, str, bool]  # file, display path, given explicitly
DEFAULT_TIMEOUT = 60.0  # seconds per file (`eval --timeout`), however many jobs


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, findings: int) -> None: ...
    def finish(self) -> None: ...


def display_path(file: str, root: str | None = None) -> str:
    """The path as reports show it: relative to `root` (default: the working directory)
    when inside it, with forward slashes. A name that is not UTF-8 (its bytes decoded as
    surrogates, which no report could encode) shows those bytes as \\xNN."""
    return _shown(file, Path(file).resolve(), Path(root or os.getcwd()).resolve())


def display_paths(files: list[str], root: str | None = None) -> list[str]:
    """`display_path` of each file; the root, and each folder, resolved once."""
    base = Path(root or os.getcwd()).resolve()
    if os.sep != "/":
        return [_shown(file, Path(file).resolve(), base) for file in files]
    inside = _with_slash(str(base))  # what a path under the root starts with
    folders: dict[str, tuple[str, str]] = {}
    shown = []
    for file in files:
        folder, name = os.path.split(file)
        if name in ("", ".", "..") or os.path.islink(file):
            shown.append(_shown(file, Path(file).resolve(), base))
            continue
        # resolving a path resolves its folder, then adds a name that is no link
        seen = folders.get(folder)
        if seen is None:
            given = Path(folder).as_posix()
            seen = folders[folder] = (_with_slash(str(Path(folder or ".").resolve())),
                                      "" if given == "." else _with_slash(given))
        resolved = seen[0] + name
        if resolved.startswith(inside):  # Path.relative_to, as text: both are resolved
            shown.append(_encodable(resolved[len(inside):]))
        else:  # Path(file).as_posix()
            shown.append(_encodable(seen[1] + name))
    return shown


def _with_slash(folder: str) -> str:
    return folder if folder.endswith("/") else folder + "/"


def _shown(file: str, resolved: Path, base: Path) -> str:
    try:
        shown = resolved.relative_to(base).as_posix()
    except ValueError:
        shown = Path(file).as_posix()
    return _encodable(shown)


def _encodable(shown: str) -> str:
    try:
        shown.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(shown).decode("utf-8", "backslashreplace")
    return shown


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run(paths: list[str], analyzer: Analyzer | Callable[[], Analyzer], root: str | None = None,
        jobs: int = 1, progress: Progress | None = None, skip_non_templates: bool = False,
        timeout: float | None = None, exclude: tuple[str, ...] = (), allow_empty: bool = False,
        engine: str = "") -> Result:
    """`analyzer` is an Analyzer, or a picklable factory of one so that `jobs` > 1 can build
    one per worker process (cli/parallel.py); a factory runs in workers whenever a time
    limit is in force (the default; see analyze_tasks), an Analyzer in this process.
    `skip_non_templates`: a file given by name that is not a template is skipped as in a
    folder, not an error (pre-commit passes every changed YAML and JSON file).
    `exclude`: globs of files and folders left out (cli/discover.py). Folders searched that
    hold no template are an error unless `allow_empty`.
    The Result is spooled (its lists on disk, memory flat however many files): the caller
    closes it."""
    tasks, found = plan(paths, root, skip_non_templates, exclude)
    result = Result.spooled()
    try:
        for problem in found.problems:
            file, _, message = problem.partition(": ")
            result.errors.append(FileError(file, message))
        for file, reason in found.skipped:
            result.skipped.append(f"{display_path(file, root)}{'/' * file.endswith(os.sep)} ({reason})")
        if progress:
            progress.start(len(tasks))
        parts = analyze_tasks(tasks, analyzer, jobs, timeout, worker_environment(engine, len(tasks)))
        try:
            for part in parts:
                merge(result, part)
                if progress:
                    progress.advance(sum(1 for _ in part.active_findings()))
        finally:  # an interrupted pool stops its workers now, not when collected
            close = getattr(parts, "close", None)
            if close is not None:
                close()
        if progress:
            progress.finish()
        if found.folders and not allow_empty and not any(True for _ in result.files):
            result.errors.append(empty_scan_error(found, root))
    except BaseException:
        if progress:  # interrupted: the bar is erased before anything says why
            progress.finish()
        result.close()
        raise
    return result


def empty_scan_error(found: Discovery, root: str | None) -> FileError:
    folders = ", ".join(display_path(folder, root) for folder in found.folders)
    skipped = len(found.skipped)
    return FileError(folders, f"no CloudFormation or SAM template found ({skipped} "
                              f"file{'s' * (skipped != 1)} or folder{'s' * (skipped != 1)} skipped, "
                              "listed with -v; --allow-empty accepts this)")


def plan(paths: list[str], root: str | None, skip_non_templates: bool,
         exclude: tuple[str, ...] = ()) -> tuple[list[Task], Discovery]:
    """The files to analyze as tasks, and what discovery skipped and could not find."""
    found = discover(paths, exclude, sniff_named=skip_non_templates,
                     relative=lambda file: display_path(file, root))
    shown = display_paths([file for file, _ in found.files], root)
    return [(file, display, explicit and not skip_non_templates)
            for (file, explicit), display in zip(found.files, shown, strict=True)], found


def analyze_tasks(tasks: list[Task], analyzer: Analyzer | Callable[[], Analyzer],
                  jobs: int, timeout: float | None = None,
                  environment: dict[str, str] | None = None) -> Iterator[Result]:
    """One partial Result per task, in task order. A file may take `timeout` seconds (None:
    DEFAULT_TIMEOUT; 0: no limit). The limit needs a worker process, which is stopped when
    its time is up (nothing else can stop native code, nor leave Ctrl-C answered at once),
    so a factory runs in workers whenever a limit is in force, even for one job or one
    file; with no limit, only for several jobs and files. An Analyzer runs in this process,
    with no limit. `environment`: what workers must start with (go_runtime.py)."""
    factory = not isinstance(analyzer, Analyzer)
    limit = DEFAULT_TIMEOUT if timeout is None else timeout or None
    if factory and tasks and (limit or (jobs > 1 and len(tasks) > 1)):
        from .parallel import WorkerPool

        return WorkerPool(analyzer, jobs, timeout=limit, environment=environment or {}).map(tasks)
    if factory:
        analyzer = analyzer()
    threads = min(jobs, len(tasks), getattr(analyzer.engine, "max_concurrency", 1))
    if threads > 1:  # a remote engine: one engine, overlapping requests, results in order
        return _threaded(analyzer, tasks, threads)
    return (analyze_task(analyzer, task) for task in tasks)


def _threaded(analyzer: Analyzer, tasks: list[Task], threads: int) -> Iterator[Result]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        yield from pool.map(lambda task: analyze_task(analyzer, task), tasks)


def analyze_task(analyzer: Analyzer, task: Task) -> Result:
    """What one file adds to the Result (the document and rule input are not kept)."""
    file, display, explicit = task
    part = Result()
    report = analyzer.analyze(file, display)
    if report.findings:
        annotate_findings(report.findings, report.cdk_paths, file, display)
    add_report(part, report, explicit)
    return part


def merge(result: Result, part: Result) -> None:
    for item in fields(Result):
        getattr(result, item.name).extend(getattr(part, item.name))


def add_report(result: Result, report: FileReport, explicit: bool) -> None:
    if report.status == "skipped":
        if explicit:
            result.errors.append(FileError(report.file, f"{NOT_A_TEMPLATE} (no Resources mapping)"))
            result.files.append(FileStatus(report.file, "error"))
        else:
            result.skipped.append(f"{report.file} ({NOT_A_TEMPLATE}: no Resources mapping)")
        return
    key_ids = tuple(sorted((report.input or {}).get("keys") or {}))
    result.files.append(FileStatus(report.file, report.status, report.keys, key_ids,
                                   tuple(report.notes)))
    result.findings.extend(report.findings)
    result.errors.extend(report.errors)
