"""One answer from the answers of every deployable variant (bridge/scenarios.py).

What every scenario answers alike is shown once; what differs is shown per group of
scenarios, named as `eval` names them ("only when IsProd is true"). A key, a row or an
explained cell is compared whole: its verdicts, actions and the lines deciding them.
"""

from __future__ import annotations

import json

from ..findings import FileError
from ..pipeline import _merge, _Variant
from ..scenarios import Scenario, describe
from .located import Explanation, KeyAccess, ScenarioCells, SubjectRow
from .principal_arg import subject_sort_key


def _groups(values: dict[int, object], signature) -> list[list[int]]:
    """Scenario indexes grouped by equal signature, in the order of the first of each."""
    out: dict[str, list[int]] = {}
    for i, value in values.items():
        out.setdefault(signature(value), []).append(i)
    return list(out.values())


def _when(present: list[int], within: set[int], scenarios: list[Scenario]) -> str | None:
    return None if set(present) == within else describe(set(present), scenarios)


def _cell_signature(cells) -> str:
    """A cell (or a list of them), explained, as comparable text."""
    items = cells if isinstance(cells, list) else [cells]
    return json.dumps([cell.to_json(explained=True) for cell in items], sort_keys=True)


def _row_signature(row: SubjectRow) -> str:
    return json.dumps({cap: cell.to_json() for cap, cell in row.cells.items()}, sort_keys=True)


def keys(per_scenario: list[list[KeyAccess]], scenarios: list[Scenario]) -> list[KeyAccess]:
    every = set(range(len(scenarios)))
    order: dict[str, dict[int, KeyAccess]] = {}
    for i, found in enumerate(per_scenario):
        for key in found:
            order.setdefault(key.id, {})[i] = key
    out = []
    for present in order.values():
        for group in _groups(present, lambda k: json.dumps(k.capabilities, sort_keys=True)):
            first = present[group[0]]
            rows = _rows({i: present[i] for i in group}, scenarios)
            out.append(KeyAccess(first.id, first.location, rows, first.capabilities,
                                 _when(group, every, scenarios)))
    return out


def _rows(present: dict[int, KeyAccess], scenarios: list[Scenario]) -> list[SubjectRow]:
    by_subject: dict[str, dict[int, SubjectRow]] = {}
    for i, key in present.items():
        for row in key.rows:
            by_subject.setdefault(row.subject.id, {})[i] = row
    within = set(present)
    out = []
    for rows in by_subject.values():
        for group in _groups(rows, _row_signature):
            first = rows[group[0]]
            out.append(SubjectRow(first.subject, first.cells, _when(group, within, scenarios)))
    out.sort(key=lambda row: subject_sort_key(row.subject.to_json()))
    return out


def explanation(per_scenario: dict[int, Explanation], scenarios: list[Scenario]) -> Explanation:
    """The explanations of one key and principal in the scenarios where both exist."""
    every = set(range(len(scenarios)))
    first = per_scenario[min(per_scenario)]
    names = list(first.cells)
    common, differing = {}, []
    for name in names:
        groups = _groups({i: x.cells[name] for i, x in per_scenario.items()}, _cell_signature)
        if len(groups) == 1 and set(groups[0]) == every:
            common[name] = first.cells[name]
        else:
            differing.append(name)
    parts = []
    if differing:
        for group in _groups({i: [x.cells[n] for n in differing] for i, x in per_scenario.items()},
                             _cell_signature):
            cells = per_scenario[group[0]].cells
            parts.append(ScenarioCells(describe(set(group), scenarios), {n: cells[n] for n in differing}))
    return Explanation(first.file, first.key, first.key_location, first.subject, first.action,
                       common, first.errors, parts, first.notes)


def errors(per_scenario: list[list[FileError]], scenarios: list[Scenario]) -> list[FileError]:
    """One error per distinct error; one that holds in some scenarios names them."""
    return _merge([_Variant({}, errors=list(found)) for found in per_scenario], scenarios)[1]
