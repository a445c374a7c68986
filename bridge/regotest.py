"""Run the Rego unit tests, like `opa test`, on either engine.

A `*_test.rego` package `kmspolicy.rules.<name>_test` holds `cases`: each an `input` and
the complete set of `findings` that `data.kmspolicy.rules.<name>.findings` must return
for it. Each case is evaluated by setting its input directly, after the bridge has added
the effective access the rules read (bridge/access): a hand-written input describes the
template, the access model decides who can do what, as for every real input. (regopy 1.5
also crashes compiling `with input as` around rules that call functions, so `test_*`
rules are left out on the embedded engine.)
"""

from __future__ import annotations

import copy
import json
import re
import time
from dataclasses import dataclass

from . import access, key_intent
from .engines import EngineError
from .engines.embedded import input_term, json_term
from .engines.regopy_arity import with_arity_guard
from .engines.regopy_errors import located
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


def run_cases(modules: dict[str, str], data: dict | None = None, engine: str = "embedded") -> list[CaseResult]:
    """Every case of every `*_test.rego` package, on the embedded engine or (`engine="opa"`)
    on OPA's own evaluator (opa-golib-python-bindings). A case may carry `data`: the
    organization config (data.kmspolicy.config) it is evaluated with. Its input gets the
    access the bridge computes (`with_access`), as every real input does."""
    test_modules = {}
    test_files = {}
    for name, source in modules.items():
        if name.endswith("_test.rego"):
            source = strip_test_rules(source)
            package = package_of(source)
            if package:
                test_files[package] = name
        test_modules[name] = source
    evaluate = _OpaCases(test_modules, data) if engine == "opa" else _EmbeddedCases(test_modules, data)
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
                case_input = with_access(case["input"], _case_config(data, case.get("data")))
                got = evaluate(case.get("data"), f"data.{case['target']}" if whole else target, case_input)
                want = case["findings"]
                if whole:
                    got, want = (None if got is None else [got]), [want]
                passed = got is not None and _canonical(got) == _canonical(want)
                message = "" if passed else _difference(got, want)
            except (EngineError, KeyError, TypeError) as exc:
                passed, message = False, " ".join(str(exc).split())[:500]
            results.append(CaseResult(package, name, file, passed, message, time.perf_counter() - start))
    return results


def _case_data(data: dict | None, config: dict | None) -> dict:
    case_data = dict(data or {})
    if config is not None:
        case_data["kmspolicy"] = {**case_data.get("kmspolicy", {}), "config": config}
    return case_data


class _EmbeddedCases:
    """Evaluates queries on regopy, one interpreter per config, each query compiled once
    (regopy's plain query() recompiles every time)."""

    def __init__(self, modules: dict[str, str], data: dict | None):
        self.modules, self.data = modules, data
        self.interpreters: dict[str, object] = {}
        self.bundles: dict[tuple[str, str], object] = {}

    def __call__(self, config: dict | None, query: str, input_doc: dict | None = None):
        key = json.dumps(config, sort_keys=True)
        if key not in self.interpreters:
            self.interpreters[key] = _interpreter(self.modules, _case_data(self.data, config))
        interpreter = self.interpreters[key]
        if (key, query) not in self.bundles:
            self.bundles[(key, query)] = interpreter.build(query)
        interpreter.set_input_term(input_term(input_doc if input_doc is not None else {}))
        return _value(interpreter, self.bundles[(key, query)])


class _OpaCases:
    """Evaluates queries on OPA's own evaluator, one engine per config."""

    def __init__(self, modules: dict[str, str], data: dict | None):
        self.modules, self.data = modules, data
        self.engines: dict[str, object] = {}

    def __call__(self, config: dict | None, query: str, input_doc: dict | None = None):
        import opa_bindings

        key = json.dumps(config, sort_keys=True)
        if key not in self.engines:
            engine = opa_bindings.OpaEngine()
            for name, source in self.modules.items():
                engine.add_policy(name, source)
            engine.add_data(_case_data(self.data, config))
            self.engines[key] = engine
        try:
            return self.engines[key].eval_document(query.removeprefix("data."), input_doc or {})
        except Exception as exc:  # the bindings raise their own error types
            if str(exc).startswith("undefined"):
                return None
            raise EngineError(" ".join(str(exc).split())[:500]) from None


def with_access(input_doc: dict, config: dict | None = None) -> dict:
    """A case's input as the bridge hands it to the rules: with each key's `access`
    computed by the access model (bridge/access) and its `intent_resolved`
    (key_intent.py), unless the case gives them. A key or identity without the fields the
    bridge writes gets no `intent_resolved`: the lib infers from what it has."""
    keys = input_doc.get("keys") if isinstance(input_doc, dict) else None
    if not isinstance(keys, dict):
        return input_doc
    needs_access = not all("access" in k for k in keys.values() if isinstance(k, dict))
    unresolved = [kid for kid, k in keys.items() if isinstance(k, dict) and "intent_resolved" not in k]
    if not needs_access and not unresolved:
        return input_doc
    doc = copy.deepcopy(input_doc)
    if needs_access:
        access.compute(doc, config)
    for kid in unresolved:
        try:
            doc["keys"][kid]["intent_resolved"] = key_intent.resolved(doc["keys"][kid], doc.get("identities") or {},
                                                                      config)
        except (KeyError, TypeError, AttributeError):
            continue
    return doc


def _case_config(pack_data: dict | None, case_config: dict | None) -> dict | None:
    """The config a case is evaluated with (data.kmspolicy.config, _case_data)."""
    if case_config is not None:
        return case_config
    root = (pack_data or {}).get("kmspolicy")
    return root.get("config") if isinstance(root, dict) else None


def _interpreter(modules: dict[str, str], data: dict):
    import regopy

    interpreter = regopy.Interpreter()
    try:
        for name, source in with_arity_guard(modules).items():
            interpreter.add_module(name, source)
        if data:
            interpreter.add_data_json(json_term(data))
    except regopy.RegoError as exc:
        where = located(str(exc), modules)
        raise EngineError(f"{where} (embedded engine)" if where else
                          f"the policies do not compile: {' '.join(str(exc).split())[:500]}") from None
    return interpreter


def _value(interpreter, bundle):
    import regopy

    try:
        output = interpreter.query_bundle(bundle)
    except regopy.RegoError as exc:
        raise EngineError(" ".join(str(exc).split())[:500]) from None
    except ValueError as exc:  # regopy printed a result that is not JSON
        raise EngineError(f"the embedded engine produced a result that is not valid JSON "
                          f"({' '.join(str(exc).split())[:200]})") from None
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
