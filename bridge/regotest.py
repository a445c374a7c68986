"""Run the Rego unit tests on the embedded engine, like `opa test`.

A `*_test.rego` package `kmspolicy.rules.<name>_test` holds `cases`: each an `input` and
the complete set of `findings` that `data.kmspolicy.rules.<name>.findings` must return
for it, plus a `test_cases` rule that checks them all with `with input as` for
`opa test`. regopy 1.5 crashes compiling `with input as` around rules that call
functions, so on the embedded engine the `test_*` rules are left out and each case is
evaluated by setting its input directly: the same assertions, one result per case.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

from .engines import EngineError
from .rules import package_of

TEST_RULE_START = re.compile(r"^test_[A-Za-z0-9_]*\b")


@dataclass
class CaseResult:
    package: str
    name: str
    file: str
    passed: bool
    message: str
    seconds: float

    @property
    def id(self) -> str:
        return f"{self.package}.{self.name}"


def strip_test_rules(source: str) -> str:
    """The module without its `test_*` rules (each from its head line to its closing `}`)."""
    out: list[str] = []
    skipping = False
    for line in source.splitlines():
        if not skipping and TEST_RULE_START.match(line):
            skipping = line.rstrip().endswith("{")
            continue
        if skipping:
            if line.rstrip() == "}":
                skipping = False
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def _canonical(findings) -> list[str]:
    return sorted(json.dumps(f, sort_keys=True) for f in findings or [])


def run_cases(modules: dict[str, str], data: dict | None = None) -> list[CaseResult]:
    """Every case of every `*_test.rego` package. A case may carry `data`: the organization
    config (data.kmspolicy.config) it is evaluated with."""
    test_modules = {}
    test_files = {}
    for name, source in modules.items():
        if name.endswith("_test.rego"):
            source = strip_test_rules(source)
            package = package_of(source)
            if package:
                test_files[package] = name
        test_modules[name] = source
    interpreters: dict[str, object] = {}

    def interpreter_for(config: dict | None):
        key = json.dumps(config, sort_keys=True)
        if key not in interpreters:
            case_data = dict(data or {})
            if config is not None:
                case_data["kmspolicy"] = {**case_data.get("kmspolicy", {}), "config": config}
            interpreters[key] = _interpreter(test_modules, case_data)
        return interpreters[key]

    bundles: dict[tuple[str, str], object] = {}

    def evaluate(config: dict | None, query: str, input_doc: dict | None = None):
        """Compile each (config, query) once: regopy's plain query() recompiles every time."""
        interpreter = interpreter_for(config)
        key = (json.dumps(config, sort_keys=True), query)
        if key not in bundles:
            bundles[key] = interpreter.build(query)
        interpreter.set_input_term(json.dumps(input_doc if input_doc is not None else {}))
        return _value(interpreter, bundles[key])

    results: list[CaseResult] = []
    for package, file in sorted(test_files.items()):
        cases = evaluate(None, f"data.{package}.cases")
        if not isinstance(cases, dict):
            continue
        target = f"data.{package.removesuffix('_test')}.findings"
        for name, case in sorted(cases.items()):
            start = time.perf_counter()
            try:
                whole = "target" in case  # a ref under data (e.g. a lib rule), compared whole
                got = evaluate(case.get("data"), f"data.{case['target']}" if whole else target, case["input"])
                want = case["findings"]
                if whole:
                    got, want = (None if got is None else [got]), [want]
                passed = got is not None and _canonical(got) == _canonical(want)
                message = "" if passed else _difference(got, want)
            except (EngineError, KeyError, TypeError) as exc:
                passed, message = False, " ".join(str(exc).split())[:500]
            results.append(CaseResult(package, name, file, passed, message, time.perf_counter() - start))
    return results


def _interpreter(modules: dict[str, str], data: dict):
    import regopy

    interpreter = regopy.Interpreter()
    try:
        for name, source in modules.items():
            interpreter.add_module(name, source)
        if data:
            interpreter.add_data_json(json.dumps(data))
    except regopy.RegoError as exc:
        raise EngineError(f"the policies do not compile: {' '.join(str(exc).split())[:500]}") from None
    return interpreter


def _value(interpreter, bundle):
    import regopy

    try:
        output = interpreter.query_bundle(bundle)
    except regopy.RegoError as exc:
        raise EngineError(" ".join(str(exc).split())[:500]) from None
    if not output.ok():
        raise EngineError(" ".join(str(output).split())[:500])
    if not output.results or not output.results[0].expressions:
        return None
    return output.results[0].expressions[0]


def _difference(got, want) -> str:
    if got is None:
        return "findings are undefined"
    have, need = set(_canonical(got)), set(_canonical(want))
    parts = [f"unexpected: {x}" for x in sorted(have - need)] + [f"missing: {x}" for x in sorted(need - have)]
    return "; ".join(parts)[:2000]
