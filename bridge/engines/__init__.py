"""Rego engines: each takes policy modules and data once, then evaluates one input at a time.

Every engine answers `findings(input) -> list[dict]` for the query
`data.kmspolicy.main.findings`, and raises `EngineError` rather than returning an empty
(clean-looking) result when evaluation fails.
"""

from __future__ import annotations

ENTRYPOINT = "data.kmspolicy.main.findings"


class EngineError(RuntimeError):
    """Evaluation failed; the affected files are errors, never clean."""


def as_findings(value, where: str) -> list[dict]:
    """An engine's answer to the entrypoint, which must be a set (JSON array) of findings."""
    if not isinstance(value, list):
        raise EngineError(f"{where} is not a set of findings")
    return value
