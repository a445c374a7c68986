"""Fuzz the normalizer: any template mapping gives an input valid against input-v2.

    python fuzz/fuzz_normalize.py --seconds 60 [--work DIR] [libFuzzer options]   (make fuzz)

Structure-aware: atheris's bytes drive the hypothesis strategies of mutations.py (through
`hypothesis.fuzz_one_input`), so every input is an example template with structural
mutations (deleted nodes, swapped types, known, malformed and unknown intrinsics, random
principal/action/resource strings) or a textually mutated example that still loads.
`contracts.check_normalize` says what must hold. Without atheris, hypothesis generates
from the same strategies on its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import runner  # noqa: E402

if runner.have_atheris():
    import atheris

    with atheris.instrument_imports(include=["kmspolicy"]):
        import contracts
else:
    import contracts

import mutations  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _documents_of_texts(case: tuple[str, bytes]):
    loaded = contracts.check_load(case[1], case[0])
    return loaded.document if loaded is not None else None


DOCUMENTS = st.one_of(mutations.mutated_documents().map(lambda c: c[1]),
                      mutations.mutated_texts().map(_documents_of_texts))


def check(document) -> None:
    contracts.check_normalize(document)


@settings(database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(DOCUMENTS)
def normalize_property(document) -> None:
    check(document)


def main() -> None:
    args, extra = runner.parse_args("normalize")
    if runner.have_atheris() and not args.hypothesis:
        # hypothesis draws from the bytes: give it room from the first input on
        runner.run_atheris(normalize_property.hypothesis.fuzz_one_input, args, extra,
                           seeds=False, options=("-max_len=8192", "-len_control=0"))
        return
    runner.run_hypothesis(DOCUMENTS, check, args.seconds)


if __name__ == "__main__":
    main()
