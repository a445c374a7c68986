"""`--format json`: `Result.to_json()` as indented JSON, nothing added or removed.

The document is a public contract: its schema is `kmspolicy.bridge.schema/output-v1.json`
and it is described field by field in `docs/output-json.md`. Its arrays are written item
by item, byte for byte as `json.dumps(result.to_json(version), indent=2)` would.
"""

from __future__ import annotations

from typing import TextIO

from kmspolicy.bridge.findings import Result

from .base import ReportContext, StreamingReporter
from .json_stream import Streamed, write_json
from .safe import json_line, safe_lines


class JsonReporter(StreamingReporter):
    name = "json"

    def write(self, result: Result, context: ReportContext, stream: TextIO) -> None:
        with safe_lines(stream, json_line) as safe:  # no line can start a CI workflow command
            write_json(safe, result.to_json(context.tool_version, array=Streamed))
            safe.write("\n")


REPORTER = JsonReporter()
