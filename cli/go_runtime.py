"""The garbage collector setting of `--engine opa`'s Go runtime, for runs of many files.

OPA's evaluator is Go in a c-shared library (bridge/engines/opa_golib.py). Go reads GOGC
once, from the environment its process was started with: setting it in this process, or in
a forked worker, changes nothing. With GOGC=400 (the heap may grow to five times what is
live before a collection, against twice by default) OPA's evaluation takes ~25 % less CPU
for ~20 MB more per worker (docs/performance.md). Workers get it by being started afresh
(from a forkserver started with it), which costs ~0.1 s once: repaid after some hundreds
of templates, so only runs of FROM_FILES files or more ask for it. A GOGC the user set is
theirs and passed on as it is."""

from __future__ import annotations

import os

GOGC = "400"
FROM_FILES = 300


def worker_environment(engine: str, files: int) -> dict[str, str]:
    """What a worker process must be started with, beyond this process's environment."""
    if engine != "opa" or files < FROM_FILES or "GOGC" in os.environ:
        return {}
    return {"GOGC": GOGC}
