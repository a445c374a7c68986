"""Creation traces: the frame in the application's own code, and the file it names.

A trace is what CDK recorded when the construct was created (`cdk synth --debug`), one
string a frame, innermost first: `new Key (/app/node_modules/aws-cdk-lib/aws-kms/lib/key.js:1:9)`,
`new DataStack (/app/lib/data-stack.ts:12:21)`, `/app/bin/app.ts:8:1`, and for Python and
other jsii languages the host's frames after the JavaScript ones (`__init__ (/app/stacks/data.py:14)`).
Newer CDK versions shorten library runs to `...new Key2 in aws-cdk-lib...` (so the
synthesis folder no longer shows), and write `(no user code in 10 frames, use
--stack-trace-limit to capture more)` when Node's stack trace limit (10 frames by default)
ended the trace inside the library, as it does for the `DefaultPolicy` a grant creates.

The application's code is any frame whose file is an absolute path (or a `file:` URL)
outside `node_modules`, `site-packages`/`dist-packages` and the CDK library itself; the
first such frame is the line that created the construct. Its file is looked for beside the
assembly, since an assembly is often synthesized on another machine: the part of the path
after the synthesis folder (what comes before `/node_modules/` in the library's frames),
the path itself, then the longest trailing part of it (two components at least) that exists
in the application's folder; a file outside that folder is never taken.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import unquote

_LOCATION = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::(?P<column>\d+))?$")
_LIBRARY_PARTS = {"node_modules", "site-packages", "dist-packages", "aws-cdk-lib", "@aws-cdk"}
_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:[\\/]")
# What CDK writes when Node's stack trace limit stopped the trace before the app's code.
_CUT_SHORT = re.compile(r"^\(no user code in (?P<frames>\d+) frames\b")


@dataclass(frozen=True)
class Frame:
    file: str  # as recorded (forward slashes)
    line: int
    column: int  # 1 when the frame has none

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def parse_frame(text: str) -> Frame | None:
    """`fn (file:line:col)`, `file:line:col` or `fn (file:line)`; None for anything else
    (`...aws-cdk-lib...`, `(no user code in 10 frames …)`, `native`)."""
    text = text.strip()
    if text.endswith(")") and " (" in text:
        text = text[text.rindex(" (") + 2:-1]
    match = _LOCATION.match(text)
    if not match:
        return None
    file = match["file"]
    if file.startswith("file://"):
        file = unquote(file[len("file://"):])
    file = file.replace("\\", "/")
    return Frame(file, int(match["line"]), max(1, int(match["column"] or 1)))


def _parts(file: str) -> list[str]:
    return [part for part in file.split("/") if part]


def is_application_frame(frame: Frame) -> bool:
    absolute = frame.file.startswith("/") or _WINDOWS_ABSOLUTE.match(frame.file)
    return bool(absolute) and not _LIBRARY_PARTS.intersection(_parts(frame.file))


def first_application_frame(trace: tuple[str, ...]) -> Frame | None:
    for text in trace:
        frame = parse_frame(text)
        if frame is not None and is_application_frame(frame):
            return frame
    return None


def frames_cut_short(trace: tuple[str, ...]) -> int | None:
    """How many frames CDK kept when it says the trace ends before any of the app's code."""
    for text in trace:
        match = _CUT_SHORT.match(text.strip())
        if match:
            return int(match["frames"])
    return None


def synthesis_roots(trace: tuple[str, ...]) -> list[str]:
    """The folders the app was synthesized in, as its library frames show them."""
    roots = []
    for text in trace:
        frame = parse_frame(text)
        if frame is not None and "/node_modules/" in frame.file:
            root = frame.file[:frame.file.index("/node_modules/")]
            if root not in roots:
                roots.append(root)
    return roots


def find_source(frame: Frame, trace: tuple[str, ...], app_dir: str) -> str | None:
    """The file of `frame` on this machine (absolute path), or None. Only a file inside the
    application's folder counts: a manifest is input, and must not make a report quote
    any file of the machine that runs the check."""
    inside = _Inside(app_dir)
    for root in synthesis_roots(trace):
        if frame.file.startswith(root + "/"):
            candidate = os.path.join(app_dir, *_parts(frame.file[len(root):]))
            if inside(candidate):
                return candidate
    if os.path.isabs(frame.file) and inside(frame.file):
        return frame.file
    parts = _parts(frame.file)
    if parts and _WINDOWS_ABSOLUTE.match(frame.file):
        parts = parts[1:]  # the drive
    for start in range(len(parts) - 1):  # the longest first, two components at least
        candidate = os.path.join(app_dir, *parts[start:])
        if inside(candidate):
            return candidate
    return None


class _Inside:
    """Is a path an existing regular file inside `folder`, symbolic links resolved?"""

    def __init__(self, folder: str) -> None:
        self.folder = os.path.realpath(folder)

    def __call__(self, path: str) -> bool:
        real = os.path.realpath(path)
        return os.path.isfile(real) and os.path.commonpath([real, self.folder]) == self.folder
