"""tests/oracle/exceptions.yaml: disagreements explained, with which side is wrong and why.

Each entry: `template` (a glob on the template path), `key`, `subject`, `action` (globs),
`kmspolicy`, `referee` (the two verdicts), `wrong` (kmspolicy | referee), `reason`, `aws`
(the AWS documentation sentence deciding it) and, where the referee is wrong, `upstream`
(the bug report text for iam-simulate). An entry without reason and aws is rejected.
"""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

import yaml

PATH = Path(__file__).parent / "exceptions.yaml"
REQUIRED = ("template", "key", "subject", "action", "kmspolicy", "referee", "wrong", "reason", "aws")


def load(path: Path = PATH) -> list[dict]:
    entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("exceptions") or []
    for n, entry in enumerate(entries):
        missing = [k for k in REQUIRED if not entry.get(k)]
        if missing:
            raise ValueError(f"{path}: exception {n} lacks {', '.join(missing)}")
        if entry["wrong"] == "referee" and not entry.get("upstream"):
            raise ValueError(f"{path}: exception {n} blames the referee without an upstream report")
    return entries


def explained(entries: list[dict], d: dict) -> bool:
    return any(fnmatch(d["template"], e["template"]) and fnmatch(d["key"], e["key"])
               and fnmatch(d["subject"], e["subject"]) and fnmatch(d["action"], e["action"])
               and e["kmspolicy"] == d["kmspolicy"] and e["referee"] == d["referee"]
               for e in entries)
