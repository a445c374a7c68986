"""Write docs/rules/ from the rules' METADATA (`make docs`); `--check` fails when stale."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kmspolicy.cli.rules_cmd import catalog, index_markdown, rule_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"


def generate() -> dict[str, str]:
    rules = catalog()
    files = {f"{rule.id}.md": rule_markdown(rule) for rule in rules}
    files["README.md"] = index_markdown(rules)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gen_docs", description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    files = generate()
    stale = sorted(name for name, text in files.items()
                   if not (DOCS / name).is_file() or (DOCS / name).read_text(encoding="utf-8") != text)
    extra = sorted(p.name for p in DOCS.glob("*.md") if p.name not in files) if DOCS.is_dir() else []
    if args.check:
        if stale or extra:
            print(f"gen_docs: stale: {', '.join(stale + extra)} -- run `make docs`", file=sys.stderr)
            return 1
        print("gen_docs: docs/rules is up to date")
        return 0
    DOCS.mkdir(parents=True, exist_ok=True)
    for name in extra:
        (DOCS / name).unlink()
    for name in stale:
        (DOCS / name).write_text(files[name], encoding="utf-8")
    print(f"gen_docs: {len(stale)} file(s) written, {len(extra)} removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
