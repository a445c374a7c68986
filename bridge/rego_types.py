"""The static types OPA's own type checker infers for expressions of rule-pack modules.

Each expression E is wrapped, in a copy of its module, in `object.get(0, E, 0)`: a type
error whatever E's type (0 is not an object), whose report says what OPA inferred for E
(`have: (number, set[string], number, ???)`), and whose result (any) keeps the rest of
the module type-correct. OPA stops after 10 errors, so each compiled variant holds at
most 9 probes, at most one per line of a module, none overlapping another."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .opa_compile import compile_variants

PROBES_PER_VARIANT = 9
REPORTED_TYPE = re.compile(r"(?P<file>[^\s:]+):(?P<line>\d+): rego_type_error: object\.get: "
                           r"invalid argument\(s\)\s+have: \(number, (?P<type>.*), number, \?\?\?\)")


@dataclass(frozen=True)
class Expression:
    module: str
    start: int  # offsets in the module's source
    end: int


def static_types(modules: dict[str, str], data: dict,
                 expressions: list[Expression]) -> dict[Expression, str | None]:
    """OPA's type of each expression (its text, e.g. `set[string]`, `any<number, set[number]>`,
    `any`), None where the checker reported none (the probe itself did not compile)."""
    lines = {e: modules[e.module].count("\n", 0, e.start) + 1 for e in expressions}
    found: dict[Expression, str | None] = {}
    pending, size = list(dict.fromkeys(expressions)), PROBES_PER_VARIANT
    while pending:
        variants = _variants(pending, lines, size)
        reports = compile_variants(modules, data, [_variant_modules(modules, v) for v in variants])
        retry: list[Expression] = []
        for variant, report in zip(variants, reports, strict=True):
            types = _reported_types(report or "")
            for expression in variant:
                found_type = types.get((expression.module, lines[expression]))
                if found_type is None and len(variant) > 1:
                    retry.append(expression)  # another probe of the variant may have hidden it
                else:
                    found[expression] = found_type
        pending, size = retry, 1
    return found


def _variants(expressions: list[Expression], lines: dict[Expression, int],
              size: int) -> list[list[Expression]]:
    """Greedy groups of at most `size`, no two on one line or overlapping."""
    def clash(a: Expression, b: Expression) -> bool:
        return a.module == b.module and (lines[a] == lines[b] or (a.start < b.end and b.start < a.end))

    variants: list[list[Expression]] = []
    for expression in expressions:
        for variant in variants:
            if len(variant) < size and not any(clash(expression, o) for o in variant):
                variant.append(expression)
                break
        else:
            variants.append([expression])
    return variants


def _variant_modules(modules: dict[str, str], variant: list[Expression]) -> dict[str, str]:
    out: dict[str, str] = {}
    for expression in sorted(variant, key=lambda e: e.start, reverse=True):
        source = out.get(expression.module, modules[expression.module])
        out[expression.module] = (source[:expression.start] + "object.get(0, "
                                  + source[expression.start:expression.end] + ", 0)"
                                  + source[expression.end:])
    return out


def _reported_types(report: str) -> dict[tuple[str, int], str]:
    return {(m["file"], int(m["line"])): m["type"] for m in REPORTED_TYPE.finditer(report)}
