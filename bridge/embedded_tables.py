"""Constant tables of the shipped policies as data, for the embedded engine.

regopy evaluates a rule whose value is a literal again in every query: the catalog's
45-entry `key_action_bits`, which most templates reach (`actionmask.has`), costs ~0.6 ms
each time; a data document costs nothing to read. So, for the embedded engine only, the
shipped catalog module reads that table from `data.kmspolicy.embedded_tables`, with the
values taken from the module's own text (they cannot differ). A policy set that replaces
the catalog module, or that already uses that data path, runs as written."""

from __future__ import annotations

import re
from typing import Any

from .rules import builtin_module

CATALOG_MODULE = "kmspolicy/lib/catalog.rego"
TABLES = "embedded_tables"
_BITS_RULE = re.compile(r"^key_action_bits := \{\n((?:\t\"[^\"\n]+\": \d+,\n)+)\}\n", re.MULTILINE)
_ENTRY = re.compile(r"\t\"([^\"\n]+)\": (\d+),\n")


def with_tables(modules: dict[str, str], data: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    source = modules.get(CATALOG_MODULE)
    found = _BITS_RULE.search(source) if source == builtin_module(CATALOG_MODULE) else None
    root = data.get("kmspolicy") if isinstance(data.get("kmspolicy"), dict) else {}
    if found is None or TABLES in root or _declares_tables(modules):
        return modules, data
    bits = {name: int(bit) for name, bit in _ENTRY.findall(found.group(1))}
    catalog = source[:found.start()] + f"key_action_bits := data.kmspolicy.{TABLES}.key_action_bits\n" + \
        "\n" * found.group(0).count("\n", 0, -1) + source[found.end():]
    return ({**modules, CATALOG_MODULE: catalog},
            {**data, "kmspolicy": {**root, TABLES: {"key_action_bits": bits}}})


def _declares_tables(modules: dict[str, str]) -> bool:
    return any(re.search(rf"^package\s+kmspolicy\.{TABLES}\b", source, re.MULTILINE)
               for source in modules.values())
