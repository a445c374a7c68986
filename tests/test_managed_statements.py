"""AWS managed policies read once per process: each use gets what reading it there gives."""

from __future__ import annotations

import json

import pytest

from kmspolicy.bridge import catalog, managed_statements
from kmspolicy.bridge.intrinsics import Resolver
from kmspolicy.bridge.statements import PolicyContext, kms_patterns, normalize_statement, statements_of

REFERENCE = "/Resources/Role/Properties/ManagedPolicyArns/0"


def _context(key_ids: list[str], own_accounts: frozenset[str] = frozenset()) -> PolicyContext:
    return PolicyContext(Resolver({}), lambda *_: None, key_ids, own_accounts=own_accounts)


def _read_here(managed: dict, path: str, ctx: PolicyContext) -> list[dict]:
    """What identity_policies read before the cache: every statement at the reference, with
    the patterns it keeps of an identity's statement (those that grant KMS actions)."""
    out = []
    for statement, _ in statements_of({"Statement": managed["statements"]}, path, ctx):
        normalized = normalize_statement(statement, path, 0, ctx, key_policy=False, element_path=path)
        if normalized is not None and normalized["actions"]:
            normalized["patterns"] = kms_patterns(normalized)
            out.append(normalized)
    return out


@pytest.mark.parametrize("key_ids, own_accounts", [
    ([], frozenset()),
    (["KeyA", "KeyB"], frozenset()),
    (["Key"], frozenset({"123456789012"})),
])
def test_every_catalog_policy_reads_as_it_does_in_place(key_ids, own_accounts):
    names = sorted(catalog._managed()["policies"])
    for path in (REFERENCE, "/Resources/Fn~1x/Properties/ManagedPolicyArns/3/Fn::If/1"):
        for name in names:
            managed = catalog.aws_managed_policy_named(name)
            expected_ctx, cached_ctx = _context(key_ids, own_accounts), _context(key_ids, own_accounts)
            expected = _read_here(managed, path, expected_ctx)
            cached = managed_statements.normalized(managed, path, cached_ctx)
            assert cached == expected, name  # no tuple read back as a list
            assert json.dumps(cached) == json.dumps(expected), name  # nor keys in another order
            assert cached_ctx.problems == expected_ctx.problems, name


def test_each_use_gets_its_own_copy():
    managed = catalog.aws_managed_policy_named("AdministratorAccess")
    first = managed_statements.normalized(managed, REFERENCE, _context(["Key"]))
    first[0]["condition"]["block"] = None
    first[0]["actions"].clear()
    second = managed_statements.normalized(managed, REFERENCE, _context(["Key"]))
    assert second == _read_here(managed, REFERENCE, _context(["Key"]))


def test_problems_are_given_at_each_reference():
    managed = {"arn": "arn:aws:iam::aws:policy/Broken", "name": "Broken",
               "statements": [{"Effect": "allow", "Action": "kms:Decrypt", "Resource": "*"},
                              {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}
    for path in ("/Resources/A/Properties/ManagedPolicyArns/0", "/Resources/B/Properties/ManagedPolicyArns/1"):
        ctx = _context(["Key"])
        statements = managed_statements.normalized(managed, path, ctx)
        assert [s["path"] for s in statements] == [path]
        assert statements[0]["resources"]["keys"] == ["Key"]
        assert ctx.problems == [(path, "Effect must be Allow or Deny (case-sensitive), got 'allow'")]


def test_an_entry_with_an_intrinsic_function_is_not_cached():
    managed = {"arn": "arn:aws:iam::aws:policy/WithRef", "name": "WithRef",
               "statements": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": {"Ref": "Key"}}]}
    assert managed_statements.normalized(managed, REFERENCE, _context(["Key"])) is None
