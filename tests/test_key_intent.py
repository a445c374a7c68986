"""Each key's intent resolved in the bridge (bridge/key_intent.py) is what lib/intent.rego
infers from the same input: the lib's tables agree with and without `intent_resolved`, on
every template with a key of the examples, tests/data and the shared corpus and on random
inputs, with and without administrator patterns in the config, on both engines."""

from __future__ import annotations

import copy
import random
import sys
from pathlib import Path

import pytest

from kmspolicy.bridge import key_intent
from kmspolicy.bridge.catalog import key_action_bits
from kmspolicy.bridge.engines.embedded import EmbeddedEngine
from kmspolicy.bridge.load import TemplateError, load_template
from kmspolicy.bridge.normalize import normalize
from kmspolicy.bridge.pipeline import PolicySet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from bench import template_files  # noqa: E402

QUERY = ('{kid: {"admins": data.kmspolicy.lib.intent.admin_ids[kid], '
         '"users": data.kmspolicy.lib.intent.user_ids[kid], '
         '"intended_users": data.kmspolicy.lib.intent.intended_user_ids[kid]} | '
         'some kid in data.kmspolicy.lib.ids.keys}')
CONFIGS = [{}, {"admins": ["arn:aws:iam::*:role/*Admin*", "identity:*Deploy*"]}]


@pytest.fixture(scope="module", params=[(c, e) for c in range(len(CONFIGS)) for e in ("embedded", "opa")],
                ids=lambda p: f"{['no-admin-patterns', 'admin-patterns'][p[0]]}-{p[1]}")
def intent_of(request):
    config, engine = CONFIGS[request.param[0]], request.param[1]
    policies = PolicySet.builtin(config=config)
    if engine == "embedded":
        return config, EmbeddedEngine(*policies.embedded_program(), query=QUERY).evaluate
    pytest.importorskip("opa_bindings", reason="OPA's own evaluator (opa-golib-python-bindings)")
    from kmspolicy.bridge.engines.opa_golib import OpaGolibEngine

    query_module = f"package kmspolicy_test_intent\n\nresolved := {QUERY}\n"
    opa = OpaGolibEngine({**policies.modules, "intent_query.rego": query_module}, policies.data(),
                         query="data.kmspolicy_test_intent.resolved")
    return config, opa.evaluate


def _bare(input_doc: dict) -> dict:
    doc = copy.deepcopy(input_doc)
    for key in doc["keys"].values():
        key.pop("intent_resolved", None)
    return doc


def _check(input_doc: dict, config: dict, evaluate) -> None:
    resolved = copy.deepcopy(_bare(input_doc))
    key_intent.resolve(resolved, config)
    inferred = evaluate(_bare(input_doc))
    assert evaluate(resolved) == inferred
    for kid, key in resolved["keys"].items():
        for field, ids in key["intent_resolved"].items():
            assert ids == sorted(inferred[kid][field]), (kid, field)
        assert ("admins" in key["intent_resolved"]) == (not config or bool(key["intent"]["admins"]))


def _template_inputs() -> list[tuple[str, dict]]:
    folders = [ROOT / "examples", ROOT / "tests" / "data", ROOT.parent / "shared" / "corpus"]
    found = []
    for path in [p for folder in folders if folder.is_dir() for p in template_files(folder)]:
        try:
            document = load_template(str(path)).document
        except TemplateError:
            continue
        if isinstance(document, dict) and isinstance(document.get("Resources"), dict):
            input_doc = normalize(document, path.name, {}).input
            if input_doc["keys"]:
                found.append((str(path.relative_to(ROOT.parent)), input_doc))
    return found


def test_every_template_with_a_key_resolves_as_the_lib_infers(intent_of):
    config, evaluate = intent_of
    inputs = _template_inputs()
    assert len(inputs) > 80
    for name, input_doc in inputs:
        try:
            _check(input_doc, config, evaluate)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None


# -- random inputs ------------------------------------------------------------------------------

_NAMES = sorted(key_action_bits())
_PICKS = ["kms:Decrypt", "kms:Encrypt", "kms:PutKeyPolicy", "kms:CreateGrant", "kms:DisableKey",
          "kms:ScheduleKeyDeletion", "kms:DescribeKey", "kms:ListGrants", "kms:TagResource"]


def _mask(rng: random.Random) -> int:
    bits = key_action_bits()
    chosen = rng.sample(_PICKS, rng.randint(0, 3)) + rng.sample(_NAMES, rng.randint(0, 2))
    return sum(bits[name] for name in set(chosen))


def _principal(rng: random.Random, identities: list[str]) -> dict:
    kind = rng.choice(["account", "any", "service", "unknown", "role", "user", "assumed-role", "identity",
                       "federated", "role"])
    raw = rng.choice(["arn:aws:iam::111122223333:role/Admin", "arn:aws:iam::111122223333:role/aws-service-role/x",
                      "arn:aws:iam::111122223333:user/u", "role/aws-service-role/y", "*"])
    pid = f"identity:{rng.choice(identities)}" if kind == "identity" and identities else f"{kind}:{rng.randint(0, 4)}"
    return {"id": pid, "kind": kind, "raw": raw}


def _key_statement(rng: random.Random, identities: list[str]) -> dict:
    statement = {"effect": rng.choice(["Allow", "Allow", "Deny"]),
                 "principal_mode": rng.choice(["Principal", "Principal", "NotPrincipal"]),
                 "principals": [_principal(rng, identities) for _ in range(rng.randint(0, 3))]}
    if rng.random() < 0.9:
        statement["action_mask"] = _mask(rng)
    else:
        statement["actions"] = rng.sample(_PICKS, rng.randint(0, 3))
    return statement


def _identity_statement(rng: random.Random, keys: list[str]) -> dict:
    resources = rng.choice([{"any_key": True, "keys": keys}, {"any_key": False, "keys": rng.sample(keys, 1)},
                            {"keys": []}, {"keys": [], "meant_keys": rng.sample(keys, 1)}, {"any_key": False}])
    return {"effect": rng.choice(["Allow", "Allow", "Deny"]), "action_mask": _mask(rng), "resources": resources}


def _random_input(rng: random.Random) -> dict:
    keys = [f"Key{i}" for i in range(rng.randint(1, 3))]
    identities = [f"Fn{i}" for i in range(rng.randint(0, 3))]
    subject_pool = [f"role:{i}" for i in range(5)] + [f"identity:{i}" for i in identities] + ["user:1"]
    doc = {"keys": {}, "identities": {iid: {"statements": [_identity_statement(rng, keys)
                                                          for _ in range(rng.randint(0, 3))]}
                                      for iid in identities}}
    for kid in keys:
        doc["keys"][kid] = {
            "id": kid,
            "statements": [_key_statement(rng, identities) for _ in range(rng.randint(0, 4))],
            "referenced_by": rng.sample(identities, rng.randint(0, len(identities))),
            "intent": {"admins": rng.sample(subject_pool, rng.choice([0, 0, 1, 2])),
                       "users": rng.sample(subject_pool, rng.choice([0, 0, 1, 2]))},
            "subjects": {},
        }
    return doc


@pytest.mark.parametrize("seed", range(300))
def test_random_inputs_resolve_as_the_lib_infers(intent_of, seed):
    config, evaluate = intent_of
    _check(_random_input(random.Random(seed)), config, evaluate)
