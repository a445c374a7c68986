"""`make oracle`: referee generated templates, the examples and a corpus; print the figures.

    python -m tests.oracle.run --generated N [--examples] [--corpus DIR] [--json OUT] [--cells OUT]

Prints `N scenarios, D disagreements` (a scenario: one deployable variant of a template,
variants.py), a per-category breakdown, the subjects
not refereed (and why), and the first disagreements of each category with their scenario
and kmspolicy's explain chain. Exit 1 on a disagreement not in exceptions.yaml.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

from . import exceptions, referee
from .session import Report, run

ROOT = Path(__file__).resolve().parents[2]
BATCH = 50  # templates refereed together (one pair of node batches): ~1 GB of requests


def example_templates() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("examples/**/template.*")
                  if p.suffix in (".yaml", ".yml", ".json"))


def corpus_templates(corpus: str) -> list[str]:
    return sorted(str(p) for p in Path(corpus).iterdir()
                  if p.suffix in (".yaml", ".yml", ".json", ".template"))


def generated_templates(n: int, directory: Path, seed: int = 12) -> list[str]:
    from .generate import write_templates
    return write_templates(n, directory, seed)


def summary(label: str, report: Report, entries: list[dict]) -> tuple[str, int]:
    unexplained = [d for d in report.disagreements if not exceptions.explained(entries, d)]
    lines = [f"{label}: {report.templates} scenarios ({report.sources} templates), {report.requests} requests, "
             f"{len(report.disagreements)} disagreements ({len(unexplained)} unexplained); "
             f"cells: " + ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items()))]
    for category, count in report.categories.most_common():
        lines.append(f"  {count:6d}  {category}")
    for reason, count in report.not_refereed.most_common(8):
        lines.append(f"  not refereed {count:5d}  {reason}")
    for failure in report.failures[:8]:
        lines.append(f"  unreadable: {failure}")
    return "\n".join(lines), len(unexplained)


def details(report: Report, per_category: int = 2) -> str:
    shown: Counter = Counter()
    out = []
    for d in report.disagreements:
        if shown[d["category"]] >= per_category:
            continue
        shown[d["category"]] += 1
        out.append(f"--- {d['category']}\n  {d['template']}{' [' + d['variant'] + ']' if d.get('variant') else ''} "
                   f"key {d['key']} subject {d['subject']} "
                   f"action {d['action']} (parameters {d['parameters']})\n"
                   f"  kmspolicy: {d['kmspolicy']}   referee: {d['referee']}\n"
                   + "".join(f"  request: {s['principal']} [{s['caller']}] context {s['context']} -> {s['decision']}\n"
                             for s in d["scenario"])
                   + (f"  kmspolicy explain: {d['explain']}\n" if d.get("explain") else ""))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=0)
    parser.add_argument("--seed", type=int, default=12, help="the generator's seed (12: the gating stream)")
    parser.add_argument("--examples", action="store_true")
    parser.add_argument("--corpus")
    parser.add_argument("--json", help="write every disagreement here")
    parser.add_argument("--cells", help="write every cell's outcome here (to compare two runs)")
    parser.add_argument("--details", type=int, default=1, help="examples shown per category")
    args = parser.parse_args(argv)
    why = referee.missing()
    if why:
        print(f"oracle: {why}", file=sys.stderr)
        return 2
    entries = exceptions.load()
    total, unexplained, blocks = Report(), 0, []
    with tempfile.TemporaryDirectory(prefix="kmspolicy-oracle-") as tmp:
        groups = []
        if args.generated:
            groups.append(("generated", generated_templates(args.generated, Path(tmp), args.seed)))
        if args.examples:
            groups.append(("examples", example_templates()))
        if args.corpus:
            groups.append(("corpus", corpus_templates(args.corpus)))
        for label, paths in groups:
            report = Report()
            for start in range(0, len(paths), BATCH):  # memory stays that of one batch
                report.merge(run([(p, None) for p in paths[start:start + BATCH]],
                                 explain_limit=max(0, 3 - len(report.disagreements)),
                                 keep_cells=bool(args.cells)))
            text, bad = summary(label, report, entries)
            blocks.append((text, details(report, args.details)))
            total.merge(report)
            unexplained += bad
    for text, detail in blocks:
        print(detail)
        print(text)
    print(f"{total.templates} scenarios, {len(total.disagreements)} disagreements "
          f"({total.sources} templates, {total.requests} requests, {unexplained} unexplained)")
    if args.json:
        Path(args.json).write_text(json.dumps(total.disagreements, indent=1), encoding="utf-8")
    if args.cells:
        Path(args.cells).write_text(json.dumps(total.cells or [], indent=0), encoding="utf-8")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
