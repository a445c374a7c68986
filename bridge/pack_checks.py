"""Rule packs checked before they are used (`bundle build`, `eval --bundle`, `test`), so a
pack never behaves differently on one engine without an error saying so.

In order, each failure one `FILE:LINE: message` (PackError):

1. OPA's own compiler (opa-golib-python-bindings, OPA 1.20) compiles the built-in policies
   with the packs and their data: Rego v1 only (v0 syntax is a parse error), undefined
   functions, type errors, recursion, conflicting rules, unsafe variables. Without the
   bindings a pack is refused: it cannot be checked with OPA's semantics.
2. Rule packages are `kmspolicy.rules.<name>`: a nested one (`kmspolicy.rules.a.b`) would
   never be gathered by `kmspolicy.main`, so it is refused.
3. Builtins that reach the network or the process environment (`ENVIRONMENT_BUILTINS`) are
   refused unless allowed by name (`--allow-builtin`).
4. On the embedded engine: every builtin a pack calls must be `supported` in the
   capabilities catalog (bridge/data/embedded_capabilities.json, probed against OPA by
   `make catalogs`), and the idioms the catalog shows regopy evaluating differently are
   refused: string literals with escapes, `with` in a rule module, sprintf verbs other
   than the verified ones, a comparison whose operands cannot be told
   (rego_comparisons.py), and array comprehensions that iterate a set or an object the
   policy builds (OPA's type checker says which: iteration_order.py).
5. On the embedded engine: the calls that read strings held with JSON escapes, or
   strings beyond ASCII, differently (escape_sensitive.py) are returned; the engine
   refuses inputs and data holding such a string. count() is not among them: it is
   computed exactly (embedded_compat.py); sort(), max(), min() and the comparisons are
   computed as OPA does on everything but strings with escapes.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

from .embedded_compat import ESCAPE_EXACT
from .environment_builtins import ENVIRONMENT_BUILTINS
from .escape_sensitive import SensitiveCall
from .opa_compile import CompileFailure
from .rego_scan import Scanned, scan
from .rego_types import static_types
from .rules import package_of

EMBEDDED = "embedded"
RULES_PREFIX = "kmspolicy.rules."
SPRINTF_VERB = re.compile(r"%[-+# 0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[A-Za-z%]")
OPA_ERROR = re.compile(r"(?P<file>[^\s:]+):(?P<line>\d+): (?P<kind>rego_\w+): ")
INSTALL_HINT = ("pip install --ignore-requires-python opa-golib-python-bindings==0.4.4 "
                "(make install does so)")


class PackError(ValueError):
    """A rule pack that cannot be used: `FILE:LINE: message`."""


@lru_cache(maxsize=1)
def capabilities() -> dict:
    text = resources.files("kmspolicy.bridge.data").joinpath("embedded_capabilities.json")
    return json.loads(text.read_text(encoding="utf-8"))


def check_packs(pack_modules: dict[str, str], all_modules: dict[str, str], data: dict, *,
                engine: str = EMBEDDED, allowed: frozenset[str] = frozenset()) -> list[SensitiveCall]:
    """Raise PackError for the first problem of the pack modules (see the module docstring).
    `all_modules` holds every module the engine will load (built in and packs), `data`
    the data document. On the embedded engine, return the calls that read escaped strings
    differently (escape_sensitive.py): the engine refuses inputs holding such strings."""
    if not pack_modules:
        return []
    compile_with_opa(all_modules, data)
    check_sources(pack_modules, all_modules, engine=engine, allowed=allowed)
    if engine != EMBEDDED:
        return []
    return check_typed(pack_modules, all_modules, data)


def check_typed(pack_modules: dict[str, str], all_modules: dict[str, str],
                data: dict) -> list[SensitiveCall]:
    """The checks that need OPA's types (one round of probe compilations): refuse an array
    comprehension that iterates a set or an object the policy builds (iteration_order.py);
    return the calls that read escaped strings differently (escape_sensitive.py)."""
    from . import iterated_arguments
    from .escape_sensitive import (
        CONCAT_OF_A_SET,
        ORDERING,
        candidate_calls,
        comparison_candidates,
        sensitive_calls,
    )
    from .iteration_order import iteration_sites
    from .rego_comparisons import UnreadableComparison

    sites, candidates, defined = [], [], []
    functions = _functions(all_modules)
    escape_catalog = {**{name: {**entry, "status": "same"} if name in ESCAPE_EXACT else entry
                         for name, entry in capabilities()["input_escape"].items()},
                      **ORDERING, **CONCAT_OF_A_SET}  # ESCAPE_EXACT, ordering: embedded_compat.py
    scans = {name: scan(source) for name, source in sorted(pack_modules.items())}
    for name, scanned in scans.items():
        if _idiom("set-iteration-order"):
            sites.extend(iteration_sites(name, scanned, _module_names(scanned)))
            defined.extend(iterated_arguments.functions(name, scanned))
        candidates.extend(candidate_calls(name, scanned, functions, escape_catalog))
        try:
            candidates.extend(comparison_candidates(name, scanned, escape_catalog))
        except UnreadableComparison as exc:
            raise PackError(f"{name}:{exc.line}: {exc} (the embedded engine evaluates comparisons "
                            "through data.kmspolicy.compat, which needs their operands)") from None
    found = [call for name, scanned in scans.items()
             for call in iterated_arguments.calls(name, scanned, {f.name for f in defined}, defined)]
    iterated = iterated_arguments.passed_on(iterated_arguments.iterated_parameters(sites, defined), found)
    passing = [call for call in found if (call.callee, call.index) in iterated]
    expressions = ([s.expression for s in sites] + [c.argument for c in candidates if c.argument]
                   + [c.argument for c in passing])
    try:
        types = static_types(all_modules, data, expressions)
    except CompileFailure as exc:
        raise PackError(f"rule packs are checked with OPA's type checker, and {exc}") from None
    _check_iteration_order(sites, types)
    _check_iterated_arguments(iterated, passing, types)
    return sensitive_calls(candidates, types)


def _check_iteration_order(sites: list, types: dict) -> None:
    from .iteration_order import may_be_unordered

    idiom = _idiom("set-iteration-order")
    where = f"the embedded engine ({capabilities()['source']['embedded']})"
    for site in sites:
        type_text = types.get(site.expression)
        if type_text is not None and not may_be_unordered(type_text):
            continue
        what = f"of type {type_text}" if type_text else "a value OPA's type checker cannot type here"
        raise PackError(f"{site.expression.module}:{site.line}: an array comprehension iterates "
                        f"{site.text} ({what}), whose order differs on {where}: OPA iterates a "
                        f"set or an object in sorted order, regopy in insertion order "
                        f"({idiom['query'].removeprefix('x := ')}: OPA {idiom['opa']}, embedded "
                        f"{idiom['embedded']}); build a set instead ({{v | ...}}) or iterate an "
                        "array, or run the pack with --engine opa")


def _check_iterated_arguments(iterated: set, passing: list, types: dict) -> None:
    from .iterated_arguments import unordered_arguments
    from .iteration_order import may_be_unordered

    for call in unordered_arguments(iterated, passing, types, may_be_unordered):
        raise PackError(f"{call.argument.module}:{call.line}: {call.text} (of type {types[call.argument]}) "
                        f"is passed to {call.callee}(), where an array comprehension iterates it: its order "
                        f"differs on the embedded engine ({capabilities()['source']['embedded']}): OPA "
                        "iterates a set or an object in sorted order, regopy in insertion order; pass "
                        "an array (sort(...)), or run the pack with --engine opa")


COLUMN_ZERO_NAME = re.compile(r"^([A-Za-z_]\w*)", re.MULTILINE)


def _module_names(scanned: Scanned) -> set[str]:
    """The rules, functions and import aliases a module can refer to by a bare name."""
    names = set(COLUMN_ZERO_NAME.findall(scanned.masked)) - {"package", "import", "default"}
    return names | scanned.import_aliases()


def check_sources(pack_modules: dict[str, str], all_modules: dict[str, str], *,
                  engine: str = EMBEDDED, allowed: frozenset[str] = frozenset()) -> None:
    """The checks after OPA's compiler (2 to 4 of the module docstring)."""
    for name, source in sorted(pack_modules.items()):
        _check_package(name, source)
        _check_strict(name, scan(source))
    functions = _functions(all_modules)
    for name, source in sorted(pack_modules.items()):
        _check_module(name, scan(source), functions, engine, allowed)


