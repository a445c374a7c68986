"""The KMS action catalog, SAM's policy-template catalog and their generator."""

from __future__ import annotations

import copy
import fnmatch
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmspolicy.bridge import catalog
from kmspolicy.bridge.catalog import (
    ALL_ACTIONS,
    action_class,
    canonical,
    classes_of,
    complement,
    expand,
    sam_catalog_source,
    sam_policy_template,
)

from .conftest import SHARED, catalog_generator, needs_shared

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "bridge" / "data"


gen = catalog_generator()

# KMS-SEMANTICS.md §6, written out literally: these lists are the spec.
USE = [
    "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext", "GenerateMac",
    "VerifyMac", "ReEncryptFrom", "ReEncryptTo", "Sign", "Verify", "DeriveSharedSecret",
]
PERMISSIONS = ["PutKeyPolicy", "CreateGrant", "RetireGrant", "RevokeGrant"]
MANAGE = [
    "CancelKeyDeletion", "ScheduleKeyDeletion", "DisableKey", "EnableKey", "EnableKeyRotation",
    "DisableKeyRotation", "RotateKeyOnDemand", "ImportKeyMaterial", "DeleteImportedKeyMaterial",
    "ReplicateKey", "SynchronizeMultiRegionKey", "UpdatePrimaryRegion", "UpdateKeyDescription",
    "CreateAlias", "UpdateAlias", "DeleteAlias", "TagResource", "UntagResource",
]
READ = [
    "DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "GetKeyLastUsage",
    "GetParametersForImport", "GetPublicKey", "ListGrants", "ListKeyPolicies",
    "ListKeyRotations", "ListResourceTags",
]
GLOBAL = [  # "not key-scoped": CreateKey, GenerateRandom, ..., and the custom-key-store actions
    "CreateKey", "GenerateRandom", "ListAliases", "ListKeys", "ListRetirableGrants",
    "DescribeCustomKeyStores", "ConnectCustomKeyStore", "CreateCustomKeyStore",
    "DeleteCustomKeyStore", "DisconnectCustomKeyStore", "UpdateCustomKeyStore",
]
SPEC = {"use": USE, "permissions": PERMISSIONS, "manage": MANAGE, "read": READ, "global": GLOBAL}


def kms(*names: str) -> list[str]:
    return sorted(f"kms:{n}" for n in names)


# ------------------------------------------------------------------------------- catalog


@needs_shared
def test_all_actions_are_the_56_of_the_reference_sorted():
    assert len(ALL_ACTIONS) == 56
    assert list(ALL_ACTIONS) == sorted(ALL_ACTIONS)
    assert isinstance(ALL_ACTIONS, tuple)
    assert catalog.ALL_ACTIONS is ALL_ACTIONS
    tsv = (SHARED / "kms-actions.tsv").read_text().splitlines()
    assert set(ALL_ACTIONS) == {line.split("\t")[0] for line in tsv[2:] if line.strip()}


@pytest.mark.parametrize("cls", sorted(SPEC))
def test_section6_class_lists(cls):
    for short in SPEC[cls]:
        assert action_class(f"kms:{short}") == cls, short
    assert classes_of(ALL_ACTIONS)[cls] == kms(*SPEC[cls])


def test_section6_covers_every_action_exactly_once():
    listed = [f"kms:{n}" for names in SPEC.values() for n in names]
    assert len(listed) == len(set(listed)) == 56
    assert set(listed) == set(ALL_ACTIONS)
    assert list(classes_of(ALL_ACTIONS)) == ["use", "permissions", "manage", "read", "global"]


def test_global_actions_are_exactly_the_resource_star_ones():
    doc = json.loads((DATA / "kms_actions.json").read_text())
    star = {a["name"] for a in doc["actions"] if a["resource_types"] == ["*"]}
    assert star == set(kms(*GLOBAL))
    assert expand("kms:*CustomKeyStore*") == kms(
        "ConnectCustomKeyStore", "CreateCustomKeyStore", "DeleteCustomKeyStore",
        "DescribeCustomKeyStores", "DisconnectCustomKeyStore", "UpdateCustomKeyStore")
    assert all(action_class(a) == "global" for a in expand("kms:*CustomKeyStore*"))


def test_action_class_any_case_and_unknown():
    assert action_class("kms:Decrypt") == "use"
    assert action_class("KMS:putkeypolicy") == "permissions"
    for bad in ("kms:Nope", "kms:*", "s3:GetObject", ""):
        with pytest.raises(KeyError):
            action_class(bad)


