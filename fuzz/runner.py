"""Run a harness for a bounded time: with atheris (coverage-guided libFuzzer) when it is
installed, else with hypothesis generating from the same strategies.

`python fuzz/fuzz_X.py ARTIFACT...` replays saved inputs instead of fuzzing.
Everything the fuzzer writes (its growing corpus, crash and timeout artifacts) goes under
`--work` (default: $TMPDIR/kmspolicy-fuzz/<harness>), never into the repository; the
example templates and tests/data/bad are read as seeds, never written.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
SEED_DIRS = (ROOT / "examples", ROOT / "tests" / "data" / "bad", ROOT.parent / "shared" / "corpus")
PER_INPUT_TIMEOUT = 10  # seconds: libFuzzer reports a slower input as a hang


def have_atheris() -> bool:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


def parse_args(harness: str) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=f"Fuzz {harness} for a bounded time.")
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", 60)))
    parser.add_argument("--work", type=Path,
                        default=Path(tempfile.gettempdir()) / "kmspolicy-fuzz" / harness)
    parser.add_argument("--hypothesis", action="store_true",
                        help="Use the hypothesis fallback even when atheris is installed.")
    return parser.parse_known_args()


def run_atheris(test_one_input: Callable[[bytes], None], args: argparse.Namespace,
                extra: list[str], seeds: bool, options: tuple[str, ...] = ()) -> None:
    """`seeds`: start from the template folders; `options`: the harness's libFuzzer flags."""
    import atheris

    if extra and all(Path(a).is_file() for a in extra):  # replay crash or timeout artifacts
        atheris.Setup([sys.argv[0], *options, *extra], test_one_input)
        atheris.Fuzz()
        return
    corpus = args.work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    argv = [sys.argv[0], f"-max_total_time={args.seconds}", f"-timeout={PER_INPUT_TIMEOUT}",
            f"-artifact_prefix={args.work}/", "-print_final_stats=1", *options, *extra,
            str(corpus)]
    if seeds:  # libFuzzer writes new inputs to the first folder only: the work corpus
        argv += [str(d) for d in SEED_DIRS if d.is_dir()]
    print(f"fuzz: atheris for {args.seconds}s, work folder {args.work}", flush=True)
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


def run_hypothesis(strategy: st.SearchStrategy, check: Callable, seconds: int) -> int:
    """Generate and check inputs until `seconds` have passed; returns how many were run.
    A failing input is shrunk and re-raised by hypothesis (the process exits non-zero)."""
    count = 0

    @settings(max_examples=200, database=None, deadline=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one(case):
        nonlocal count
        count += 1
        check(case)

    print(f"fuzz: hypothesis fallback for {seconds}s (atheris not used)", flush=True)
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        one()
    print(f"fuzz: {count} inputs executed, no failure", flush=True)
    return count
