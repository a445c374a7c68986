"""Findings per key, per rule, and the pairs of findings that share one decision.

    python tools/finding_stats.py [CORPUS] [--kmspolicy PATH] [--json FILE]

Runs `kmspolicy eval CORPUS --format json` (CORPUS defaults to ../shared/corpus) and prints
Markdown: the totals (templates, keys, findings, findings per key), the findings of each
rule, and the number of pairs of findings that share one decision, with the pairs listed.
`--json FILE` reads a saved `--format json` output instead of running kmspolicy.

**Share one decision**, precisely: every finding is mapped to a *decision*, the triple
(file, resource, subject-question) below; two findings whose decisions are equal share one
decision, and a decision reported by n findings counts n*(n-1)/2 pairs (suppressed
findings included: they are reported too).

- *Account delegation*: KP001, KP015, and a KP007 whose message is about "any IAM role or
  user of this account" all state that the key lets IAM policies of its own account decide
  who uses and manages it: decision ("delegation",) per key, whatever the statement.
- *Unresolved principal*: KP016 decides that one unresolved value (the text after
  "Principal " up to " cannot be resolved") may be anyone: decision ("unresolved", value).
- *Every other finding*: the rule decides one thing about one subject of the key: decision
  (rule, subject), the subject being the message's leading principal or identity label
  (the text before the first of " can ", " administers ", " uses ", " is meant to use ",
  " belongs to ", " is an IAM user", "'s IAM policy"), or the finding's `path` when the
  message starts with none of them. Two findings of one rule on the same subject of the
  same key are one decision reported twice, except KP003, whose decision is one way an
  administrator can give itself use (kms:CreateGrant, kms:PutKeyPolicy: each its own fix,
  on its own line): (KP003, subject, action).
- *Use by someone unintended* (KP007 on a principal, KP012) is one question: a KP012 and a
  KP007 on the same subject of the same key share a decision ("use", subject).
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
SUBJECT_END = re.compile(r" can | administers | uses | is meant to use | belongs to | is an IAM user|'s IAM policy")
DELEGATION_KP007 = "Any IAM role or user of this account"


def decision(f: dict) -> tuple:
    rule, message = f["rule"], f["message"]
    if rule in {"KP001", "KP015"} or (rule == "KP007" and message.startswith(DELEGATION_KP007)):
        question: tuple = ("delegation",)
    elif rule == "KP016":
        m = re.match(r"Principal (.*?) cannot be resolved", message)
        question = ("unresolved", m.group(1) if m else f["path"])
    else:
        m = SUBJECT_END.search(message)
        subject = message[: m.start()] if m else f["path"]
        question = ("use" if rule in {"KP007", "KP012"} else rule, subject)
        if rule == "KP003":
            way = re.search(r"is allowed (kms:\w+) through", message)
            question += (way.group(1) if way else f["path"],)
    return (f["file"], f["resource"], question)


def run(corpus: Path, kmspolicy: str) -> dict:
    proc = subprocess.run(
        [kmspolicy, "eval", str(corpus), "--format", "json", "--jobs", "1"],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode not in (0, 1, 2) or not proc.stdout:
        sys.exit(f"finding_stats: kmspolicy failed ({proc.returncode}): {proc.stderr.strip()[:300]}")
    return json.loads(proc.stdout)


def report(doc: dict) -> str:
    findings = doc["findings"]
    keys = sum(f.get("keys", 0) for f in doc["files"])
    analyzed = sum(1 for f in doc["files"] if f["status"] == "analyzed")
    per_rule = collections.Counter(f["rule"] for f in findings)
    by_decision: dict[tuple, list[dict]] = collections.defaultdict(list)
    for f in findings:
        by_decision[decision(f)].append(f)
    shared = {d: fs for d, fs in by_decision.items() if len(fs) > 1}
    pairs = sum(len(fs) * (len(fs) - 1) // 2 for fs in shared.values())
    lines = [
        f"templates {len(doc['files'])} (analyzed {analyzed}), keys {keys}, findings {len(findings)}, "
        f"findings per key {len(findings) / keys:.2f}" if keys else "no keys",
        "",
        "| rule | findings |",
        "|---|---|",
        *[f"| {rule} | {n} |" for rule, n in sorted(per_rule.items())],
        "",
        f"pairs of findings sharing one decision: {pairs}",
    ]
    for (file, resource, question), fs in sorted(shared.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        rules = ", ".join(f"{f['rule']}:{f['line']}" for f in fs)
        lines.append(f"- {Path(file).name} {resource} {question}: {rules}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--kmspolicy", default=str(ROOT / ".venv" / "bin" / "kmspolicy"))
    parser.add_argument("--json", type=Path, help="a saved `kmspolicy eval --format json` output")
    args = parser.parse_args()
    doc = json.loads(args.json.read_text()) if args.json else run(args.corpus, args.kmspolicy)
    print(report(doc))


if __name__ == "__main__":
    main()