def test_canonical():
    assert canonical("KMS:decrypt") == "kms:Decrypt"
    assert canonical("kms:generatedatakeypairwithoutplaintext") == (
        "kms:GenerateDataKeyPairWithoutPlaintext")
    assert canonical("kms:Decrypt") == "kms:Decrypt"
    for not_an_action in ("kms:Decrypt*", "kms:Nope", "s3:GetObject", "Decrypt", "", None, 3):
        assert canonical(not_an_action) is None


# ------------------------------------------------------------------------------- expand


@pytest.mark.parametrize("pattern, expected", [
    ("kms:Decrypt", kms("Decrypt")),
    ("KMS:decrypt", kms("Decrypt")),
    ("kMs:DeCrYpT", kms("Decrypt")),
    ("kms:?ecrypt", kms("Decrypt")),
    ("kms:??crypt", kms("Decrypt", "Encrypt")),
    ("kms:?crypt", []),
    ("*:Decrypt", kms("Decrypt")),
    ("k*:Decrypt", kms("Decrypt")),
    ("???:Decrypt", kms("Decrypt")),
    ("kms:Re*", kms("ReEncryptFrom", "ReEncryptTo", "ReplicateKey", "RetireGrant",
                    "RevokeGrant")),
    ("kms:ReEncrypt*", kms("ReEncryptFrom", "ReEncryptTo")),
    ("kms:Generate*", kms("GenerateDataKey", "GenerateDataKeyPair",
                          "GenerateDataKeyPairWithoutPlaintext",
                          "GenerateDataKeyWithoutPlaintext", "GenerateMac", "GenerateRandom")),
    ("kms:generatedatakey*", kms("GenerateDataKey", "GenerateDataKeyPair",
                                 "GenerateDataKeyPairWithoutPlaintext",
                                 "GenerateDataKeyWithoutPlaintext")),
    ("kms:Decrypt*", kms("Decrypt")),
    ("kms:*Mac", kms("GenerateMac", "VerifyMac")),
    ("kms:*Grant*", kms("CreateGrant", "ListGrants", "ListRetirableGrants", "RetireGrant",
                        "RevokeGrant")),
    ("kms:Create*", kms("CreateAlias", "CreateCustomKeyStore", "CreateGrant", "CreateKey")),
    ("kms:Put*", kms("PutKeyPolicy")),
    ("kms:Decrypt?", []),
    ("kms:Nope", []),
    ("kms:", []),
    ("kms:[D]ecrypt", []),  # brackets are literal in IAM, not a character class
    ("kms:Decrypt ", []),
    ("s3:GetObject", []),
    ("dynamodb:*", []),
    ("s3:*", []),
    ("SQS:*", []),
    ("kms-fake:Decrypt", []),
    ("*s:Decrypt", kms("Decrypt")),
])
def test_expand(pattern, expected):
    assert expand(pattern) == expected


@pytest.mark.parametrize("pattern", ["*", "kms:*", "KMS:*", "*:*", "*:**", "*:?*", "k*:*"])
def test_expand_everything(pattern):
    assert expand(pattern) == list(ALL_ACTIONS)


@pytest.mark.parametrize("pattern", [
    None, 3, ["kms:Decrypt"], {"Ref": "Action"}, b"kms:Decrypt",
    "", "Decrypt", "kms", "s3.ListObjects", "**", "?", "k*", "*?",  # no colon and not "*"
])
def test_expand_malformed(pattern):
    with pytest.raises(ValueError) as info:
        expand(pattern)
    assert "\n" not in str(info.value) and str(info.value)


def test_expand_returns_a_fresh_list():
    first = expand("kms:*")
    first.clear()
    assert len(expand("kms:*")) == 56


def _reference(pattern: str) -> list[str]:
    return sorted(a for a in ALL_ACTIONS if fnmatch.fnmatchcase(a.lower(), pattern.lower()))


@st.composite
def patterns(draw):
    name = draw(st.sampled_from(
        list(ALL_ACTIONS) + ["s3:GetObject", "dynamodb:PutItem", "kmsx:Decrypt", "km:Sign"]))
    chars = [c.upper() if draw(st.booleans()) else c.lower() for c in name]
    for _ in range(draw(st.integers(0, 4))):  # substitute a run by `*` or `?`
        start = draw(st.integers(0, len(chars)))
        end = draw(st.integers(start, min(len(chars), start + 6)))
        chars[start:end] = [draw(st.sampled_from(["*", "?"]))]
    if draw(st.booleans()):  # and maybe insert one
        chars.insert(draw(st.integers(0, len(chars))), draw(st.sampled_from(["*", "?"])))
    return "".join(chars)


