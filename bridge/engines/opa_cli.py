"""The `opa` binary as the engine: `opa eval --bundle B --stdin-input data.kmspolicy.main.findings`.

The policies and data are written once, as the same bundle `kmspolicy bundle build`
makes, into a private temporary folder; each template is one `opa eval` with its input
on stdin. A failed run, an unreadable answer, an undefined result or a timeout raises
`EngineError`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from . import ENTRYPOINT, EngineError, as_findings


def find_opa(opa_path: str | None = None) -> str | None:
    """The opa executable: `opa_path` if given (and executable), else `opa` on PATH."""
    if opa_path:
        return opa_path if shutil.which(opa_path) else None
    return shutil.which("opa")


class OpaCliEngine:
    name = "opa-cli"

    def __init__(self, modules: dict[str, str], data: dict | None = None, *,
                 opa_path: str | None = None, timeout: float = 30.0, query: str = ENTRYPOINT):
        from ..bundle import build_bundle

        binary = find_opa(opa_path)
        if binary is None:
            where = f"{opa_path} is not an executable" if opa_path else "no opa binary on PATH"
            raise EngineError(f"{where}: install OPA (https://www.openpolicyagent.org/docs/"
                              "#running-opa) or give its path with --opa-path")
        self.binary, self.timeout, self.query = binary, timeout, query
        self.version = (self._run(["version"], None).splitlines() or ["opa"])[0]
        self._folder = tempfile.TemporaryDirectory(prefix="kmspolicy-opa-")
        self.bundle = Path(self._folder.name) / "bundle.tar.gz"
        self.bundle.write_bytes(build_bundle(modules, {}, data=data or {}))

    def evaluate(self, input_doc: dict) -> Any:
        output = self._run(["eval", "--bundle", str(self.bundle), "--stdin-input",
                            "--format", "json", self.query], json.dumps(input_doc))
        try:
            answer = json.loads(output)
        except json.JSONDecodeError:
            raise EngineError(f"opa eval printed something that is not JSON: {output[:200]!r}") from None
        results = answer.get("result") if isinstance(answer, dict) else None
        if not results or not results[0].get("expressions"):
            raise EngineError(f"{self.query} is undefined (opa eval)")
        return results[0]["expressions"][0]["value"]

    def findings(self, input_doc: dict) -> list[dict]:
        return as_findings(self.evaluate(input_doc), f"{self.query} (opa eval)")

    def close(self) -> None:
        self._folder.cleanup()

    def _run(self, args: list[str], stdin: str | None) -> str:
        try:
            done = subprocess.run([self.binary, *args], input=stdin, capture_output=True,
                                  text=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise EngineError(f"opa {args[0]} did not finish within {self.timeout:g} s "
                              "(--opa-timeout)") from None
        except OSError as exc:
            raise EngineError(f"cannot run {self.binary}: {exc.strerror or exc}") from None
        if done.returncode != 0:
            raise EngineError(f"opa {args[0]} failed (exit {done.returncode}): "
                              f"{_opa_message(done.stdout, done.stderr)}")
        return done.stdout


def _opa_message(stdout: str, stderr: str) -> str:
    """OPA's own error text: `{"errors": [{"message": …}]}` on stdout, else stderr."""
    try:
        errors = json.loads(stdout).get("errors") or []
        text = "; ".join(e.get("message", "") for e in errors if isinstance(e, dict))
    except (ValueError, AttributeError):
        text = ""
    return " ".join((text or stderr or stdout).split())[:1000] or "no message"
