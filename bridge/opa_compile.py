"""OPA's own compiler (opa-golib-python-bindings) over a set of modules and data, run in a
child process: the Go runtime's threads stay out of kmspolicy's process (whose workers
fork), and a crash there is an error, not the end of the run.

`python -m kmspolicy.bridge.opa_compile` reads {"modules": {name: source}, "data": {...}}
on stdin and writes {"ok": true}, {"error": OPA's message} or {"missing": true} (the
bindings are not installed) on stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys

TIMEOUT_SECONDS = 120


class CompileFailure(Exception):
    """OPA's compiler could not be run (not its verdict on the policies)."""


def compile_modules(modules: dict[str, str], data: dict) -> str | None:
    """OPA's error report for the modules and data, None if they compile; CompileFailure
    if the bindings are missing or the child failed."""
    request = json.dumps({"modules": modules, "data": data})
    try:
        child = subprocess.run([sys.executable, "-m", "kmspolicy.bridge.opa_compile"],
                               input=request, capture_output=True, text=True,
                               timeout=TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CompileFailure(f"OPA's compiler could not be run: {exc}") from None
    try:
        answer = json.loads(child.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise CompileFailure(f"OPA's compiler failed (exit {child.returncode}): "
                             f"{' '.join(child.stderr.split())[-200:]}") from None
    if answer.get("missing"):
        raise CompileFailure("opa-golib-python-bindings is not installed")
    return answer.get("error")


def _main() -> None:
    request = json.loads(sys.stdin.read())
    try:
        import opa_bindings
    except ImportError:
        print(json.dumps({"missing": True}))
        return
    engine = opa_bindings.OpaEngine()
    try:
        for name, source in request["modules"].items():
            engine.add_policy(name, source)
        engine.add_data(request["data"])
        engine.eval_query("x := true")  # prepares the query: compiles every module
        print(json.dumps({"ok": True}))
    except opa_bindings.OpaError as exc:
        print(json.dumps({"error": exc.message}))
    finally:
        engine.close()


if __name__ == "__main__":
    _main()