def _functions(all_modules: dict[str, str]) -> set[str]:
    """The functions the policies define (not OPA's builtins)."""
    functions = set()
    for source in all_modules.values():
        functions |= scan(source).local_functions()
    return functions - set(capabilities()["builtins"])


def compile_with_opa(modules: dict[str, str], data: dict) -> None:
    """OPA's compiler over every module and the data; its first error as PackError."""
    from .opa_compile import compile_modules

    try:
        error = compile_modules(modules, data)
    except CompileFailure as exc:
        hint = f": {INSTALL_HINT}" if "not installed" in str(exc) else ""
        raise PackError(f"a rule pack is checked with OPA's compiler before it is used, and "
                        f"{exc}{hint}") from None
    if error is not None:
        raise PackError(opa_error_line(error))


def opa_error_line(message: str) -> str:
    """OPA's error report as one line: the first located error as `FILE:LINE: message`,
    and how many more there are."""
    located = list(OPA_ERROR.finditer(message))
    if not located:
        return f"OPA refuses the policies: {' '.join(message.split())[:300]}"
    first = located[0]
    end = located[1].start() if len(located) > 1 else len(message)
    text = " ".join(message[first.end():end].split())
    more = f" (and {len(located) - 1} more)" if len(located) > 1 else ""
    return f"{first['file']}:{first['line']}: {first['kind']}: {text[:300]}{more}"


