"""Proof that a change left kmspolicy's outputs alone: snapshot, change, snapshot, compare.

    python tools/identical_outputs.py snapshot OUT [--checkout DIR] [--engine embedded --engine opa]
    python tools/identical_outputs.py compare BEFORE AFTER

`snapshot` runs `kmspolicy eval` (in this process, through click's test runner, `--jobs 1
--timeout 0`) on every template of ../shared/corpus and examples/**/template.*, one file at
a time, and on each of the two folders whole, once per engine, and writes each run's json,
text and sarif output, its exit code and its stderr under OUT/<engine>/. With `--checkout
DIR` the kmspolicy run is the one in DIR (tools/bench.py's `use_checkout`), so an older
commit's outputs can be taken with this same code. `compare` names every file that differs
between two snapshots and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("json", "text", "sarif")


def targets(corpus: Path) -> list[tuple[str, str]]:
    """(snapshot name, path given to eval), paths relative to ROOT as a user would give them."""
    sys.path.insert(0, str(ROOT / "tools"))
    from bench import template_files

    files = [*template_files(corpus), *sorted((ROOT / "examples").glob("**/template.*"))]
    runs = [(os.path.relpath(path, ROOT).replace("/", "__"), os.path.relpath(path, ROOT)) for path in files]
    runs += [(f"folder__{os.path.relpath(folder, ROOT).replace('/', '__')}", os.path.relpath(folder, ROOT))
             for folder in (corpus, ROOT / "examples")]
    return runs


def snapshot(out: Path, engines: list[str], corpus: Path) -> None:
    from click.testing import CliRunner

    from kmspolicy.cli.main import main

    runner = CliRunner()
    os.chdir(ROOT)
    for engine in engines:
        for name, path in targets(corpus):
            folder = out / engine / name
            folder.mkdir(parents=True, exist_ok=True)
            args = ["eval", "--jobs", "1", "--timeout", "0", "--no-color", "--engine", engine,
                    *[f"--format={fmt}={folder / fmt}" for fmt in FORMATS], path]
            result = runner.invoke(main, args)
            (folder / "rc").write_text(f"{result.exit_code}\n")
            (folder / "stderr").write_text(result.stderr)
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                raise SystemExit(f"identical_outputs: {path} ({engine}): {result.exception!r}")
        print(f"{engine}: {len(targets(corpus))} runs in {out / engine}")


def compare(before: Path, after: Path) -> int:
    different, missing = [], []
    for path in sorted(before.rglob("*")):
        if path.is_dir():
            continue
        other = after / path.relative_to(before)
        if not other.exists():
            missing.append(str(path.relative_to(before)))
        elif not filecmp.cmp(path, other, shallow=False):
            different.append(str(path.relative_to(before)))
    extra = [str(p.relative_to(after)) for p in after.rglob("*")
             if p.is_file() and not (before / p.relative_to(after)).exists()]
    for label, names in (("differs", different), ("only in before", missing), ("only in after", extra)):
        for name in names:
            print(f"{label}: {name}")
    compared = sum(1 for p in before.rglob("*") if p.is_file())
    print(f"{compared} files compared: {len(different)} differ, {len(missing)} only before, "
          f"{len(extra)} only after")
    return 1 if different or missing or extra else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("snapshot")
    take.add_argument("out", type=Path)
    take.add_argument("--engine", action="append", choices=("embedded", "opa"))
    take.add_argument("--checkout", type=Path)
    take.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    both = commands.add_parser("compare")
    both.add_argument("before", type=Path)
    both.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "compare":
        return compare(args.before, args.after)
    if args.checkout:
        sys.path.insert(0, str(ROOT / "tools"))
        from bench import use_checkout

        use_checkout(args.checkout.resolve())
    snapshot(args.out.resolve(), args.engine or ["embedded", "opa"], args.corpus.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
