"""Template document → the rules' input (schema v2: bridge/schema/input-v2.json)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from . import access, foreach, key_intent, sam, schema, variant
from .access import concrete
from .cdk.assembly import with_account
from .identity_policies import IdentityPolicies
from .intrinsics import IntrinsicError, Resolver, Sym, SymStr, is_intrinsic, literal, referenced_ids
from .policy_documents import is_json_text, json_document
from .policy_validity import size_problem, version_problem
from .principals import PrincipalError, from_aws_value
from .raw_properties import identity_raw, key_aliases, key_raw
from .scenarios import Scenario
from .statements import (
    PolicyContext,
    key_principal_problem,
    normalize_statement,
    pointer,
    statements_of,
)
from .suppressions import ecosystem_suppressions
from .template_checks import HidingScans, macro_message, template_problems

KEY_TYPES = ("AWS::KMS::Key", "AWS::KMS::ReplicaKey")
SCHEMA_VERSION = 2


@dataclass
class Normalized:
    input: dict
    problems: list[tuple[str, str]]  # (JSON pointer, message): parts that could not be read


def normalize(document: dict, file: str, parameters: dict[str, str] | None = None,
              config: dict | None = None, scenario: Scenario | None = None,
              account: str | None = None, scans: HidingScans | None = None) -> Normalized:
    """The rules' input, with the effective access of every key, for one deployable
    variant of the template: `scenario` (from `scenarios.plan`) picks every Fn::If branch,
    drops the resources whose Condition is false and the AWS::NoValue properties; None
    unions the Fn::If alternatives. Fn::ForEach loops the template determines are
    expanded. Pointers are the file's own either way. `account`: the literal account the
    template is known to be deployed to (a CDK stack's environment), its own as
    AWS::AccountId is (the input's `accounts`). `scans`: the template's HidingScans, shared
    by its variants (made here when not given)."""
    if account is None:
        return normalize_variant(document, file, parameters, config, scenario, scans=scans)[0]
    normalized = normalize_variant(document, file, parameters, with_account(config, account), scenario,
                                   scans=scans)[0]
    normalized.input["accounts"] = [account]
    return normalized


def normalize_variant(document: dict, file: str, parameters: dict[str, str] | None = None,
                      config: dict | None = None, scenario: Scenario | None = None,
                      keep_conditions: bool = False, scans: HidingScans | None = None,
                      ) -> tuple[Normalized, _Normalizer]:
    """`normalize`, and the normalizer that read the variant (its resolver and identity
    links resolve principals the template does not name: `kmspolicy explain`)."""
    view, remap = foreach.expand(document, parameters)
    if scenario is not None:
        parameters = {**dict(scenario.parameters), **(parameters or {})}
        view, chosen = variant.choose(view, scenario.truth())
        remap = variant.Remap(chosen.prefixes, then=remap)
    normalizer = _Normalizer(view, file, parameters, config, scans if scans is not None else _scans_for(document))
    if scenario is not None and not keep_conditions:
        result = _with_access_once(normalizer.run(), config)
    else:
        result = with_access(normalizer.run(), config, keep_conditions)
    if not remap:
        return result, normalizer
    return Normalized(remap.data(result.input), [(remap.pointer(p), m) for p, m in result.problems]), normalizer


_scans_of: list = [None, None]  # one template's document and its HidingScans, so memory stays flat


def _scans_for(document: dict) -> HidingScans:
    """The scans its variants share (another template's are dropped)."""
    if _scans_of[0] is not document:
        _scans_of[:] = [document, HidingScans()]
    return _scans_of[1]


def with_access(normalized: Normalized, config: dict | None = None, keep_conditions: bool = False) -> Normalized:
    """Add the access model's answers (bridge/access) and each key's resolved intent
    (key_intent.py) to a normalized template. The concrete Condition blocks the access
    model read are dropped unless `keep_conditions` (more subjects to evaluate later)."""
    access.compute(normalized.input, config)
    key_intent.resolve(normalized.input, config)
    if not keep_conditions:
        _drop_condition_blocks(normalized.input)
    return normalized


MAX_ACCESS_KEPT = 32
"""Inputs whose access answers are kept for the variants that follow (the oldest dropped)."""
_access_kept: dict[str, str] = {}


def _with_access_once(normalized: Normalized, config: dict | None) -> Normalized:
    """`with_access` for one variant of a template with Conditions. Conditions that touch no
    key or identity give several variants the same input, and the access model's answers
    depend on the input and the configuration alone: a variant whose input (as JSON text)
    was seen gets a copy of what was computed for it."""
    try:
        seen_as = json.dumps([normalized.input, config])
    except (TypeError, ValueError):
        return with_access(normalized, config)
    done = _access_kept.get(seen_as)
    if done is not None:
        return Normalized(json.loads(done), normalized.problems)
    result = with_access(normalized, config)
    text = json.dumps(result.input)
    if json.loads(text) == result.input:  # a copy is what was computed (no tuples, no other keys)
        if len(_access_kept) >= MAX_ACCESS_KEPT:
            del _access_kept[next(iter(_access_kept))]
        _access_kept[seen_as] = text
    return result


def _drop_condition_blocks(input_doc: dict) -> None:
    """The concrete Condition blocks serve the access model only; rules read its answers."""
    statements = [st for key in input_doc["keys"].values() for st in key["statements"]]
    for identity in input_doc["identities"].values():
        statements += identity["statements"] + ((identity.get("boundary") or {}).get("statements") or [])
    for st in statements:
        st["condition"].pop("block", None)


class _Normalizer:
    def __init__(self, document: dict, file: str, parameters: dict[str, str] | None,
                 config: dict | None = None, scans: HidingScans | None = None):
        self.document = document
        self.scans = scans
        self.file = file
        self.resolver = Resolver(document, parameters)
        resources = document.get("Resources")
        self.resources: dict = resources if isinstance(resources, dict) else {}
        # a key whose Properties are not a mapping is an error (template_checks), not a
        # key with the default policy
        self.key_ids = sorted(rid for rid, r in self._typed(KEY_TYPES)
                              if isinstance(r.get("Properties", {}), dict)
                              and not is_intrinsic(r.get("Properties")))
        self.identities: dict[str, dict] = {}
        self.names: dict[tuple[str, str], str] = {}
        own_accounts = frozenset(str(a) for a in (config or {}).get("accounts") or [])
        self.ctx = PolicyContext(self.resolver, self.link, self.key_ids, namer=self.concrete_name,
                                 own_accounts=own_accounts)

    # --- helpers -------------------------------------------------------------

    def _typed(self, types) -> list[tuple[str, dict]]:
        return [(rid, r) for rid, r in self.resources.items()
                if isinstance(r, dict) and r.get("Type") in types]

    def _props(self, resource: dict) -> dict:
        props = resource.get("Properties")
        return props if isinstance(props, dict) else {}

    def problem(self, path: str, message: str) -> None:
        self.ctx.problem(path, message)

    def link(self, kind: str, name: SymStr, resource: str | None) -> str | None:
        """The template identity a principal designates, if any."""
        if kind == "getatt":
            return resource if resource in self.identities else None
        if len(name) == 1 and isinstance(name[0], Sym) and name[0].kind == "ref":
            target = name[0].value
            found = self.identities.get(target)
            return target if found and found["kind"] == kind else None
        text = literal(name)
        return self.names.get((kind, text)) if text is not None else None

    def concrete_name(self, resource: str, attribute: str) -> str | None:
        """The deploy-time ARN ("Arn") or name ("Ref") of a template role, user or key, as
        condition evaluation compares it (access/concrete.py)."""
        if resource in self.key_ids:
            return concrete.key_arn(resource) if attribute == "Arn" else (
                concrete.key_id_of(resource) if attribute in ("Ref", "KeyId") else None)
        identity = self.identities.get(resource)
        if identity is None or identity["kind"] not in ("role", "user"):
            return None
        name = identity.get("name")
        if attribute == "Arn":
            return concrete.identity_arn(identity["kind"], resource, name, identity.get("iam_path") or "/")
        if attribute == "Ref":
            return name if name is not None else concrete.generated_name(resource)
        return None

    def _reference_target(self, value: Any, kinds: tuple[str, ...]) -> str | None:
        """A Ref/GetAtt/literal name pointing at a template identity of one of `kinds`."""
        if isinstance(value, dict) and list(value) == ["Ref"] and isinstance(value["Ref"], str) \
                and value["Ref"] in self.identities:
            return value["Ref"] if self.identities[value["Ref"]]["kind"] in kinds else None
        if isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
            arg = value["Fn::GetAtt"]
            target = arg[0] if isinstance(arg, list) and arg else None
            if isinstance(target, str) and target in self.identities and \
                    self.identities[target]["kind"] in kinds:
                return target
            return None
        if isinstance(value, str):
            for kind in kinds:
                if (kind, value) in self.names:
                    return self.names[(kind, value)]
            if value.startswith("arn:"):
                last = value.rsplit("/", 1)[-1]
                for kind in kinds:
                    if (kind, last) in self.names:
                        return self.names[(kind, last)]
        return None

    # --- run -----------------------------------------------------------------

    def run(self) -> Normalized:
        policies = IdentityPolicies(self)
        policies.declare()
        policies.collect()
        keys = {kid: self._key(kid, self.resources[kid]) for kid in self.key_ids}
        self._mark_references(keys)
        aliases = key_aliases(self.resources, self.resolver, self.key_ids)
        for kid, key in keys.items():
            key["raw"] = key_raw(kid, self.resources[kid], self._props(self.resources[kid]),
                                 self.resolver, aliases[kid])
        self.ctx.problems.extend(template_problems(self.document, self.resolver, self.ctx.problems, self.scans))
        data = {
            "schema_version": SCHEMA_VERSION,
            "file": self.file,
            "sam": _is_sam(self.document),
            "keys": keys,
            "identities": {iid: {**_public_identity(i), "raw": identity_raw(i, self.resources, self.resolver)}
                           for iid, i in sorted(self.identities.items())},
        }
        return Normalized(data, self.ctx.problems)

    # --- keys ----------------------------------------------------------------

    def _key(self, kid: str, resource: dict) -> dict:
        props = self._props(resource)
        base = pointer("Resources", kid)
        ppath = f"{base}/Properties"
        key = {
            "id": kid, "type": resource["Type"], "path": base,
            "key_spec": self._text(props, "KeySpec", "SYMMETRIC_DEFAULT"),
            "key_usage": self._text(props, "KeyUsage", "ENCRYPT_DECRYPT"),
            "origin": self._text(props, "Origin", "AWS_KMS"),
            "rotation": _only(self._flag(props, "EnableKeyRotation")),
            "custom_key_store": props.get("CustomKeyStoreId") is not None,
            "rotation_path": f"{ppath}/EnableKeyRotation" if "EnableKeyRotation" in props else None,
            "pending_window": _integer(props.get("PendingWindowInDays")),
            "bypass_lockout": self._flag(props, "BypassPolicyLockoutSafetyCheck") == {True},
            "bypass_path": f"{ppath}/BypassPolicyLockoutSafetyCheck"
            if "BypassPolicyLockoutSafetyCheck" in props else None,
            "multi_region": self._flag(props, "MultiRegion") == {True},
            "enabled": self._flag(props, "Enabled") != {False},
            "policy_path": f"{ppath}/KeyPolicy" if "KeyPolicy" in props else None,
            "default_policy": "KeyPolicy" not in props,
            "statements": [],
            "referenced_by": [],
        }
        rotation = self._flag(props, "EnableKeyRotation")
        if "EnableKeyRotation" in props and rotation != {True} and key["rotation"] is None:
            key["rotation_possibly_off"] = True  # a parameter, a condition, an unknown value
        if "BypassPolicyLockoutSafetyCheck" in props and not key["bypass_lockout"] and \
                self._flag(props, "BypassPolicyLockoutSafetyCheck") != {False}:
            key["bypass_lockout_possible"] = True
        before, refused_before = len(self.ctx.problems), len(self.ctx.refused)
        if "KeyPolicy" in props:
            key["statements"] = self._key_statements(props["KeyPolicy"], f"{ppath}/KeyPolicy")
        else:
            key["statements"] = [self._default_statement(base)]
        refused = self.ctx.refused[refused_before:]
        key["policy_complete"] = len(self.ctx.problems) == before and not any(r["dropped"] for r in refused)
        key["invalid"] = [{k: r[k] for k in ("path", "message", "outcome")} for r in refused]
        key["intent"], key["suppress"] = self._intent(kid, resource)
        key["subjects"] = self._subjects(key)
        return key

    def _subjects(self, key: dict) -> dict:
        """Everyone whose access to the key is worth computing, by subject id."""
        subjects = {"account:self": _subject("account:self", "account", "self",
                                             "any IAM principal of this account")}
        for iid, identity in self.identities.items():
            if identity["kind"] != "group":
                sid = f"identity:{iid}"
                subjects[sid] = _subject(sid, "identity", "self", identity["label"], iid)
        for statement in key["statements"]:
            for p in statement["principals"]:
                if p["id"] in subjects:
                    continue
                label = ("any IAM principal of account " + p["account"]) if p["kind"] == "account" \
                    else p["raw"]
                subjects[p["id"]] = _subject(p["id"], p["kind"], p["account"], label)
        for sid, subject in _condition_subjects(key["statements"]).items():
            subjects.setdefault(sid, subject)
        for sid in key["intent"]["admins"] + key["intent"]["users"]:
            if sid not in subjects:
                kind = sid.split(":", 1)[0] if ":" in sid else "any"
                parts = sid.split(":")
                account = parts[1] if kind in ("role", "user", "assumed-role", "account") else ""
                subjects[sid] = _subject(sid, kind, account, sid)
        return dict(sorted(subjects.items()))

    def _key_statements(self, policy: Any, path: str) -> list[dict]:
        pinned = is_json_text(policy)
        if pinned:
            policy = json_document(policy, path, self.ctx)
            if policy is None:
                return []
        if isinstance(policy, dict) and list(policy) == ["Fn::Transform"]:
            self.problem(f"{path}/Fn::Transform",
                         macro_message(policy["Fn::Transform"], "Fn::Transform"))
            return []
        if isinstance(policy, dict) and len(policy) == 1 and next(iter(policy)).startswith("Fn::"):
            self.problem(path, f"KeyPolicy built with {next(iter(policy))} cannot be analyzed statically")
            return []
        if isinstance(policy, dict):
            self._document_validity(policy, path, pinned)
        out = []
        for statement, spath in statements_of(policy, path, self.ctx):
            normalized = normalize_statement(statement, path if pinned else spath, len(out), self.ctx,
                                             key_policy=True, element_path=path if pinned else None)
            if normalized is not None:
                normalized["origin"] = None
                out.append(normalized)
        too_many = key_principal_problem(out)
        if too_many:
            self.problem(path, too_many)
            return []
        return out

    def _document_validity(self, policy: dict, path: str, pinned: bool) -> None:
        """What KMS refuses in the key policy as a whole (its statements are checked one by one)."""
        version = version_problem(policy)
        if version:
            self.ctx.refuse(path if pinned else f"{path}/Version", version, dropped=False)
        size = size_problem(policy)
        if size:
            self.ctx.refuse(path, size, dropped=False)

    def _default_statement(self, base: str) -> dict:
        default = {"Sid": "Default key policy (no KeyPolicy property)", "Effect": "Allow",
                   "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                   "Action": "kms:*", "Resource": "*"}
        statement = normalize_statement(default, base, 0, self.ctx, key_policy=True, element_path=base)
        statement["origin"] = {"kind": "default-key-policy"}
        return statement

    def _flag(self, props: dict, name: str) -> set[bool]:
        """The values a Boolean property may take: {} when absent; both when a parameter,
        an Fn::If, an unknown value or an unsure reading leaves it open."""
        if name not in props:
            return set()
        value = props[name]
        if not isinstance(value, dict):
            return _readings(value)
        try:
            alternatives = self.resolver.strings(value)
        except IntrinsicError:
            return {True, False}
        out: set[bool] = set()
        for alt in alternatives:
            text = literal(alt)
            out |= _readings(text) if text is not None else {True, False}
        return out or {True, False}

    def _text(self, props: dict, name: str, default: str) -> str | None:
        """A string property (KeySpec…): its default when absent, None when unresolved."""
        if name not in props:
            return default
        value = props[name]
        if isinstance(value, str):
            return value
        try:
            alternatives = {literal(alt) for alt in self.resolver.strings(value)}
        except IntrinsicError:
            return None
        return alternatives.pop() if len(alternatives) == 1 else None

    def _mark_references(self, keys: dict) -> None:
        for iid, identity in self.identities.items():
            for statement in identity["statements"]:
                resources = statement["resources"] or {}
                if statement["effect"] == "Allow" and not resources.get("any_key") and _may_use(statement):
                    for kid in resources.get("keys", []):
                        _add_unique(keys[kid]["referenced_by"], iid)
        for rid, resource in self.resources.items():
            if not isinstance(resource, dict) or rid in keys:
                continue
            role = self._role_of(rid, resource)
            if role is None:
                continue
            # A workload that hands the key to its code (an environment variable) means to
            # use it; other properties (KmsKeyArn, ...) are used by the service itself.
            mentioned = referenced_ids(self._props(resource).get("Environment"), set(keys))
            for kid in sorted(mentioned):
                _add_unique(keys[kid]["referenced_by"], role)

    def _role_of(self, rid: str, resource: dict) -> str | None:
        if resource.get("Type") in sam.SAM_ROLE_OWNERS and "Role" not in self._props(resource):
            return sam.implicit_role_id(rid)
        role = self._props(resource).get("Role")
        return self._reference_target(role, ("role",)) if role is not None else None

    # --- intent --------------------------------------------------------------

    def _intent(self, kid: str, resource: dict) -> tuple[dict, list[dict]]:
        metadata = resource.get("Metadata")
        block = metadata.get("kmspolicy") if isinstance(metadata, dict) else None
        path = pointer("Resources", kid, "Metadata", "kmspolicy")
        intent = {"declared": False, "admins": [], "users": [], "root": None, "path": None}
        suppress = ecosystem_suppressions(kid, metadata, self.document.get("Metadata"))
        if block is None:
            return intent, suppress
        error = schema.first_error(block, "intent-v1")
        if error is not None:
            where, message = error
            self.problem(path + where, f"Metadata.kmspolicy: {message}")
            return intent, suppress
        intent["path"] = path
        for role in ("admins", "users"):
            if role in block:
                intent[role] = self._intent_subjects(block[role], f"{path}/{role}")
        intent["root"] = block.get("root")
        intent["declared"] = any(k in block for k in ("admins", "users", "root"))
        suppress += [{"rule": item["rule"], "reason": item["reason"], "path": f"{path}/suppress/{i}",
                      "source": "kmspolicy"} for i, item in enumerate(block.get("suppress", []))]
        return intent, suppress

    def _intent_subjects(self, value: Any, path: str) -> list[str]:
        if not isinstance(value, list):
            value = [value]
        out = []
        for i, item in enumerate(value):
            ipath = f"{path}/{i}"
            sid = self._subject_of(item, ipath)
            if sid:
                _add_unique(out, sid)
        return out

    def _subject_of(self, item: Any, path: str) -> str | None:
        if isinstance(item, str) and item in self.resources:
            resource = self.resources[item]
            if item in self.identities:
                return f"identity:{item}"
            role = self._role_of(item, resource) if isinstance(resource, dict) else None
            if role:
                return f"identity:{role}"
            self.problem(path, f"'{item}' is not a role, user, function or state machine")
            return None
        if isinstance(item, str) and item in self.identities:
            return f"identity:{item}"
        try:
            alternatives = self.resolver.strings(item)
            return from_aws_value(alternatives[0], path, self.link)["id"] if alternatives else None
        except (IntrinsicError, PrincipalError) as exc:
            self.problem(path, f"intent entry is neither a logical ID nor a principal ARN: {exc}")
            return None


def _subject(sid: str, kind: str, account: str, label: str, identity: str | None = None) -> dict:
    return {"id": sid, "kind": kind, "account": account, "label": label, "identity": identity}


CALLER_ACCOUNT_KEYS = ("aws:principalaccount", "kms:calleraccount")
PRINCIPAL_ARN = re.compile(r"arn:aws[\w-]*:iam::(\d{12}):(role|user)/(?:[\w+=,.@/-]*/)?([\w+=,.@-]+)")


def _condition_subjects(statements: list[dict]) -> dict:
    """Principals an Allow statement singles out by its condition: the roles and users of
    aws:PrincipalArn, and for `*` the accounts of kms:CallerAccount/aws:PrincipalAccount
    and the other accounts of the organizations of aws:PrincipalOrgID. Their access is
    computed like that of principals named outright."""
    out: dict = {}
    for st in statements:
        if st["effect"] != "Allow":
            continue
        to_anyone = any(p["kind"] == "any" for p in st["principals"])
        for block in (st["condition"].get("block") or {}).values():
            for key, values in (block.items() if isinstance(block, dict) else ()):
                if key.lower() in CALLER_ACCOUNT_KEYS + ("aws:principalorgid",) and not to_anyone:
                    continue
                for value in values if isinstance(values, list) else [values]:
                    subject = _singled_out(key.lower(), value)
                    if subject is not None:
                        out.setdefault(subject["id"], subject)
    return out


def _singled_out(key: str, value: Any) -> dict | None:
    if not isinstance(value, str) or "*" in value or "?" in value:
        return None
    if key in CALLER_ACCOUNT_KEYS and re.fullmatch(r"\d{12}", value):
        account = "self" if value == concrete.SELF_ACCOUNT else value
        label = "any IAM principal of this account" if account == "self" else f"any IAM principal of account {account}"
        return _subject(f"account:{account}", "account", account, label)
    if key == "aws:principalorgid" and concrete.ORGANIZATION_ID.fullmatch(value):
        return _subject(f"organization:{value}", "organization", "*",
                        f"any IAM principal of another account in organization {value}")
    match = PRINCIPAL_ARN.fullmatch(value) if key == "aws:principalarn" else None
    if match and match.group(1) != concrete.SELF_ACCOUNT:
        account, kind, name = match.groups()
        return _subject(f"{kind}:{account}:{name}", kind, account, value)
    return None


def _public_identity(identity: dict) -> dict:
    return {k: v for k, v in identity.items() if k != "groups"}


def _is_sam(document: dict) -> bool:
    transform = document.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    return any(isinstance(n, str) and n.startswith("AWS::Serverless") for n in names)


_TRUE = ("true", "yes", "on")
_FALSE = ("false", "no", "off")


def _readings(value: Any) -> set[bool]:
    """How CloudFormation may read a Boolean property's value. Its YAML parser is YAML 1.1:
    unquoted yes/no/on/off are booleans (aws/aws-cli#5257); quoted, CloudFormation either
    reads them the same way or refuses the template, so the boolean is the only deployed
    reading. y/n are YAML 1.1 booleans that not every parser reads so: both ways."""
    if isinstance(value, bool):
        return {value}
    if isinstance(value, str):
        text = value.lower()
        if text in _TRUE:
            return {True}
        if text in _FALSE:
            return {False}
        if text in ("y", "n"):
            return {True, False}
    return {True, False}


def _integer(value: Any) -> int | None:
    """A literal integer (YAML's true and false are Python ints too, and not one)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _only(values: set[bool]) -> bool | None:
    return next(iter(values)) if len(values) == 1 else None


def _add_unique(items: list, value: Any) -> None:
    if value not in items:
        items.append(value)


def _may_use(statement: dict) -> bool:
    """An identity means to use a key it names only where it asks for a use action (or an
    action the template does not spell out); naming it for management (CDK's grantAdmin)
    does not make the identity a user."""
    return bool(statement["classes"].get("use")) or any(p.get("unresolved") for p in statement["patterns"])