@settings(max_examples=400, deadline=None)
@given(patterns())
def test_expand_matches_fnmatch_reference(pattern):
    if not pattern or (":" not in pattern and pattern != "*"):
        with pytest.raises(ValueError):
            expand(pattern)
    else:
        assert expand(pattern) == _reference(pattern)


def test_expand_is_cached_by_lowered_pattern():
    corpus_like = ["kms:*", "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*",
                   "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*",
                   "kms:Delete*", "kms:Decrypt", "kms:GenerateDataKey*", "s3:*", "*"]
    first = [expand(p) for p in corpus_like]
    before = catalog._expand_lower.cache_info()
    assert [expand(p.upper()) for p in corpus_like] == first
    after = catalog._expand_lower.cache_info()
    assert after.misses == before.misses and after.hits == before.hits + len(corpus_like)


# ------------------------------------------------------------------ complement, classes_of


def test_complement_for_not_action():
    assert complement([]) == list(ALL_ACTIONS)
    rest = complement(["kms:Decrypt"])
    assert len(rest) == 55 and "kms:Decrypt" not in rest and rest == sorted(rest)
    assert complement(["KMS:DECRYPT", "kms:encrypt"]) == complement(["kms:Decrypt", "kms:Encrypt"])
    assert complement(ALL_ACTIONS) == []
    assert complement(["kms:*"]) == []
    assert complement(["*"]) == []
    # Patterns, as NotAction values are: everything but use.
    assert set(complement(expand("kms:*crypt*") + ["kms:Generate*", "kms:Sign", "kms:Verify*",
                                                   "kms:DeriveSharedSecret"])) == (
        set(ALL_ACTIONS) - set(kms(*USE)) - {"kms:GenerateRandom"})
    # Another service's actions take nothing away; a generator works as well as a list.
    assert complement(a for a in ["s3:GetObject", "kms:Decrypt"]) == rest
    assert complement("kms:Decrypt") == rest
    with pytest.raises(ValueError):
        complement(["kms:Decrypt", ""])


def test_classes_of():
    assert classes_of([]) == {}
    assert classes_of(["kms:Decrypt", "KMS:encrypt", "kms:PutKeyPolicy", "s3:GetObject"]) == {
        "use": ["kms:Decrypt", "kms:Encrypt"], "permissions": ["kms:PutKeyPolicy"]}
    # The console's key-administrator statement reaches the permission actions (§4).
    admin = ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
             "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*",
             "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
             "kms:CancelKeyDeletion"]
    got = classes_of(admin)
    assert got["permissions"] == kms("CreateGrant", "PutKeyPolicy", "RevokeGrant")
    assert "use" not in got
    assert list(got) == [c for c in catalog.CLASSES if c in got]
    assert sum(len(v) for v in classes_of(["*"]).values()) == 56


# ------------------------------------------------------------------------- SAM templates

KEY_ARN = "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${keyId}"
KEY_RESOURCE = {"Fn::Sub": [KEY_ARN, {"keyId": {"Ref": "KeyId"}}]}


@pytest.mark.parametrize("name, actions", [
    ("KMSDecryptPolicy", "kms:Decrypt"),
    ("KMSEncryptPolicy", "kms:Encrypt"),
    ("KMSEncryptPolicy_v2", ["kms:Encrypt", "kms:GenerateDataKey",
                             "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair",
                             "kms:GenerateDataKeyPairWithoutPlaintext"]),
])
def test_sam_kms_templates(name, actions):
    template = sam_policy_template(name)
    assert template["parameters"] == ["KeyId"]
    assert template["statements"] == [
        {"Effect": "Allow", "Action": actions, "Resource": KEY_RESOURCE}]


def test_sam_only_three_templates_grant_kms_actions():
    doc = json.loads((DATA / "sam_policy_templates.json").read_text())
    granting = set()
    for name in doc["templates"]:
        for statement in sam_policy_template(name)["statements"]:
            raw = statement.get("Action", [])
            for action in [raw] if isinstance(raw, str) else raw:
                if expand(action):
                    granting.add(name)
            assert "NotAction" not in statement, name
    assert granting == {"KMSDecryptPolicy", "KMSEncryptPolicy", "KMSEncryptPolicy_v2"}


def test_sam_catalog_shape_and_source():
    assert sam_catalog_source() == "aws-sam-translator 1.115.0"
    doc = json.loads((DATA / "sam_policy_templates.json").read_text())
    assert doc["source"] == sam_catalog_source()
    assert len(doc["templates"]) >= 80
    for name in ("S3ReadPolicy", "DynamoDBCrudPolicy", "SQSPollerPolicy",
                 "AWSSecretsManagerGetSecretValuePolicy"):
        template = sam_policy_template(name)
        assert template["parameters"] and template["statements"], name
    assert sam_policy_template("VPCAccessPolicy")["parameters"] == []
    assert sam_policy_template("NoSuchPolicy") is None
    assert sam_policy_template("kmsdecryptpolicy") is None  # SAM names are case-sensitive
    assert sam_policy_template(None) is None


