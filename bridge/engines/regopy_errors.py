"""regopy's errors in kmspolicy's one-line form: its error sequences name a module and a
byte offset (`(error 9:acme.rego|69|2 (errormsg 16:this is unclosed) ...)`), turned here
into `FILE:LINE: message`."""

from __future__ import annotations

import re

ERROR = re.compile(r"\(error \d+:(?P<file>[^|()]+)\|(?P<offset>\d+)\|\d+\s*\(errormsg \d+:(?P<message>[^()]*)\)")


def located(text: str, modules: dict[str, str]) -> str | None:
    """The first located error of regopy's report as `FILE:LINE: message`, with how many
    more there are; None if the report names no module."""
    errors = [m for m in ERROR.finditer(text) if m["file"] in modules]
    if not errors:
        return None
    first = errors[0]
    source = modules[first["file"]].encode("utf-8")
    line = source[:int(first["offset"])].count(b"\n") + 1
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{first['file']}:{line}: {' '.join(first['message'].split())}{more}"
