"""The statements of an AWS managed policy, normalized once per process.

An AWS managed policy is literal data (no intrinsic function), and its statements are
pinned to the reference that attaches it: every pointer in them is that reference's path.
What reading it yields then depends on the policy, the organization's own accounts
(`concrete` writes them as the template's account) and the template's key IDs alone; and
of the key IDs only in one place: a literal Resource names no template key by its ID, so a
statement's `resources.keys` is every key when `any_key` holds, none otherwise. A use gets
its own copy (JSON text with the reference's path put in) and the problems reading it
gave, as if it had been read there.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .intrinsics import KNOWN_FUNCTIONS
from .statements import PolicyContext, kms_patterns, normalize_statement, statements_of

_AT = "\x00reference\x00"
"""Where the reference's path goes in a cached reading."""
_AT_IN_JSON = json.dumps(_AT)[1:-1]
MAX_CACHED = 512
"""Readings kept (one per policy and set of own accounts); the oldest is dropped beyond."""

_cache: dict[tuple[str, frozenset[str]], tuple[str, str]] = {}


def normalized(managed: dict, path: str, ctx: PolicyContext) -> list[dict] | None:
    """The statements of `managed` (a catalog entry) that grant an action, normalized as
    identity-policy statements at `path` (index 0, no origin, only the patterns that grant
    KMS actions), their problems added to `ctx`; None when the entry is not literal data."""
    key = (managed["arn"], ctx.own_accounts)
    reading = _cache.get(key)
    if reading is None:
        if not _literal(managed["statements"]):
            return None
        reading = _read(managed["statements"], ctx)
        if len(_cache) >= MAX_CACHED:
            del _cache[next(iter(_cache))]
        _cache[key] = reading
    statements_json, problems_json = reading
    at = json.dumps(path)[1:-1]
    statements = json.loads(statements_json.replace(_AT_IN_JSON, at))
    if ctx.key_ids:
        for statement in statements:
            if statement["resources"]["any_key"]:
                statement["resources"]["keys"] = sorted(ctx.key_ids)
    ctx.problems.extend((where, message) for where, message in json.loads(problems_json.replace(_AT_IN_JSON, at)))
    return statements


def _read(statements: list, ctx: PolicyContext) -> tuple[str, str]:
    """The statements read at the placeholder path with no template key, as JSON, and the
    problems reading them gave (an identity policy's statement is never refused as a key
    policy's is: `refused` stays empty)."""
    alone = dataclasses.replace(ctx, key_ids=[], problems=[], refused=[])
    out = []
    for statement, _ in statements_of({"Statement": statements}, _AT, alone):
        normalized_ = normalize_statement(statement, _AT, 0, alone, key_policy=False, element_path=_AT)
        if normalized_ is not None and normalized_["actions"]:
            normalized_["patterns"] = kms_patterns(normalized_)  # as an identity's statement keeps them
            out.append(normalized_)
    return json.dumps(out), json.dumps(alone.problems)


def _literal(value: Any) -> bool:
    """Whether a value holds no intrinsic function (which the template would resolve)."""
    if isinstance(value, list):
        return all(_literal(item) for item in value)
    if isinstance(value, dict):
        if len(value) == 1 and (next(iter(value)) in KNOWN_FUNCTIONS or str(next(iter(value))).startswith("Fn::")):
            return False
        return all(_literal(item) for item in value.values())
    return True