def test_sam_template_is_a_copy():
    first = sam_policy_template("KMSDecryptPolicy")
    first["statements"].clear()
    assert sam_policy_template("KMSDecryptPolicy")["statements"]


# --------------------------------------------------------------------------- generator


@needs_shared
def test_committed_data_files_are_current(npm_managed):
    """Fails when the TSV, the installed aws-sam-translator or the pinned npm package of AWS
    managed policies changed: run `make catalogs`."""
    assert gen.check(DATA, SHARED) == [], "stale catalogs: run `make catalogs`"
    fresh = gen.generate(SHARED)
    for name, text in fresh.items():
        assert gen._target(DATA, name).read_text() == text


@needs_shared
def test_generation_is_deterministic(npm_managed):
    assert gen.generate(SHARED) == gen.generate(SHARED)
    text = gen.generate(SHARED)[gen.ACTIONS_FILE]
    assert text.endswith("}\n") and text == gen.render(json.loads(text))


def test_data_file_shape():
    doc = json.loads((DATA / "kms_actions.json").read_text())
    assert doc["source"].startswith("Source: AWS Service Authorization Reference")
    assert [a["name"] for a in doc["actions"]] == list(ALL_ACTIONS)
    decrypt = next(a for a in doc["actions"] if a["name"] == "kms:Decrypt")
    assert decrypt["access_level"] == "Write"
    assert decrypt["resource_types"] == ["key*"]
    assert decrypt["class"] == "use"
    assert "kms:EncryptionContextKeys" in decrypt["condition_keys"]
    alias = next(a for a in doc["actions"] if a["name"] == "kms:CreateAlias")
    assert alias["resource_types"] == ["alias*", "key*"]
    for action in doc["actions"]:
        if action["access_level"] == "Permissions management":
            assert action["class"] == "permissions"


@pytest.fixture
def shared_copy(tmp_path):
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (it is not part of a clone)")
    target = tmp_path / "shared"
    target.mkdir()
    shutil.copy(SHARED / "kms-actions.tsv", target / "kms-actions.tsv")
    return target