def _check_package(name: str, source: str) -> None:
    package = package_of(source) or ""
    if package.startswith(RULES_PREFIX) and "." in package[len(RULES_PREFIX):] \
            and not name.endswith("_test.rego"):
        line = source[:source.find("package")].count("\n") + 1
        flat = package[len(RULES_PREFIX):].replace(".", "_")
        raise PackError(f"{name}:{line}: package {package} is nested: kmspolicy gathers only "
                        f"data.kmspolicy.rules.<name>.findings, so its findings would never be "
                        f"reported; name it kmspolicy.rules.{flat}")


LOCAL_ASSIGNMENT = re.compile(r"^[ \t]+([A-Za-z_]\w*)[ \t]*:=", re.MULTILINE)
IMPORT_LINE = re.compile(r"^[ \t]*import[ \t]+(\S+)(?:[ \t]+as[ \t]+(\w+))?[ \t]*$", re.MULTILINE)
RESERVED = re.compile(r"(?<![\w.])(input|data)[ \t]*:=")


def _check_strict(name: str, scanned: Scanned) -> None:
    """What `opa check --strict` refuses and the bindings do not check, as far as it can be
    seen without OPA's AST: duplicate and unused imports, `input`/`data` assigned, and a
    local assigned once and never read (a name that occurs once in the whole module)."""
    text = scanned.masked
    seen: dict[str, int] = {}
    for match in IMPORT_LINE.finditer(text):
        path, alias = match.group(1), match.group(2)
        line = scanned.line_of(match.start(1))
        if path in seen:
            raise PackError(f"{name}:{line}: rego_compile_error (strict): import {path} is a "
                            f"duplicate of line {seen[path]}")
        seen[path] = line
        if not path.startswith(("data.", "input.")) and path not in ("data", "input"):
            continue
        short = alias or re.split(r"[.\[]", path)[-1]
        rest = text[:match.start()] + text[match.end():]
        if not re.search(rf"(?<![\w.]){re.escape(short)}\b", rest):
            raise PackError(f"{name}:{line}: rego_compile_error (strict): import {path} unused")
    reserved = RESERVED.search(text)
    if reserved:
        raise PackError(f"{name}:{scanned.line_of(reserved.start())}: rego_compile_error (strict): "
                        f"{reserved.group(1)} is a reserved name and may not be assigned")
    for match in LOCAL_ASSIGNMENT.finditer(text):
        local = match.group(1)
        if local != "_" and len(re.findall(rf"(?<![\w.]){re.escape(local)}\b", text)) == 1:
            raise PackError(f"{name}:{scanned.line_of(match.start(1))}: rego_compile_error (strict): "
                            f"assigned var {local} unused")


