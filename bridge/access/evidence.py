"""The statements that decide one subject's access to one key, for a set of actions.

Read from the access model's answer (`key["access"][subject]`, model.py) and the
normalized statements; nothing is re-evaluated here. A cell is a dict of JSON pointers
and statement indexes (locator.py puts lines on them):

- `verdict` of the actions (allowed > conditional > reachable > unknown > denied) and
  `actions`, those of them with that verdict (for `denied`, the explicitly denied ones);
  `also`, the others by their weaker verdicts but denied;
- `grants`: key-policy statements naming the subject or everyone (`direct`), delegating
  to its account (`delegation`), and its identity-policy statements completing a
  delegation (`identity`); for an allowed cell only what they give for every request;
  for an unknown cell the delegations whose other side the template does not show;
- `denies`: the Deny statements (key and identity policy) matching the actions;
- `escalation`: for `reachable`, each PutKeyPolicy / CreateGrant path and what it gains;
- with `explained`: `unrelated` (key statements granting the actions to others only) and
  `incomplete` (delegations to the subject's account nothing on its side completes).
"""

from __future__ import annotations

from functools import cache

from .. import catalog

VERDICTS = ("allowed", "conditional", "reachable", "unknown", "denied")
PUT = "kms:PutKeyPolicy"
GRANT = "kms:CreateGrant"


@cache
def _names_by_bit() -> tuple[tuple[int, str], ...]:
    return tuple(sorted((bit, name) for name, bit in catalog.key_action_bits().items()))


def names(mask: int) -> list[str]:
    """The key actions of a mask, sorted."""
    return sorted(name for bit, name in _names_by_bit() if mask & bit)


def mask_of(item: dict) -> int:
    """The key actions of a statement or action pattern."""
    given = item.get("action_mask")
    return given if isinstance(given, int) else catalog.action_mask(item.get("actions") or [])


@cache
def grant_operations_mask() -> int:
    return catalog.action_mask(catalog.grant_operations())


def verdict_of(access: dict, actions: int) -> str:
    for verdict in VERDICTS[:-1]:
        if access[verdict] & actions:
            return verdict
    return "denied"


