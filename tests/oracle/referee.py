"""Runs a batch of simulations through iam-simulate (simulate.mjs): one node process a batch."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

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


def simulate(simulations: list[dict]) -> list[dict]:
    """Decisions for `simulations`, in order."""
    if not simulations:
        return []
    lines = "".join(json.dumps({"id": n, "simulation": s}) + "\n" for n, s in enumerate(simulations))
    proc = subprocess.run(["node", str(SCRIPT)], input=lines, capture_output=True, text=True,
                          cwd=HERE, check=False)
    if proc.returncode != 0:
        raise RefereeError(f"simulate.mjs exited {proc.returncode}: {proc.stderr[-2000:]}")
    out: list[dict | None] = [None] * len(simulations)
    for line in proc.stdout.splitlines():
        item = json.loads(line)
        out[item["id"]] = item
    if any(o is None for o in out):
        raise RefereeError("simulate.mjs answered fewer requests than it was given")
    return out  # type: ignore[return-value]
