"""Run the analysis over files and gather one `Result` (no output, no exit code here)."""

from __future__ import annotations

import os
from pathlib import Path

from kmspolicy.bridge.findings import FileError, FileStatus, Result
from kmspolicy.bridge.pipeline import Analyzer, FileReport

from .discover import discover


def display_path(file: str, root: str | None = None) -> str:
    """The path as reports show it: relative to `root` (default: the working directory)
    when inside it, with forward slashes."""
    base = Path(root or os.getcwd()).resolve()
    try:
        return Path(file).resolve().relative_to(base).as_posix()
    except ValueError:
        return Path(file).as_posix()


def run(paths: list[str], analyzer: Analyzer, root: str | None = None) -> Result:
    files, problems = discover(paths)
    result = Result()
    for problem in problems:
        file, _, message = problem.partition(": ")
        result.errors.append(FileError(file, message))
    for file, explicit in files:
        report = analyzer.analyze(file, display_path(file, root))
        add_report(result, report, explicit)
    return result


def add_report(result: Result, report: FileReport, explicit: bool) -> None:
    if report.status == "skipped":
        if explicit:
            result.errors.append(FileError(report.file, "not a CloudFormation or SAM template "
                                                        "(no Resources mapping)"))
            result.files.append(FileStatus(report.file, "error"))
        else:
            result.skipped.append(report.file)
        return
    result.files.append(FileStatus(report.file, report.status, report.keys))
    result.findings.extend(report.findings)
    result.errors.extend(report.errors)
