"""Constant tables of the shipped policies as data, for the embedded engine.

regopy evaluates a rule whose value is a literal again in every query: the catalog's
45-entry `key_action_bits`, which most templates reach (`actionmask.has`), costs ~0.6 ms
each time; a data document costs nothing to read. So, for the embedded engine only, the
shipped catalog module reads that table from `data.kmspolicy.embedded_tables`, with the
values taken from the module's own text (they cannot differ). A policy set that replaces
the catalog module, or that already uses that data path, runs as written.

With it, the shipped actionmask module's `sorted_names` reads a mask's names eight bits at a
time from a table of the same catalog (`names_by_byte`): a dozen builtin calls instead of
one per key action. It needs the bits numbered in name order (as the catalog generator
numbers them), so that the names of successive bytes come sorted; else it runs as written."""

from __future__ import annotations

import re
from typing import Any

from .catalog import names_by_chunk
from .rules import builtin_module

CATALOG_MODULE = "kmspolicy/lib/catalog.rego"
ACTIONMASK_MODULE = "kmspolicy/lib/actionmask.rego"
TABLES = "embedded_tables"
_BITS_RULE = re.compile(r"^key_action_bits := \{\n((?:\t\"[^\"\n]+\": \d+,\n)+)\}\n", re.MULTILINE)
_ENTRY = re.compile(r"\t\"([^\"\n]+)\": (\d+),\n")
_SORTED_NAMES_RULE = re.compile(r"^sorted_names\(mask\) := \[name \|\n(?:\t[^\n]*\n)+\]\n", re.MULTILINE)
_SORTED_NAMES_BY_BYTE = (
    f"sorted_names(mask) := [name | some row in data.kmspolicy.{TABLES}.names_by_byte; "
    "byte := bits.and(bits.rsh(mask, row.shift), 255); byte != 0; some name in row.names[byte]]\n")


def with_tables(modules: dict[str, str], data: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    source = modules.get(CATALOG_MODULE)
    found = _BITS_RULE.search(source) if source == builtin_module(CATALOG_MODULE) else None
    root = data.get("kmspolicy") if isinstance(data.get("kmspolicy"), dict) else {}
    if found is None or TABLES in root or _declares_tables(modules):
        return modules, data
    bits = {name: int(bit) for name, bit in _ENTRY.findall(found.group(1))}
    catalog = _replaced(source, found, f"key_action_bits := data.kmspolicy.{TABLES}.key_action_bits\n")
    tables: dict[str, Any] = {"key_action_bits": bits}
    run = {**modules, CATALOG_MODULE: catalog}
    actionmask = modules.get(ACTIONMASK_MODULE)
    rule = _SORTED_NAMES_RULE.search(actionmask) if actionmask == builtin_module(ACTIONMASK_MODULE) else None
    if rule is not None and _numbered_in_name_order(bits):
        tables["names_by_byte"] = names_by_byte(bits)
        run[ACTIONMASK_MODULE] = _replaced(actionmask, rule, _SORTED_NAMES_BY_BYTE)
    return run, {**data, "kmspolicy": {**root, TABLES: tables}}


def names_by_byte(bits: dict[str, int]) -> list[dict[str, Any]]:
    """Per eight bits of a mask (`shift`), the sorted names each of its 256 values holds."""
    return names_by_chunk(bits, 8)


def _numbered_in_name_order(bits: dict[str, int]) -> bool:
    in_name_order = [bits[name] for name in sorted(bits)]
    return all(bin(bit).count("1") == 1 for bit in in_name_order) and in_name_order == sorted(in_name_order) \
        and len(set(in_name_order)) == len(in_name_order)


def _replaced(source: str, found: re.Match, line: str) -> str:
    """`found`'s rule replaced by a one-line rule, padded so later lines keep their numbers."""
    return source[:found.start()] + line + "\n" * found.group(0).count("\n", 0, -1) + source[found.end():]


def _declares_tables(modules: dict[str, str]) -> bool:
    return any(re.search(rf"^package\s+kmspolicy\.{TABLES}\b", source, re.MULTILINE)
               for source in modules.values())
