"""OPA's own compiler (opa-golib-python-bindings) over a set of modules and data, run in a
child process: the Go runtime's threads stay out of kmspolicy's process (whose workers
fork), and a crash there is an error, not the end of the run.

`python -m kmspolicy.bridge.opa_compile` reads {"modules": {name: source}, "data": {...}}
on stdin and writes {"ok": true}, {"error": OPA's message} or {"missing": true} (the
bindings are not installed) on stdout. With "variants" (a list of {name: source}, each
laid over the modules) it compiles each variant instead and writes {"errors": [OPA's
message or null, ...]}.
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
    return _run({"modules": modules, "data": data}).get("error")


def compile_variants(modules: dict[str, str], data: dict,
                     variants: list[dict[str, str]]) -> list[str | None]:
    """OPA's error report (or None) for each variant: the modules with the variant's
    modules laid over them. One child process compiles them all."""
    if not variants:
        return []
    errors = _run({"modules": modules, "data": data, "variants": variants}).get("errors")
    if not isinstance(errors, list) or len(errors) != len(variants):
        raise CompileFailure("OPA's compiler gave no answer for every variant")
    return errors


def _run(request_document: dict) -> dict:
    request = json.dumps(request_document)
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
    return answer


def _main() -> None:
    request = json.loads(sys.stdin.read())
    try:
        import opa_bindings
    except ImportError:
        print(json.dumps({"missing": True}))
        return
    if "variants" in request:
        print(json.dumps({"errors": [_compile(opa_bindings, {**request["modules"], **variant},
                                              request["data"]) for variant in request["variants"]]}))
        return
    error = _compile(opa_bindings, request["modules"], request["data"])
    print(json.dumps({"ok": True} if error is None else {"error": error}))


def _compile(opa_bindings, modules: dict[str, str], data: dict) -> str | None:
    engine = opa_bindings.OpaEngine()
    try:
        for name, source in modules.items():
            engine.add_policy(name, source)
        engine.add_data(data)
        engine.eval_query("x := true")  # prepares the query: compiles every module
        return None
    except opa_bindings.OpaError as exc:
        return exc.message
    finally:
        engine.close()


if __name__ == "__main__":
    _main()
