"""A statement's Condition for one subject and each of its actions.

Some condition keys are in a request only for some actions (kms:GrantOperations only for
CreateGrant, kms:EncryptionContext… only for operations that take a context: the Service
Authorization Reference lists them per action, `kms-actions.tsv`). The statement's actions
are split by which of the keys its Condition mentions are present, each part evaluated
once (facts.evaluate), and the answers joined.
"""

from __future__ import annotations

from functools import lru_cache

from .. import catalog
from . import tri
from .facts import Absent, evaluate
from .tri import COND, NO, YES, Answer

# Keys of the key resource itself (the Service Authorization Reference lists them under the
# key resource type, not per action): in every request on the key. Every other kms: key —
# kms:CallerAccount and kms:ViaService included, which the reference does not list for
# kms:SynchronizeMultiRegionKey — is absent from requests of actions that do not list it.
GENERAL_KEYS = frozenset({"kms:keyspec", "kms:keyusage", "kms:keyorigin", "kms:multiregion",
                          "kms:multiregionkeytype"})


@lru_cache(maxsize=1)
def _action_keys() -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """({action: its request condition keys, generalized}, every such key)."""
    per_action = {}
    for action in catalog.key_action_bits():
        per_action[action] = frozenset(_general(k) for k in catalog.condition_keys(action))
    every = frozenset(k for k in frozenset().union(*per_action.values())
                      if k.startswith("kms:")) - GENERAL_KEYS
    return per_action, every


def _general(key: str) -> str:
    """`kms:EncryptionContext:purpose` → `kms:encryptioncontext:*` (and the catalog's
    `${EncryptionContextKey}` form likewise)."""
    lowered = key.lower()
    head, sep, _ = lowered.partition(":")
    rest = lowered[len(head) + 1:]
    if head in ("kms", "aws") and ":" in rest:
        return f"{head}:{rest.split(':', 1)[0]}:*"
    if "/" in rest:
        return f"{head}:{rest.split('/', 1)[0]}/*"
    return lowered


class Evaluator:
    def outcome(self, statement: dict, mask: int, context: dict) -> Answer:
        condition = (statement.get("condition") or {}).get("block")
        if not condition:
            return tri.of(mask, YES)
        mentioned = {k.lower() for block in condition.values() if isinstance(block, dict) for k in block}
        per_action, every = _action_keys()
        specific = {k for k in mentioned if _general(k) in every}
        if not specific:
            return tri.of(mask, _value(evaluate(condition, context)))
        answer = tri.NOTHING
        for absent, part in _partition(mask, specific, per_action).items():
            ctx = {**context, **{k: Absent() for k in absent}}
            answer = answer | tri.of(part, _value(evaluate(condition, ctx)))
        return answer


def _partition(mask: int, specific: set[str], per_action: dict) -> dict[frozenset, int]:
    """Actions of `mask` grouped by which of the `specific` keys their requests lack."""
    groups: dict[frozenset, int] = {}
    for action, bit in catalog.key_action_bits().items():
        if mask & bit:
            absent = frozenset(k for k in specific if _general(k) not in per_action[action])
            groups[absent] = groups.get(absent, 0) | bit
    return groups


def _value(outcome) -> str:
    if outcome.value is True:
        return YES
    if outcome.value is False:
        return NO
    return COND


def default_evaluator() -> Evaluator:
    return Evaluator()