class SubjectEvidence:
    """One subject's access to one key, ready to be asked about any set of actions."""

    def __init__(self, key: dict, subject: dict, identities: dict):
        self.key = key
        self.subject = subject
        self.access = key["access"][subject["id"]]
        identity = identities.get(subject.get("identity") or "") if subject["kind"] == "identity" else None
        self.identity_statements: list[dict] = identity["statements"] if identity else []
        self.key_masks = [mask_of(st) for st in key["statements"]]
        self.identity_masks = [mask_of(st) for st in self.identity_statements]
        unconditional = self.access["unconditional"]
        self.identity_u = self._identity_side(unconditional["identity"])
        self.identity_all = self._identity_side(None)
        self.delegated_u = self._union(self.key_masks, self.access["delegation"], unconditional["key"])
        self.delegated_all = self._union(self.key_masks, self.access["delegation"])
        self.account_statements = [
            i for i, st in enumerate(key["statements"])
            if st["effect"] == "Allow" and st["principal_mode"] == "Principal"
            and any(p["kind"] == "account" and p["account"] == subject["account"] for p in st["principals"])]

    @staticmethod
    def _union(masks: list[int], indexes: list[int], only: list[int] | None = None) -> int:
        out = 0
        for i in indexes:
            out |= masks[i] & (only[i] if only is not None else -1)
        return out

    def _identity_side(self, only: list[int] | None) -> int:
        """What the subject's identity policies allow on the key: a template identity's
        own; for the account, whatever IAM policies of its principals allow; for a principal
        the template does not define, nothing known."""
        kind = self.subject["kind"]
        if kind == "identity":
            return self._union(self.identity_masks, self.access["identity"], only)
        if kind == "account":
            return catalog.action_mask(catalog.key_action_bits())
        return 0

    # --- cells -----------------------------------------------------------------------

    def cell(self, actions: int, verdict: str | None = None, *, explained: bool = False) -> dict:
        verdict = verdict or verdict_of(self.access, actions)
        decided = actions & self.access[verdict]
        out = {"verdict": verdict, "actions": names(decided), "also": self._also(actions, verdict),
               "grants": self._grants(decided, verdict),
               "denies": self._key_denies(actions) + self._identity_denies(actions),
               "escalation": self._escalation(decided) if verdict == "reachable" else []}
        if explained:
            out["unrelated"] = self._unrelated(actions)
            out["incomplete"] = self._incomplete(actions)
        return out

    def _also(self, actions: int, verdict: str) -> dict[str, list[str]]:
        """The cell's other actions by their (weaker, not denied) verdicts: a cell shows
        its strongest verdict, which must not hide what else is possible."""
        if verdict == "denied":
            return {}
        rest = actions & ~self.access[verdict]
        also = {}
        for weaker in VERDICTS[VERDICTS.index(verdict) + 1:-1]:
            if rest & self.access[weaker]:
                also[weaker] = names(rest & self.access[weaker])
                rest &= ~self.access[weaker]
        return also

    def _grants(self, decided: int, verdict: str) -> list[dict]:
        if not decided:
            return []
        statements = self.key["statements"]
        if verdict == "unknown":  # the subject's side of a delegation is not in view
            return [self._grant("key", "delegation", statements[i], self.key_masks[i] & decided,
                                self._account_pointers(statements[i]))
                    for i in self.access["delegation"] if self.key_masks[i] & decided]
        sure = verdict == "allowed"
        unconditional = self.access["unconditional"]
        out = []
        for i in self.access["direct"]:
            if self.subject["kind"] == "account" and i in self.access["delegation"]:
                continue  # the account subject's delegation is shown once, as such
            given = self._given(self.key_masks[i], decided, unconditional["key"][i], sure)
            if given:
                out.append(self._grant("key", "direct", statements[i], given,
                                       self._naming_pointers(statements[i])))
        identity_side = self.identity_u if sure else self.identity_all
        for i in self.access["delegation"]:
            given = self._given(self.key_masks[i], decided, unconditional["key"][i], sure) & identity_side
            if given:
                out.append(self._grant("key", "delegation", statements[i], given,
                                       self._account_pointers(statements[i])))
        delegated = self.delegated_u if sure else self.delegated_all
        for j in self.access["identity"]:
            given = self._given(self.identity_masks[j], decided, unconditional["identity"][j], sure) & delegated
            if given:
                out.append(self._grant("identity", "identity", self.identity_statements[j], given, []))
        return out

    @staticmethod
    def _given(statement: int, decided: int, unconditional: int, sure: bool) -> int:
        return statement & decided & (unconditional if sure else -1)

    @staticmethod
    def _grant(policy: str, how: str, st: dict, given: int, principals: list[str]) -> dict:
        return {"policy": policy, "how": how, "index": st["index"], "actions": names(given),
                "principals": principals, "patterns": pattern_pointers(st, given),
                "condition": st["condition"]["path"]}

    # --- pointers --------------------------------------------------------------------

    def _naming_pointers(self, st: dict) -> list[str]:
        if st["principal_mode"] != "Principal":
            return [f"{st['path']}/NotPrincipal"]
        return [p["path"] for p in st["principals"] if p["kind"] == "any" or p["id"] == self.subject["id"]]

    def _account_pointers(self, st: dict) -> list[str]:
        return [p["path"] for p in st["principals"]
                if p["kind"] == "account" and p["account"] == self.subject["account"]]

    # --- narrowing -------------------------------------------------------------------

    def _key_denies(self, actions: int) -> list[dict]:
        out = []
        for i in self.access["denies"]:
            st = self.key["statements"][i]
            given = self.key_masks[i] & actions
            if given:
                pointers = self._naming_pointers(st)
                if st["principal_mode"] == "Principal":
                    pointers += self._account_pointers(st)
                out.append(self._grant("key", "deny", st, given, pointers))
        return out

    def _identity_denies(self, actions: int) -> list[dict]:
        return [self._grant("identity", "deny", self.identity_statements[j], self.identity_masks[j] & actions, [])
                for j in self.access["identity_denies"] if self.identity_masks[j] & actions]

    # --- escalation (KMS-SEMANTICS.md §4) ----------------------------------------------

    def _escalation(self, decided: int) -> list[dict]:
        granted = self.access["allowed"] | self.access["conditional"]
        bits = catalog.key_action_bits()
        out = []
        for path in self.access["escalations"]:
            if not granted & bits[path["action"]]:
                continue
            key_st = self.key["statements"][path["key_statement"]]
            j = path["identity_statement"]
            identity_st = self.identity_statements[j] if j is not None else None
            if path["action"] == PUT:
                gains = decided
            else:  # a grant carries what both sides' kms:GrantOperations let it
                gains = decided & _grant_ops(key_st) & (_grant_ops(identity_st) if identity_st
                                                         else grant_operations_mask())
            if gains:
                out.append({"action": path["action"], "key_statement": path["key_statement"],
                            "identity_statement": j,
                            "patterns": pattern_pointers(identity_st or key_st, bits[path["action"]]),
                            "gains": names(gains)})
        return out

    # --- statements that play no part ------------------------------------------------

    def _unrelated(self, actions: int) -> list[dict]:
        """Allows that do not reach the subject: they name others only, or they name its
        account under a condition that holds for none of its requests."""
        part = set(self.access["direct"]) | set(self.access["delegation"])
        if self.subject["kind"] not in ("identity", "account"):  # its IAM policies are not in view
            part |= set(self.account_statements)
        actions &= self.key.get("supported", actions)  # the others are no operation of the key
        return [{"index": i, "actions": names(self.key_masks[i] & actions),
                 "by_condition": i in self.account_statements and bool(st["condition"]["present"])}
                for i, st in enumerate(self.key["statements"])
                if st["effect"] == "Allow" and i not in part and self.key_masks[i] & actions]

    def _incomplete(self, actions: int) -> list[dict]:
        """Delegations to the subject's account that do not reach it: for a template
        identity, none of its identity policies allows any of their actions on the key;
        for a principal the template does not define, its IAM policies are not in view."""
        kind = self.subject["kind"]
        out = []
        for i in self.account_statements:
            given = self.key_masks[i] & actions
            if not given:
                continue
            if kind == "identity" and i in self.access["delegation"] and not given & self.identity_all or \
                    kind not in ("identity", "account") and i not in self.access["delegation"]:
                out.append({"index": i, "actions": names(given)})
        return out


def pattern_pointers(st: dict, actions: int) -> list[str]:
    """Where the statement's action patterns matching `actions` are written."""
    if st["action_mode"] != "Action":
        return [f"{st['path']}/NotAction"]
    return sorted({p["path"] for p in st["patterns"] if mask_of(p) & actions})


def _grant_ops(st: dict) -> int:
    """The grant operations a statement's kms:GrantOperations condition lets a grant carry."""
    listed = st["condition"].get("grant_operations")
    every = grant_operations_mask()
    return every if listed is None else catalog.action_mask(listed) & every