def _edit_tsv(shared: Path, old: str, new: str) -> None:
    path = shared / "kms-actions.tsv"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_check_reports_a_changed_tsv(shared_copy, capsys, npm_managed):
    assert gen.check(DATA, shared_copy) == []
    _edit_tsv(shared_copy, "kms:Decrypt\tWrite\t", "kms:Decrypt\tRead\t")
    problems = gen.check(DATA, shared_copy)
    assert len(problems) == 1
    assert problems[0].startswith("kms_actions.json") and "kms:Decrypt" in problems[0]
    assert gen.main(["--check", "--shared", str(shared_copy)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stale" in err and "kms:Decrypt" in err


def test_check_reports_a_changed_source_line(shared_copy, npm_managed):
    _edit_tsv(shared_copy, "data update Jun 2026", "data update Jul 2026")
    (problem,) = gen.check(DATA, shared_copy)
    assert "source" in problem


def test_check_reports_a_changed_translator(shared_copy, npm_managed):
    raw, version = gen.installed_sam_templates()
    assert gen.check(DATA, shared_copy, (raw, version)) == []
    bumped = gen.check(DATA, shared_copy, (raw, "9.9.9"))
    assert len(bumped) == 1 and "aws-sam-translator 9.9.9" in bumped[0]
    changed = copy.deepcopy(raw)
    changed["Templates"]["KMSDecryptPolicy"]["Definition"]["Statement"][0]["Action"] = "kms:*"
    del changed["Templates"]["S3ReadPolicy"]
    (problem,) = gen.check(DATA, shared_copy, (changed, version))
    assert problem.startswith("sam_policy_templates.json")
    assert "KMSDecryptPolicy" in problem and "S3ReadPolicy" in problem


def test_check_reports_a_missing_file(shared_copy, tmp_path, npm_managed):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(DATA / "kms_actions.json", data / "kms_actions.json")
    assert gen.check(data, shared_copy) == ["sam_policy_templates.json missing",
                                            "aws_managed_policies.json missing"]
    assert gen.main(["--shared", str(shared_copy), "--data-dir", str(data)]) == 0
    assert gen.main(["--check", "--shared", str(shared_copy), "--data-dir", str(data)]) == 0
    assert (data / "sam_policy_templates.json").read_text() == (
        DATA / "sam_policy_templates.json").read_text()


def test_new_aws_action_must_be_classified(shared_copy, capsys):
    path = shared_copy / "kms-actions.tsv"
    path.write_text(path.read_text() + "kms:ShredKey\tWrite\tkey*\tkms:CallerAccount\t\n")
    with pytest.raises(gen.CatalogError, match="kms:ShredKey"):
        gen.generate(shared_copy)
    assert gen.main(["--check", "--shared", str(shared_copy)]) == 2
    err = capsys.readouterr().err
    assert "does not classify" in err and "kms:ShredKey" in err


def test_table_action_missing_from_tsv_fails(shared_copy):
    path = shared_copy / "kms-actions.tsv"
    lines = [ln for ln in path.read_text().splitlines(keepends=True)
             if not ln.startswith("kms:GetKeyLastUsage\t")]
    path.write_text("".join(lines))
    with pytest.raises(gen.CatalogError, match="lacks: kms:GetKeyLastUsage"):
        gen.generate(shared_copy)


@pytest.mark.parametrize("old, new, message", [
    ("kms:Sign\tWrite\tkey*\t", "kms:Sign\tWrite\t*\t", "kms:Sign has resource '*'"),
    ("kms:ListKeys\tList\t*\t", "kms:ListKeys\tList\tkey*\t", "kms:ListKeys is classed 'global'"),
    ("kms:TagResource\tTagging\t", "kms:TagResource\tPermissions management\t",
     "kms:TagResource is 'Permissions management'"),
    ("kms:Verify\tWrite\t", "kms:Verify\tAdmin\t", "unknown access level"),
    ("kms:Verify\tWrite\t", "kms:Verify\t", "columns"),
])
def test_cross_checks_fail(shared_copy, old, new, message):
    _edit_tsv(shared_copy, old, new)
    with pytest.raises(gen.CatalogError, match=message):
        gen.generate(shared_copy)


def test_tsv_without_source_comment_fails(shared_copy):
    path = shared_copy / "kms-actions.tsv"
    path.write_text(path.read_text().split("\n", 1)[1])
    with pytest.raises(gen.CatalogError, match="first line"):
        gen.generate(shared_copy)


def test_action_masks_match_the_rego_catalog():
    import re

    from kmspolicy.bridge import catalog

    rego = (REPO / "policies" / "kmspolicy" / "lib" / "catalog.rego").read_text()
    table = re.search(r"key_action_bits := \{(.*?)\n\}", rego, re.S).group(1)
    in_rego = {name: int(bit) for name, bit in re.findall(r'"(kms:\w+)": (\d+)', table)}
    assert in_rego == catalog.key_action_bits()
    assert catalog.action_mask(["kms:Decrypt", "kms:Decrypt", "kms:CreateKey"]) == in_rego["kms:Decrypt"]
    assert catalog.action_mask(catalog.expand("kms:*")) == int(re.search(r"key_mask := (\d+)", rego).group(1))


def test_action_masks_stay_exact_json_numbers():
    from kmspolicy.bridge import catalog

    assert max(catalog.key_action_bits().values()) < 2 ** catalog.MAX_MASK_BITS
    with pytest.raises(ValueError, match="do not fit"):
        catalog.key_action_bits_of([f"kms:A{i}" for i in range(54)], {f"kms:A{i}": "use" for i in range(54)})


def test_the_rego_catalog_has_the_sorted_names_of_every_nibble_value():
    """lib/actionmask.rego's sorted_names reads them in order: each 4-bit chunk's value holds
    the names of its set bits, sorted, and the rows follow the bits (numbered in name order)."""
    from kmspolicy.bridge.engines.embedded import EmbeddedEngine
    from kmspolicy.bridge.pipeline import PolicySet

    policies = PolicySet.builtin()
    rows = EmbeddedEngine(policies.modules, policies.data(),
                          query="data.kmspolicy.lib.catalog.key_action_names_by_nibble").evaluate({})
    bits = catalog.key_action_bits()
    assert [row["shift"] for row in rows] == list(range(0, max(bits.values()).bit_length(), 4))
    for row in rows:
        assert len(row["names"]) == 16
        for value, names in enumerate(row["names"]):
            assert names == sorted(name for name, bit in bits.items() if (bit >> row["shift"]) & 15 & value)
    assert sorted(bits) == list(bits)  # numbered in name order: chunk after chunk stays sorted
    assert [bits[name] for name in bits] == sorted(bits.values())
