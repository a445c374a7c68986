"""Puts lines on evidence: statement indexes and JSON pointers (evidence.py) become
`Location`s (file, line, column) through the template's source map."""

from __future__ import annotations

from ..load import LoadedTemplate
from ..pipeline import _finding_span
from .located import Cell, Escalation, Evidence, Location

# The span of a pointer as findings have it: for a value spanning several lines, its key.
locate = _finding_span


class LocatorError(ValueError):
    """A pointer the template's source map does not hold: a bug, never silence."""


class Locator:
    def __init__(self, template: LoadedTemplate, input_doc: dict):
        self.template = template
        self.input = input_doc

    def at(self, pointer: str, *, item: bool = False) -> Location:
        """`item`: a statement expanded from a SAM policy template is shown at the
        template's name in `Policies` (the key), not at its parameters."""
        try:
            span = self.template.source_map.key_span(pointer) if item else None
            span = span or locate(self.template, pointer)
        except (ValueError, LookupError):
            raise LocatorError(f"the access model gave an unknown location {pointer!r}") from None
        return Location(pointer, span.line, span.column, span.end_line, span.end_column)

    def cell(self, kid: str, sid: str, raw: dict) -> Cell:
        key = self.input["keys"][kid]
        identity = key["subjects"][sid].get("identity")
        cell = Cell(
            verdict=raw["verdict"], actions=list(raw["actions"]), also=raw.get("also", {}),
            grants=[self.evidence(key, identity, g) for g in raw["grants"]],
            denies=[self.evidence(key, identity, d) for d in raw["denies"]],
            escalation=[self.escalation(key, identity, e) for e in raw["escalation"]],
        )
        cell.unrelated = [self.bare(key, u["index"], "unrelated", u["actions"], by_condition=u["by_condition"])
                          for u in raw.get("unrelated", [])]
        cell.incomplete = [self.bare(key, u["index"], "incomplete", u["actions"])
                           for u in raw.get("incomplete", [])]
        return cell

    def _statement(self, key: dict, policy: str, identity: str | None, index: int) -> dict:
        if policy == "key":
            return key["statements"][index]
        return self.input["identities"][identity]["statements"][index]

    def evidence(self, key: dict, identity: str | None, raw: dict) -> Evidence:
        policy = raw["policy"]
        st = self._statement(key, policy, identity, raw["index"])
        patterns = sorted(raw["patterns"])
        item = (st.get("origin") or {}).get("kind") == "sam-policy-template"
        return Evidence(
            role=raw["how"], policy=policy, statement=raw["index"], sid=st["sid"],
            actions=list(raw["actions"]),
            principals=[self.at(p) for p in raw["principals"]],
            patterns=[self.at(p, item=item) for p in patterns],
            pattern_texts=[_pattern_text(st, p, set(raw["actions"])) for p in patterns],
            condition=self.at(raw["condition"]) if raw.get("condition") else None,
            location=self.at(st["path"], item=item),
            identity=identity if policy == "identity" else None,
            origin=st.get("origin"),
            named=[p["raw"] for p in st.get("principals") or []],
        )

    def bare(self, key: dict, index: int, role: str, actions: list[str] | None = None,
             by_condition: bool = False) -> Evidence:
        """A key-policy statement shown by its principal line only (and its Condition, when
        that is what keeps the statement from the subject)."""
        st = key["statements"][index]
        return Evidence(
            condition=self.at(st["condition"]["path"]) if by_condition and st["condition"].get("path") else None,
            role=role, policy="key", statement=index, sid=st["sid"], actions=list(actions or []),
            principals=[self.at(p["path"]) for p in st["principals"]][:1],
            location=self.at(st["path"]), named=[p["raw"] for p in st["principals"]],
            origin=st.get("origin"), not_principal=st.get("principal_mode") == "NotPrincipal",
        )

    def escalation(self, key: dict, identity: str | None, raw: dict) -> Escalation:
        key_st = key["statements"][raw["key_statement"]]
        if raw["identity_statement"] is None:
            via_raw = {"policy": "key", "how": "direct", "index": raw["key_statement"],
                       "actions": [raw["action"]], "principals": [], "patterns": raw["patterns"],
                       "condition": key_st["condition"]["path"]}
            delegation = None
        else:
            via_raw = {"policy": "identity", "how": "identity", "index": raw["identity_statement"],
                       "actions": [raw["action"]], "principals": [], "patterns": raw["patterns"],
                       "condition": None}
            delegation = self.bare(key, raw["key_statement"], "delegation")
        return Escalation(raw["action"], self.evidence(key, identity, via_raw), delegation,
                          list(raw["gains"]))


def _pattern_text(st: dict, pointer: str, actions: set[str]) -> str:
    """The action patterns written at `pointer` that match some of `actions`."""
    if st["action_mode"] == "NotAction":
        return "NotAction: " + ", ".join(p["pattern"].removeprefix("NotAction: ") for p in st["patterns"])
    return ", ".join(p["pattern"] for p in st["patterns"]
                     if p["path"] == pointer and actions & set(p["actions"]))
