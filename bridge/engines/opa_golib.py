"""OPA's own evaluator in this process: `opa-golib-python-bindings` (OPA 1.20's Go engine
behind ctypes), the `--engine opa` option.

The policies and data are added once and the entrypoint is prepared (compiled) at
construction, so a pack that OPA refuses fails here, before any template; each template
is then one evaluation of the prepared query. Loading the library starts the Go runtime
and its threads: a process must not fork after that (cli/parallel.py picks forkserver or
spawn then), and the CLI builds this engine in its worker processes only.

The package's metadata asks for Python >= 3.14; it runs on 3.11 and installs with
`pip install --ignore-requires-python opa-golib-python-bindings==0.4.4` (the `opa` extra).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from . import ENTRYPOINT, EngineError, as_findings

MODULE = "opa_bindings"
PACKAGE = "opa-golib-python-bindings==0.4.4"
INSTALL = f"pip install --ignore-requires-python '{PACKAGE}'"


def require_bindings() -> None:
    """Raise a one-line EngineError when the bindings are not installed (without loading
    them: the Go runtime must not start in a process that forks workers later)."""
    if importlib.util.find_spec(MODULE) is None:
        raise EngineError(f"--engine opa needs OPA's evaluator, which is not installed: {INSTALL} "
                          "(the kmspolicy[opa] extra; see the README, Install)")


class OpaGolibEngine:
    name = "opa"

    def __init__(self, modules: dict[str, str], data: dict[str, Any] | None = None,
                 query: str = ENTRYPOINT):
        require_bindings()
        opa_bindings = importlib.import_module(MODULE)

        self._errors = opa_bindings.OpaError
        self._undefined = opa_bindings.OpaUndefinedError
        self.query = query
        self._path = query.removeprefix("data.")
        self._engine = opa_bindings.OpaEngine()
        try:
            for name, source in modules.items():
                self._engine.add_policy(name, source)
            self._engine.add_data(data or {})
            self._engine.eval_document(self._path, {})  # prepares the query: compiles every module
        except self._undefined:
            pass
        except self._errors as exc:
            if exc.code in ("parse_error", "prepare_error", "compile_error", "merge_conflict"):
                message = exc.message.removeprefix("bundle activation failed: ")  # the bindings' wording
                raise EngineError(f"the policies do not compile on OPA: {_one_line(message)}") from None
            # an evaluation error on the empty input is the pack's business at evaluation time

    def evaluate(self, input_doc: dict) -> Any:
        try:
            return self._engine.eval_document(self._path, input_doc)
        except self._undefined:
            raise EngineError(f"{self.query} is undefined (OPA)") from None
        except self._errors as exc:
            raise EngineError(f"evaluation failed on OPA: {_one_line(exc.message)}") from None

    def findings(self, input_doc: dict) -> list[dict]:
        return as_findings(self.evaluate(input_doc), f"{self.query} (OPA)")

    def close(self) -> None:
        self._engine.close()


def _one_line(value: Any) -> str:
    return " ".join(str(value).split())[:500]
