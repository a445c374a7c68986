"""The embedded engine: regopy (rego-cpp), compiled once per process (or loaded from the
compiled-bundle cache, bundle_cache.py), no server needed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..rules import package_of
from . import ENTRYPOINT, EngineError, as_findings, bundle_cache
from .regopy_arity import with_arity_guard
from .regopy_errors import located
from .regopy_input import StoredInput

if TYPE_CHECKING:
    from ..escape_sensitive import SensitiveCall


class EmbeddedEngine:
    name = "embedded"

    def __init__(self, modules: dict[str, str], data: dict[str, Any] | None = None,
                 query: str = ENTRYPOINT, escape_sensitive: list[SensitiveCall] = (),
                 input_as_value: bool = False):
        """`input_as_value`: hand regopy each input as a value (regopy_input.py), for the
        built-in rules only: a document built that way answers every builtin they call as
        the JSON text does, but not json.marshal (tests/test_regopy_input.py)."""
        import regopy

        self._regopy = regopy
        self.query = query
        self._input_as_value = input_as_value
        self._escape_sensitive = list(escape_sensitive)
        self._refuse_escaped(data, "the data")
        modules = with_arity_guard(modules)
        self._modules, self._data = modules, data
        self._interpreter = regopy.Interpreter()
        key = bundle_cache.bundle_key(modules, data, query, getattr(regopy, "__version__", ""))
        self._bundle = bundle_cache.load(regopy, self._interpreter, key)
        if self._bundle is not None:
            return
        try:
            for name, source in modules.items():
                self._interpreter.add_module(name, source)
            if data:
                self._interpreter.add_data_json(json_term(data))
            self._bundle = self._interpreter.build(query)
        except regopy.RegoError as exc:
            raise EngineError(_compile_error(str(exc), modules)) from None
        if not self._bundle.ok():
            raise EngineError(_compile_error(str(self._bundle.node), modules))
        bundle_cache.save(regopy, self._interpreter, self._bundle, key)

    def evaluate(self, input_doc: dict) -> Any:
        try:
            self._set_input(input_doc)
            output = self._interpreter.query_bundle(self._bundle)
        except self._regopy.RegoError as exc:
            raise EngineError(f"evaluation failed: {_one_line(exc)}") from None
        except ValueError as exc:  # regopy printed a result that is not JSON
            raise EngineError(self._blame(input_doc, exc)) from None
        if not output.ok():
            raise EngineError(self._unordered(input_term(input_doc)) or f"evaluation failed: {_one_line(output)}")
        results = output.results
        if not results or not results[0].expressions:
            raise EngineError(f"{self.query} is undefined")
        return results[0].expressions[0]

    def _set_input(self, input_doc: dict) -> None:
        if self._input_as_value:
            stored = StoredInput(input_doc)
            if not stored.plain:
                self._refuse_escaped(input_doc, "the template's input")
            self._interpreter.set_input(stored.input)
            return
        term = input_term(input_doc)
        if "\\" in term or not term.isascii():  # every character regopy stores escaped is written as one
            self._refuse_escaped(input_doc, "the template's input")
        self._interpreter.set_input_term(term)

    def _refuse_escaped(self, document: Any, what: str) -> None:
        """EngineError if a pack reads strings the engine stores escaped, or strings beyond
        ASCII, differently from OPA (escape_sensitive.py) and the document holds one."""
        if not self._escape_sensitive:
            return
        from ..escape_sensitive import string_at  # only packs have such calls (~10 ms to import)

        for reads in dict.fromkeys(call.reads for call in self._escape_sensitive):
            at = string_at(document, reads)
            if at is not None:
                call = next(c for c in self._escape_sensitive if c.reads == reads)
                engine = f"the embedded engine (regopy {getattr(self._regopy, '__version__', '')})"
                raise EngineError(call.refusal(engine, f"{what} ({at})"))

    def _unordered(self, term: str) -> str | None:
        """The error, if the compat ordering of a pack refused to order objects or sets
        (embedded_compat.py): evaluated again with the refusal answering, it succeeds. It
        names the first rule package whose findings fail."""
        from ..embedded_compat import COMPAT_MODULE, without_ordering_refusal

        if COMPAT_MODULE not in self._modules:
            return None
        answering = {name: without_ordering_refusal(source) if name == COMPAT_MODULE else source
                     for name, source in self._modules.items()}
        rego = self._interpreter_for(answering, term)
        try:
            if rego is None or not rego.query_bundle(rego.build(self.query)).ok():
                return None
        except self._regopy.RegoError:
            return None
        where = "evaluation failed"
        rego = self._interpreter_for(self._modules, term)
        for name, line, package in self._rule_packages():
            try:
                failed = rego is not None and not rego.query(f"x := data.{package}.findings").ok()
            except (self._regopy.RegoError, ValueError):
                failed = False
            if failed:
                where = f"{name}:{line}"
                break
        return (f"{where}: the rule pack orders (sort, max, min, <, >) objects, sets or arrays holding "
                "them, which the embedded engine cannot order as OPA does; evaluate this template with "
                "--engine opa (or opa-server, opa-cli)")

    def _blame(self, input_doc: dict, exc: Exception) -> str:
        """Which rule's findings the embedded engine cannot print as JSON, as
        `FILE:LINE: ...`: each rule package is evaluated alone (only on this error path)."""
        rego = self._interpreter_for(self._modules, input_term(input_doc))
        for name, line, package in self._rule_packages() if rego is not None else ():
            try:
                rego.query(f"x := data.{package}.findings")
            except ValueError:
                return (f"{name}:{line}: the embedded engine (regopy) produced a "
                        f"result for {package}.findings that is not valid JSON ({_one_line(exc)}); "
                        "docs/writing-rules.md lists what it evaluates differently from OPA")
            except self._regopy.RegoError:
                continue
        return f"evaluation failed: the result is not valid JSON ({_one_line(exc)})"

    def _interpreter_for(self, modules: dict[str, str], term: str):
        """A fresh interpreter holding `modules`, the data and the input (only on the error
        paths); None if they do not load."""
        rego = self._regopy.Interpreter()
        try:
            for name, source in modules.items():
                rego.add_module(name, source)
            rego.add_data_json(json_term(self._data or {}))
            rego.set_input_term(term)
        except self._regopy.RegoError:
            return None
        return rego

    def _rule_packages(self):
        """(module, line of its package, package) of every rule module, in name order."""
        for name, source in sorted(self._modules.items()):
            package = package_of(source) or ""
            if package.startswith("kmspolicy.rules."):
                yield name, source[:source.find("package ")].count("\n") + 1, package

    def findings(self, input_doc: dict) -> list[dict]:
        return as_findings(self.evaluate(input_doc), self.query)


def _compile_error(report: str, modules: dict[str, str]) -> str:
    where = located(report, modules)
    return f"{where} (embedded engine)" if where else \
        f"the policies do not compile: {_one_line(report)}"


def _one_line(value: Any) -> str:
    text = " ".join(str(value).split())
    return text[:500]


def input_term(input_doc: Any) -> str:
    """The input as the JSON text regopy is given (json_term)."""
    return json_term(input_doc)


def json_term(value: Any) -> str:
    """A document (input or data) as the JSON text regopy is given. regopy.Input(dict) is
    faster but prints strings unescaped; regopy keeps a string's escapes as characters, so
    non-ASCII is written as itself (`count("é")` is 1, as on OPA), not as a `\\u` escape.
    Keys are sorted: regopy iterates an object in the order of its text, OPA in sorted
    order (Python's code-point order is the byte order of UTF-8, OPA's)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)

