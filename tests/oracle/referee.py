"""Runs a batch of simulations through iam-simulate (simulate.mjs): one node process a batch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .equivalent import Canonicalizer

HERE = Path(__file__).parent
SCRIPT = HERE / "simulate.mjs"
PACKAGE = HERE / "node_modules" / "@cloud-copilot" / "iam-simulate"


def missing() -> str | None:
    """Why the referee cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not PACKAGE.is_dir():
        return "tests/oracle/node_modules is missing: run `make oracle-deps`"
    return None


class RefereeError(RuntimeError):
    pass


def _run(texts: list[str]) -> list[dict]:
    """Decisions for simulations given as JSON texts, in order: one node process."""
    lines = "".join(f'{{"id": {n}, "simulation": {t}}}\n' for n, t in enumerate(texts))
    proc = subprocess.run(["node", str(SCRIPT)], input=lines, capture_output=True, text=True,
                          cwd=HERE, check=False)
    if proc.returncode != 0:
        raise RefereeError(f"simulate.mjs exited {proc.returncode}: {proc.stderr[-2000:]}")
    out: list[dict | None] = [None] * len(texts)
    for line in proc.stdout.splitlines():
        item = json.loads(line)
        out[item["id"]] = item
    if any(o is None for o in out):
        raise RefereeError("simulate.mjs answered fewer requests than it was given")
    return out  # type: ignore[return-value]


def simulate(simulations: list[dict]) -> list[dict]:
    """Decisions for `simulations`, in order."""
    return _run([json.dumps(s) for s in simulations]) if simulations else []


def simulate_unique(simulations: list[dict], processes: int | None = None) -> list[dict]:
    """Decisions for `simulations`, each distinct one asked once (the harness builds equal
    simulations with equal key order, so their JSON texts are equal; equivalent actions
    are asked as one, equivalent.py), in `processes`
    parallel node processes (default: one per CPU)."""
    canonicalizer = Canonicalizer()
    texts = [json.dumps(canonicalizer.canonical(s)) for s in simulations]
    distinct = list(dict.fromkeys(texts))
    processes = max(1, min(processes or os.cpu_count() or 1, (len(distinct) + 999) // 1000))
    size = (len(distinct) + processes - 1) // processes if distinct else 0
    chunks = [distinct[i:i + size] for i in range(0, len(distinct), size)] if size else []
    with ThreadPoolExecutor(max_workers=max(1, len(chunks))) as pool:
        answers = list(pool.map(_run, chunks))
    by_text = {t: a for chunk, got in zip(chunks, answers, strict=True) for t, a in zip(chunk, got, strict=True)}
    return [by_text[t] for t in texts]
