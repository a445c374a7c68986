"""The construct of each finding, and with a creation trace the app's line as its location.

A finding is about the resource its `path` points into (`/Resources/<logical ID>/…`; else
its `resource`). That resource's construct is the one the stack's manifest entries give
for the logical ID, else the resource's own `Metadata."aws:cdk:path"`; `finding.construct`
is its path without CDK's trailing `/Resource`.

When the construct's creation trace names a line of the application's own code and that
file is found beside the assembly (cdk/traces.py), the finding moves there: file, line and
column of the frame, the span up to the end of that line, and the template element it was
reported on becomes its first related location. Otherwise the finding stays on the
template and its message says why, and how to get the app's line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from ..findings import Finding, Related
from ..reading import ReadError, read_file
from .assembly import Construct, StackArtifact, is_assembly_dir, stack_for_template
from .traces import find_source, first_application_frame, frames_cut_short

MAX_SOURCE_BYTES = 5_000_000
HOW_TO_TRACE = "synthesize with `cdk synth --debug` (or CDK_DEBUG=true)"
LONGER_TRACES = "NODE_OPTIONS=--stack-trace-limit=60"


def annotate_findings(findings: Iterable[Finding], cdk_paths: Mapping[str, str], template: str,
                      display: str) -> None:
    """`cdk_paths`: the template's resources' `aws:cdk:path` by logical ID; `template` the
    file analyzed, `display` its path as reports show it."""
    findings = list(findings)
    if not findings:
        return
    located = stack_for_template(template)
    stack, app_dir = located if located is not None else (None, "")
    for finding in findings:
        logical_id = finding_resource(finding)
        construct = _construct(stack, logical_id, cdk_paths.get(logical_id))
        if construct is None:
            continue
        finding.construct = construct.name
        note = _relocate(finding, logical_id, construct, stack, app_dir, template, display)
        if note:
            finding.message = f"{finding.message}\n{note}"


def _construct(stack: StackArtifact | None, logical_id: str, cdk_path: str | None) -> Construct | None:
    """The manifest's construct of a resource; a stack's metadata also lists its nested
    stacks' constructs, whose logical IDs may repeat the parent's (`CDKMetadata`): the
    resource's own `aws:cdk:path`, when it has one, decides which is meant."""
    construct = stack.constructs.get(logical_id) if stack is not None else None
    if construct is not None and (cdk_path is None or construct.path == cdk_path.lstrip("/")):
        return construct
    if cdk_path is None:
        return None
    path = cdk_path.lstrip("/")
    return (stack.by_path.get(path) if stack is not None else None) or Construct(path)


def finding_resource(finding: Finding) -> str:
    parts = finding.path.split("/")
    if len(parts) > 2 and parts[1] == "Resources":
        return parts[2].replace("~1", "/").replace("~0", "~")
    return finding.resource


def _relocate(finding: Finding, logical_id: str, construct: Construct, stack: StackArtifact | None,
              app_dir: str, template: str, display: str) -> str | None:
    """Move the finding to the app's line; or the sentence that says why it stays."""
    name = construct.name
    if stack is None and is_assembly_dir(str(Path(template).resolve().parent)):
        return (f"Reported on the synthesized template: the cloud assembly lists no stack with this "
                f"template (a nested stack's?), so the line of the app that created {name} is not known.")
    if stack is None:
        return (f"Reported on the synthesized template of {name}: {HOW_TO_TRACE} and check the "
                "cloud assembly (cdk.out) to have it reported on the line of the app that created it.")
    if not construct.trace and any(c.trace for c in stack.constructs.values()):
        return (f"Reported on the synthesized template: the cloud assembly records no creation trace "
                f"for {name}, so the line of the app that created it is not known.")
    if not construct.trace:
        return (f"Reported on the synthesized template: {HOW_TO_TRACE} to have it reported on the "
                f"line of the app that created {name}.")
    frame = first_application_frame(construct.trace)
    cut_short = frames_cut_short(construct.trace)
    if frame is None and cut_short is not None:
        return (f"Reported on the synthesized template: the creation trace of {name} ends after "
                f"{cut_short} frames (Node's stack trace limit), none in the application's own code; "
                f"synthesize with {LONGER_TRACES} set as well to have it reported on the line of the "
                "app that created it.")
    if frame is None:
        return (f"Reported on the synthesized template: the creation trace of {name} has no frame "
                "in the application's own code, only CDK library and runtime frames.")
    source = find_source(frame, construct.trace, app_dir)
    if source is None:
        return (f"Reported on the synthesized template: {name} was created at {frame}, a file "
                f"not found in the application's folder {display_beside(app_dir, template, display)}/.")
    end = _line_end(source, frame.line)
    if end is None:
        return (f"Reported on the synthesized template: {name} was created at {frame}, beyond the "
                "end of that file: the cloud assembly is older than the source, synthesize again.")
    finding.related.insert(0, Related(finding.file, finding.line, finding.column, finding.path,
                                      f"synthesized as {logical_id} in {_template_of(stack)}"))
    finding.file = display_beside(source, template, display)
    finding.line = finding.end_line = frame.line
    finding.column = frame.column
    finding.end_column = max(end, frame.column + 1)
    return None


def _template_of(stack: StackArtifact) -> str:
    if stack.parent is not None:
        return f"the template of a nested stack of {stack.parent} ({Path(stack.template).name})"
    return f"the template of stack {stack.name}"


def _line_end(source: str, line: int) -> int | None:
    """The column just after the last non-blank character of `line`; None beyond the end."""
    try:
        text = read_file(source, MAX_SOURCE_BYTES, "source file").decode("utf-8", errors="replace")
    except ReadError:
        return None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not 1 <= line <= len(lines):
        return None
    return len(lines[line - 1].rstrip()) + 1


def display_beside(path: str, template: str, display: str) -> str:
    """`path` shown as the template is: relative to the same root when the template's
    display path is relative and `path` is inside that root, else absolute."""
    shown = PurePosixPath(display.replace("\\", "/"))
    target = Path(path).resolve()
    if shown.is_absolute() or ".." in shown.parts:
        return target.as_posix()
    resolved = Path(template).resolve()
    if len(shown.parts) > len(resolved.parts) - 1:
        return target.as_posix()
    root = resolved.parents[len(shown.parts) - 1]
    try:
        return target.relative_to(root).as_posix()
    except ValueError:
        return target.as_posix()
