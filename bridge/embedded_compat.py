"""Rule packs as the embedded engine runs them: calls of the builtins regopy gets wrong
on strings it stores escaped, and that a Rego function can compute exactly from that
stored form, rewritten to it (`COMPAT_CALLS`, in bridge/data/embedded_compat.rego).

Only pack modules are rewritten, on the same line (errors stay located), and only for
the embedded engine: OPA's strings hold no escapes, so the compat module is never loaded
there, nor written into a bundle."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from .rego_scan import scan

COMPAT_MODULE = "kmspolicy/compat/embedded.rego"
COMPAT_CALLS = {"count": "data.kmspolicy.compat.opa_count"}


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
    scanned = scan(source)
    calls = [(name, start) for name, start, _ in scanned.calls()
             if name in COMPAT_CALLS and name not in functions]
    for name, start in reversed(calls):
        source = source[:start] + COMPAT_CALLS[name] + source[start + len(name):]
    return source