def _check_module(name: str, scanned: Scanned, functions: set[str], engine: str,
                  allowed: frozenset[str]) -> None:
    catalog = capabilities()
    builtins = catalog["builtins"]
    aliases = scanned.import_aliases()
    embedded = engine == EMBEDDED
    where = f"the embedded engine ({catalog['source']['embedded']})"
    for call, start, after in scanned.calls():
        if call in functions or call.split(".")[0] in aliases | {"data", "input"} \
                or call not in builtins:
            continue  # a function of the policies, or unknown to OPA (its compiler said so)
        line = scanned.line_of(start)
        if call in ENVIRONMENT_BUILTINS and call not in allowed:
            raise PackError(f"{name}:{line}: {call} reaches the network or the process "
                            "environment and is refused in rule packs; allow it with "
                            f"--allow-builtin {call} if the pack must use it")
        if not embedded or call in ENVIRONMENT_BUILTINS:
            continue
        entry = builtins[call]
        if entry["status"] != "supported":
            detail = f" ({entry['detail']})" if entry.get("detail") else ""
            instead = INSTEAD.get(call, "do without it")
            raise PackError(f"{name}:{line}: {call} is {_status_text(entry['status'])} on "
                            f"{where}{detail}; {instead}, or run the pack with --engine "
                            "opa-server or --engine opa-cli")
        if call == "format_int" and _idiom("format-int-base-2") \
                and scanned.argument(after, 1) not in VERIFIED_BASES:
            idiom = _idiom("format-int-base-2")
            raise PackError(f"{name}:{line}: format_int() is verified on {where} only in base "
                            f"{', '.join(VERIFIED_BASES)} ({idiom['query'].removeprefix('x := ')}: "
                            f"OPA {idiom['opa']}, embedded {idiom['embedded']})")
        if call == "sprintf":
            _check_sprintf(name, scanned, line, after, where)
    if embedded:
        _check_idioms(name, scanned, where)


def _status_text(status: str) -> str:
    return {"undefined": "silently undefined (or fails)", "divergent": "evaluated differently "
            "from OPA", "unverified": "not verified to behave as in OPA",
            "unsupported": "not supported", "not-in-rego-v1": "not part of Rego v1"}.get(status, status)


def _idiom(key: str) -> dict | None:
    """The catalog idiom `key` if the engines disagree on it (None: they agree)."""
    idiom = capabilities()["idioms"].get(key)
    return idiom if idiom and idiom["status"] != "same" else None


INSTEAD = {"object.union": "use data.kmspolicy.lib.objects.override(a, b) (no nested merge)"}
VERIFIED_BASES = ("8", "10", "16")  # the bases of the format_int probes
def _check_sprintf(name: str, scanned: Scanned, line: int, after: int, where: str) -> None:
    verbs = capabilities()["sprintf_verbs"]
    supported = sorted(v for v, e in verbs.items() if e["status"] == "supported")
    literal = scanned.literal_at(after)
    if literal is None:
        raise PackError(f"{name}:{line}: sprintf's format must be a string literal on {where}, "
                        f"so that its verbs can be checked (verified: {', '.join(supported)})")
    for verb in SPRINTF_VERB.findall(literal.text):
        if verbs.get(verb, {}).get("status") != "supported":
            detail = verbs.get(verb, {}).get("detail", "not verified")
            raise PackError(f"{name}:{line}: sprintf verb {verb} is evaluated differently from "
                            f"OPA on {where} ({detail[:160]}); use {', '.join(supported)}")


# The pattern argument of the matchers whose escapes the catalog probes (`pattern-escape`).
PATTERN_ARGUMENT = {"regex.match": 0, "regex.find_n": 0, "regex.split": 0, "regex.replace": 1,
                    "glob.match": 0}


def _pattern_with_agreed_escapes(scanned: Scanned, literal) -> bool:
    """A pattern whose backslashes both engines' matchers read alike (the probes agree)."""
    call, index = scanned.position_in_call(literal.start)
    idiom = capabilities()["idioms"].get(f"pattern-escape {call}")
    return (idiom is not None and idiom["status"] == "same" and PATTERN_ARGUMENT[call] == index
            and not (literal.raw and '"' in literal.text))


def _check_idioms(name: str, scanned: Scanned, where: str) -> None:
    for literal in scanned.literals:
        escape = _idiom("raw-string" if literal.raw else "string-escape")
        if escape and _pattern_with_agreed_escapes(scanned, literal):
            continue
        if escape and ("\\" in literal.text or (literal.raw and '"' in literal.text)):
            raise PackError(f"{name}:{scanned.line_of(literal.start)}: a string with an escape "
                            f"sequence{' or a quote' if literal.raw else ''} is read differently "
                            f"on {where} ({escape['query'].removeprefix('x := ')}: OPA "
                            f"{escape['opa']}, embedded {escape['embedded']}); do without it "
                            "(in a message, quote with ' rather than \\\")")
    with_idiom = _idiom("with-input-function")
    match = re.search(r"\bwith\b", scanned.masked)
    if with_idiom and match and not name.endswith("_test.rego"):
        raise PackError(f"{name}:{scanned.line_of(match.start())}: `with` is refused in rule "
                        f"modules on {where}: {with_idiom['what']} "
                        f"{'crashes it' if 'crashed' in with_idiom['embedded'] else 'fails'}")
