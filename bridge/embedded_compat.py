"""Rule packs as the embedded engine runs them: calls of the builtins regopy gets wrong,
and that a Rego function can compute as OPA does, rewritten to it (`COMPAT_CALLS`, in
bridge/data/embedded_compat.rego): count() of strings it stores escaped, and ordering
(regopy orders strings by their quoted text and sorts numbers by their text): sort(),
max(), min(), the comparisons `<`, `>`, `<=`, `>=`, infix or called, and concat() of a
set (joined in sorted order).

Only pack modules are rewritten, on the same line (errors stay located), and only for
the embedded engine: OPA's strings hold no escapes, so the compat module is never loaded
there, nor written into a bundle."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from .rego_comparisons import comparisons
from .rego_scan import scan

COMPAT_MODULE = "kmspolicy/compat/embedded.rego"
COMPAT_PACKAGE = "data.kmspolicy.compat"
COMPAT_CALLS = {name: f"{COMPAT_PACKAGE}.opa_{name}"
                for name in ("count", "concat", "sort", "max", "min", "lt", "gt", "lte", "gte")}
INFIX = {"<": "lt", ">": "gt", "<=": "lte", ">=": "gte"}
# The compat calls that are exact on strings held with JSON escapes too; ordering compares
# the stored escapes (escape_sensitive.py refuses such inputs).
ESCAPE_EXACT = frozenset({"count"})
UNORDERED = "_unordered_on_the_embedded_engine"


@lru_cache(maxsize=1)
def compat_source() -> str:
    return resources.files("kmspolicy.bridge.data").joinpath("embedded_compat.rego").read_text(
        encoding="utf-8")


def for_embedded(modules: dict[str, str], packs: set[str]) -> dict[str, str]:
    """`modules` with the compat calls of the pack modules `packs` rewritten (a call of a
    function the policies define is left alone), and the compat module when any was."""
    functions = set().union(*(scan(source).local_functions() for source in modules.values()))
    out = dict(modules)
    for name in sorted(packs & set(modules)):
        out[name] = rewrite(modules[name], functions)
    if any(out[name] != modules[name] for name in packs & set(modules)):
        out[COMPAT_MODULE] = compat_source()
    return out


def rewrite(source: str, functions: set[str]) -> str:
    source = rewrite_comparisons(source)
    scanned = scan(source)
    calls = [(name, start) for name, start, _ in scanned.calls()
             if name in COMPAT_CALLS and name not in functions]
    for name, start in reversed(calls):
        source = source[:start] + COMPAT_CALLS[name] + source[start + len(name):]
    return source


def rewrite_comparisons(source: str) -> str:
    """Every infix comparison as a call of its compat function, on the same lines
    (rego_comparisons.AmbiguousComparison where one cannot be rewritten)."""
    while found := comparisons(scan(source)):
        last = found[-1]
        (left_start, left_end), (right_start, right_end) = last.left, last.right
        between = "\n" * source.count("\n", left_end, right_start)
        source = (source[:left_start] + COMPAT_CALLS[INFIX[last.operator]] + "("
                  + source[left_start:left_end] + ", " + between + source[right_start:right_end] + ")"
                  + source[right_end:])
    return source


def without_ordering_refusal(compat: str) -> str:
    """The compat module with the ordering refusal answering instead of failing (to tell,
    on an engine error, whether the refusal caused it)."""
    return compat.replace(f'{UNORDERED}(_) := "are not ordered on the embedded engine"\n', "")
