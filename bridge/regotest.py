"""Run Rego unit tests (`test_*` rules in `*_test.rego`) on an engine, like `opa test`."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from .engines import EngineError
from .rules import package_of

TEST_RULE = re.compile(r"^(test_[A-Za-z0-9_]+)\s*(?:if\b|\{|:=)", re.MULTILINE)


@dataclass
class RegoTest:
    package: str
    name: str
    file: str

    @property
    def ref(self) -> str:
        return f"data.{self.package}.{self.name}"


@dataclass
class RegoTestResult:
    test: RegoTest
    passed: bool
    error: str | None
    seconds: float


def discover_tests(modules: dict[str, str]) -> list[RegoTest]:
    tests = []
    for file, source in sorted(modules.items()):
        if not file.endswith("_test.rego"):
            continue
        package = package_of(source)
        if not package:
            continue
        seen = set()
        for name in TEST_RULE.findall(source):
            if name not in seen:
                seen.add(name)
                tests.append(RegoTest(package, name, file))
    return tests


def run_tests(modules: dict[str, str], data: dict | None = None,
              tests: list[RegoTest] | None = None) -> list[RegoTestResult]:
    """Every test compiled once with all modules; a test passes when its rule is true."""
    import json

    import regopy

    tests = discover_tests(modules) if tests is None else tests
    interpreter = regopy.Interpreter()
    try:
        for name, source in modules.items():
            interpreter.add_module(name, source)
        if data:
            interpreter.add_data_json(json.dumps(data))
    except regopy.RegoError as exc:
        raise EngineError(f"the policies do not compile: {' '.join(str(exc).split())[:500]}") from None
    results = []
    for test in tests:
        start = time.perf_counter()
        try:
            output = interpreter.query(test.ref)
            ok = output.ok()
            value = output.results[0].expressions[0] if ok and output.results and \
                output.results[0].expressions else None
            error = None if ok else " ".join(str(output).split())[:500]
        except regopy.RegoError as exc:
            value, error = None, " ".join(str(exc).split())[:500]
        results.append(RegoTestResult(test, value is True, error, time.perf_counter() - start))
    return results
