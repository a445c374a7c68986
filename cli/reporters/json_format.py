"""`--format json`: `Result.to_json()` as indented JSON, nothing added or removed.

The document is a public contract: its schema is `kmspolicy.bridge.schema/output-v1.json`
and it is described field by field in `docs/output-json.md`.
"""

from __future__ import annotations

import json

from kmspolicy.bridge.findings import Result

from .base import ReportContext


class JsonReporter:
    name = "json"

    def render(self, result: Result, context: ReportContext) -> str:
        return json.dumps(result.to_json(context.tool_version), indent=2) + "\n"


REPORTER = JsonReporter()
