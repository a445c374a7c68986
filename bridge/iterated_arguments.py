"""Sets and objects that reach an order-sensitive array comprehension through a function's
argument.

OPA's type checker does not type a function's parameters (`???`), so iteration_order.py
cannot tell what an array comprehension iterating one is given. Here the functions of the
packs whose comprehensions iterate a parameter are found, then every call of them: the
argument at each call is typed where it is written (rego_types). A parameter passed on
to such a function as a bare argument makes its own function iterate it, to a fixpoint."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .iteration_order import Site
from .rego_scan import Scanned
from .rego_types import Expression

PARAMETER = re.compile(r"[A-Za-z_]\w*")
STATEMENT_START = re.compile(r"^(?![\s}]|else\b)", re.MULTILINE)


@dataclass(frozen=True)
class Function:
    module: str
    name: str
    parameters: tuple[str | None, ...]  # None: a pattern, not a variable
    start: int
    end: int


@dataclass(frozen=True)
class Call:
    module: str
    line: int
    callee: str
    index: int
    argument: Expression
    text: str
    caller: Function | None  # the function whose body holds the call


def functions(name: str, scanned: Scanned) -> list[Function]:
    """The module's function definitions (each body of one is a definition)."""
    masked = scanned.masked
    starts = [m.start() for m in STATEMENT_START.finditer(masked)] + [len(masked)]
    out = []
    for start, end in zip(starts, starts[1:], strict=False):
        head = re.match(r"([A-Za-z_]\w*)\s*\(", masked[start:end])
        if not head:
            continue
        after = start + head.end()
        parameters, index = [], 0
        while (span := scanned.argument_span(after, index)) is not None:
            text = masked[span[0]:span[1]]
            parameters.append(text if PARAMETER.fullmatch(text) else None)
            index += 1
        out.append(Function(name, head.group(1), tuple(parameters), start, end))
    return out


def iterated_parameters(sites: list[Site], defined: list[Function]) -> set[tuple[str, int]]:
    """(function, parameter index) of every site that iterates a bare parameter."""
    out = set()
    for site in sites:
        function = _enclosing(defined, site.expression.module, site.expression.start)
        if function is not None and site.text in function.parameters:
            out.add((function.name, function.parameters.index(site.text)))
    return out


def calls(name: str, scanned: Scanned, names: set[str], defined: list[Function]) -> list[Call]:
    """Every call in the module of a function named in `names`, one per argument."""
    heads = {f.start for f in defined if f.module == name}
    out = []
    for callee, start, after in scanned.calls():
        short = callee.rsplit(".", 1)[-1]
        if start in heads or short not in names or (callee != short and not callee.startswith("data.")
                                  and callee.split(".")[0] not in scanned.import_aliases()):
            continue
        index = 0
        while (span := scanned.argument_span(after, index)) is not None:
            out.append(Call(name, scanned.line_of(start), short, index, Expression(name, *span),
                            " ".join(scanned.source[span[0]:span[1]].split()),
                            _enclosing(defined, name, start)))
            index += 1
    return out


def passed_on(iterated: set[tuple[str, int]], found: list[Call]) -> set[tuple[str, int]]:
    """`iterated` and, to a fixpoint, each parameter a function passes as a bare argument
    where an iterated parameter is."""
    iterated = set(iterated)
    changed = True
    while changed:
        changed = False
        for call in found:
            caller = call.caller
            if (call.callee, call.index) in iterated and caller and call.text in caller.parameters:
                parameter = (caller.name, caller.parameters.index(call.text))
                if parameter not in iterated:
                    iterated.add(parameter)
                    changed = True
    return iterated


def unordered_arguments(iterated: set[tuple[str, int]], found: list[Call], types: dict,
                        may_be_unordered) -> list[Call]:
    """The calls that pass a set or an object (by OPA's type at the call) to an iterated
    parameter (`passed_on`)."""
    return [call for call in found if (call.callee, call.index) in iterated
            and types.get(call.argument) is not None and may_be_unordered(types[call.argument])]


def _enclosing(defined: list[Function], module: str, offset: int) -> Function | None:
    return next((f for f in defined if f.module == module and f.start <= offset < f.end), None)
