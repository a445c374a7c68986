"""Baselines for gradual adoption: record today's findings, then report only new ones.

`kmspolicy baseline create -o FILE PATHS` writes the unsuppressed findings of PATHS;
`kmspolicy eval --baseline FILE PATHS` leaves out every finding the baseline knows and
says how many it hid. Findings are matched by `Finding.fingerprint` (rule, file, resource,
JSON pointer and the flagged line's text), so a baseline survives lines shifting above a
finding; it does not survive moving the file, renaming the resource or editing the
flagged line, and that is intended. Entries are counted: one entry hides one finding, so a
second identical finding is reported. Paths are part of the fingerprint: create and use a
baseline from the same working directory (or `--root`).

The file is JSON, version 1:

    {"version": 1, "tool": "kmspolicy",
     "findings": [{"fingerprint": "…", "rule": "KP001", "file": "t.yaml",
                   "resource": "KmsKey", "line": 23}]}

Only `fingerprint` is matched; the other fields are there for people reviewing the file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from kmspolicy.bridge.findings import Finding, Result
from kmspolicy.bridge.load import TemplateError, load_data
from kmspolicy.bridge.spool import sorted_items

from .reporters.json_stream import Streamed, write_json

VERSION = 1
# A baseline is written by kmspolicy: larger than a template may be (one entry is ~150 bytes).
# In JSON a node takes at least a byte, so the node limit is the size limit.
MAX_BASELINE_BYTES = 64 * 1024 * 1024


class BaselineError(ValueError):
    """An unreadable or malformed baseline file; the message names the file."""


@dataclass(frozen=True)
class BaselineMatch:
    hidden: int  # findings left out because the baseline has them
    stale: int  # baseline entries that matched nothing (fixed, moved or edited since)


def baseline_entries(result: Result) -> Iterator[dict]:
    entries = ({"fingerprint": f.fingerprint, "rule": f.rule, "file": f.file,
                "resource": f.resource, "line": f.line}
               for f in result.active_findings())
    return sorted_items(entries, key=lambda e: (e["file"], e["line"], e["rule"], e["fingerprint"]))


def baseline_document(result: Result, array: Callable[[Iterable], object] = list) -> dict:
    """The baseline file's content; `array` makes its list of entries (a Streamed to write
    them one by one)."""
    return {"version": VERSION, "tool": "kmspolicy", "findings": array(baseline_entries(result))}


def write_baseline(path: str, result: Result) -> int:
    """Write the baseline of `result` to `path` (entry by entry); the number of findings it holds."""
    count = 0

    def counted(entries: Iterator[dict]) -> Iterator[dict]:
        nonlocal count
        for entry in entries:
            count += 1
            yield entry

    try:
        with open(path, "w", encoding="utf-8") as handle:
            write_json(handle, baseline_document(result, array=lambda items: Streamed(counted(items))))
            handle.write("\n")
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write the baseline: {exc.strerror}") from None
    return count


def load_baseline(path: str) -> Counter[str]:
    """The fingerprints in a baseline file, with how many findings each may hide."""
    try:
        document = load_data(path, max_bytes=MAX_BASELINE_BYTES, max_nodes=MAX_BASELINE_BYTES,
                             what="baseline")
    except TemplateError as exc:
        where = f":{exc.line}" if exc.line else ""
        problem = ("the baseline is not valid JSON" if exc.line else "cannot read the baseline")
        raise BaselineError(f"{path}{where}: {problem}: {exc.message}") from None
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise BaselineError(f"{path}: not a kmspolicy baseline (expected a JSON object with "
                            f'"version": {VERSION}; make one with `kmspolicy baseline create`)')
    entries = document.get("findings")
    if not isinstance(entries, list):
        raise BaselineError(f'{path}: "findings" must be a list')
    fingerprints: Counter[str] = Counter()
    for index, entry in enumerate(entries):
        fingerprint = entry.get("fingerprint") if isinstance(entry, dict) else None
        if not isinstance(fingerprint, str) or not fingerprint:
            raise BaselineError(f'{path}: findings[{index}] has no "fingerprint" string')
        fingerprints[fingerprint] += 1
    return fingerprints


def apply_baseline(result: Result, fingerprints: Counter[str]) -> BaselineMatch:
    """Remove from `result` the unsuppressed findings the baseline knows (each entry once)."""
    left = Counter(fingerprints)
    hidden = 0

    def keep(finding: Finding) -> bool:
        nonlocal hidden
        if not finding.suppressed and left[finding.fingerprint] > 0:
            left[finding.fingerprint] -= 1
            hidden += 1
            return False
        return True

    result.keep_findings(keep)
    return BaselineMatch(hidden=hidden, stale=sum(left.values()))
