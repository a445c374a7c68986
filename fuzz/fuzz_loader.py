"""Fuzz the template loader: any bytes give a template mapping or one located error.

    python fuzz/fuzz_loader.py --seconds 60 [--work DIR] [libFuzzer options]   (make fuzz)

Each input is loaded as YAML and as JSON (`load_bytes`, the loader's whole path after the
file is read: decoding, NUL and BOM checks, parsing, tags, aliases, limits, source map);
`contracts.check_load` says what must hold. Seeds: the examples, tests/data/bad and, when
present, ../shared/corpus. Without atheris, hypothesis generates raw bytes and mutated
example texts instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import runner  # noqa: E402

if runner.have_atheris():
    import atheris

    with atheris.instrument_imports(include=["kmspolicy", "yaml"]):
        import contracts
else:
    import contracts


DICTIONARY = Path(__file__).resolve().parent / "template.dict"


def test_one_input(data: bytes) -> None:
    contracts.check_load(data, "fuzz.yaml")
    contracts.check_load(data, "fuzz.json")


def main() -> None:
    args, extra = runner.parse_args("loader")
    if runner.have_atheris() and not args.hypothesis:
        runner.run_atheris(test_one_input, args, extra, seeds=True,
                           options=(f"-dict={DICTIONARY}", "-max_len=65536"))
        return
    import mutations
    from hypothesis import strategies as st

    strategy = st.one_of(st.binary(max_size=2048), mutations.mutated_texts().map(lambda c: c[1]))
    runner.run_hypothesis(strategy, test_one_input, args.seconds)


if __name__ == "__main__":
    main()
