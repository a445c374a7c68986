"""Template document → the rules' input (schema v1: bridge/schema/input-v1.json)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import foreach, sam, schema, variant
from .intrinsics import IntrinsicError, Resolver, Sym, SymStr, is_intrinsic, literal
from .load import parse_json_string
from .principals import PrincipalError, from_aws_value
from .scenarios import Scenario
from .statements import (
    PolicyContext,
    key_principal_problem,
    normalize_statement,
    pointer,
    statements_of,
)
from .suppressions import ecosystem_suppressions
from .template_checks import macro_message, template_problems

KEY_TYPES = ("AWS::KMS::Key", "AWS::KMS::ReplicaKey")
IDENTITY_KINDS = {"AWS::IAM::Role": "role", "AWS::IAM::User": "user", "AWS::IAM::Group": "group"}
NAME_PROPERTIES = {"role": "RoleName", "user": "UserName", "group": "GroupName"}
ATTACHED_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
SINGLE_POLICY_TYPES = {"AWS::IAM::RolePolicy": ("RoleName", "role"),
                       "AWS::IAM::UserPolicy": ("UserName", "user"),
                       "AWS::IAM::GroupPolicy": ("GroupName", "group")}
SCHEMA_VERSION = 1


@dataclass
class Normalized:
    input: dict
    problems: list[tuple[str, str]]  # (JSON pointer, message): parts that could not be read


def normalize(document: dict, file: str, parameters: dict[str, str] | None = None,
              scenario: Scenario | None = None) -> Normalized:
    """The rules' input for one deployable variant of the template: `scenario` (from
    `scenarios.plan`) picks every Fn::If branch, drops the resources whose Condition is
    false and the AWS::NoValue properties; None unions the Fn::If alternatives. Fn::ForEach
    loops the template determines are expanded. Pointers are the file's own either way."""
    view, remap = foreach.expand(document, parameters)
    if scenario is not None:
        parameters = {**dict(scenario.parameters), **(parameters or {})}
        view, chosen = variant.choose(view, scenario.truth())
        remap = variant.Remap(chosen.prefixes, then=remap)
    result = _Normalizer(view, file, parameters).run()
    if not remap:
        return result
    return Normalized(remap.data(result.input), [(remap.pointer(p), m) for p, m in result.problems])


class _Normalizer:
    def __init__(self, document: dict, file: str, parameters: dict[str, str] | None):
        self.document = document
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
        self.ctx = PolicyContext(self.resolver, self.link, self.key_ids)

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
        self._declare_identities()
        self._declare_sam_roles()
        self._attach_identity_policies()
        self._attach_sam_policies()
        self._inherit_group_policies()
        keys = {kid: self._key(kid, self.resources[kid]) for kid in self.key_ids}
        self._mark_references(keys)
        self.ctx.problems.extend(template_problems(self.document, self.resolver, self.ctx.problems))
        data = {
            "schema_version": SCHEMA_VERSION,
            "file": self.file,
            "sam": _is_sam(self.document),
            "keys": keys,
            "identities": {iid: _public_identity(i) for iid, i in sorted(self.identities.items())},
        }
        return Normalized(data, self.ctx.problems)

    # --- identities ----------------------------------------------------------

    def _new_identity(self, iid: str, kind: str, path: str, owner: str | None = None) -> dict:
        identity = {"id": iid, "kind": kind, "path": path, "owner": owner, "account": "self",
                    "statements": [], "managed_policies": [], "groups": [],
                    "label": owner or iid}
        self.identities[iid] = identity
        return identity

    def _declare_identities(self) -> None:
        for rid, resource in self._typed(tuple(IDENTITY_KINDS)):
            kind = IDENTITY_KINDS[resource["Type"]]
            self._new_identity(rid, kind, pointer("Resources", rid))
            name = self._props(resource).get(NAME_PROPERTIES[kind])
            if name is not None:
                try:
                    for alt in self.resolver.strings(name):
                        text = literal(alt)
                        if text is not None:
                            self.names[(kind, text)] = rid
                except IntrinsicError:
                    pass
        for rid, resource in self._typed(sam.SAM_ROLE_OWNERS):
            if "Role" not in self._props(resource):
                role_id = sam.implicit_role_id(rid)
                self._new_identity(role_id, "role", pointer("Resources", rid), owner=rid)
                self.resolver.implicit_resources.add(role_id)

    def _declare_sam_roles(self) -> None:
        for rid, resource in self._typed(sam.SAM_ROLE_OWNERS):
            role = self._props(resource).get("Role")
            if role is None:
                continue
            target = self._reference_target(role, ("role",))
            if target is not None and self.identities[target]["owner"] is None:
                self.identities[target]["owner"] = rid
                self.identities[target]["label"] = rid

    def _add_document(self, identity: dict, document: Any, path: str) -> None:
        pinned = _is_json_text(document)
        if pinned:
            document = self._json_document(document, path)
            if document is None:
                return
        self._add_statements(identity, document, path, pinned=pinned)

    def _json_document(self, value: Any, path: str) -> Any:
        """A policy given as JSON text (plain, or in Fn::Sub with its ${} kept as Fn::Sub)."""
        variables = None
        if isinstance(value, dict):
            arg = value["Fn::Sub"]
            text, variables = (arg, None) if isinstance(arg, str) else (arg[0], arg[1])
        else:
            text = value
        try:
            document = parse_json_string(text)
        except ValueError as exc:
            self.problem(path, f"policy document is not valid JSON: {exc}")
            return None
        return _sub_strings(document, variables) if isinstance(value, dict) else document

    def _add_statements(self, identity: dict, document: Any, path: str, *, pinned: bool,
                        origin: dict | None = None) -> None:
        for statement, spath in statements_of(document, path, self.ctx):
            index = len(identity["statements"])
            normalized = normalize_statement(statement, path if pinned else spath, index, self.ctx,
                                             key_policy=False,
                                             element_path=path if pinned else None)
            if normalized is not None and normalized["actions"]:
                normalized["origin"] = origin
                normalized["patterns"] = [p for p in normalized["patterns"] if p["actions"]]
                identity["statements"].append(normalized)

    def _attach_identity_policies(self) -> None:
        for rid, resource in self._typed(tuple(IDENTITY_KINDS)):
            props = self._props(resource)
            identity = self.identities[rid]
            base = pointer("Resources", rid, "Properties")
            for item, suffix in self.resolver.items(props.get("Policies", [])):
                ipath = f"{base}/Policies{suffix}"
                if not isinstance(item, dict) or "PolicyDocument" not in item:
                    self.problem(ipath, "an inline policy needs a PolicyDocument")
                    continue
                self._add_document(identity, item["PolicyDocument"], ipath + "/PolicyDocument")
            for item, suffix in self.resolver.items(props.get("ManagedPolicyArns", [])):
                self._managed_policy(identity, item, f"{base}/ManagedPolicyArns{suffix}")
            if identity["kind"] == "user":
                for item, _ in self.resolver.items(props.get("Groups", [])):
                    group = self._reference_target(item, ("group",))
                    if group:
                        identity["groups"].append(group)
        for rid, resource in self._typed(ATTACHED_POLICY_TYPES):
            props = self._props(resource)
            doc_path = pointer("Resources", rid, "Properties", "PolicyDocument")
            for prop, kind in (("Roles", "role"), ("Users", "user"), ("Groups", "group")):
                for item, _ in self.resolver.items(props.get(prop, [])):
                    target = self._reference_target(item, (kind,))
                    if target:
                        self._add_document(self.identities[target], props.get("PolicyDocument"), doc_path)
        for rid, resource in self._typed(tuple(SINGLE_POLICY_TYPES)):
            prop, kind = SINGLE_POLICY_TYPES[resource["Type"]]
            props = self._props(resource)
            target = self._reference_target(props.get(prop), (kind,))
            if target:
                self._add_document(self.identities[target], props.get("PolicyDocument"),
                                   pointer("Resources", rid, "Properties", "PolicyDocument"))

    def _managed_policy(self, identity: dict, item: Any, path: str) -> None:
        if isinstance(item, dict) and list(item) == ["Ref"] and isinstance(item["Ref"], str) and \
                isinstance(self.resources.get(item["Ref"]), dict) and \
                self.resources[item["Ref"]].get("Type") == "AWS::IAM::ManagedPolicy":
            return  # attached through the ManagedPolicy's own Roles/Users/Groups or below
        try:
            alternatives = self.resolver.strings(item)
        except IntrinsicError as exc:
            self.problem(path, f"managed policy {exc}")
            return
        for alt in alternatives:
            identity["managed_policies"].append(
                {"arn": "".join(p if isinstance(p, str) else p.placeholder() for p in alt),
                 "path": path})

    def _attach_managed_references(self) -> None:
        """Role.ManagedPolicyArns: !Ref ManagedPolicy attaches that policy's statements."""

    def _attach_sam_policies(self) -> None:
        for rid, resource in self._typed(sam.SAM_ROLE_OWNERS):
            props = self._props(resource)
            if "Role" in props:
                continue
            identity = self.identities[sam.implicit_role_id(rid)]
            base = pointer("Resources", rid, "Properties", "Policies")
            for item, ipath in sam.policy_items(props.get("Policies", []), base):
                self._sam_policy_item(identity, item, ipath)

    def _sam_policy_item(self, identity: dict, item: Any, path: str) -> None:
        if isinstance(item, str) or (isinstance(item, dict) and len(item) == 1 and
                                     next(iter(item)) in ("Ref", "Fn::Sub", "Fn::Join", "Fn::If",
                                                          "Fn::ImportValue")):
            if isinstance(item, dict) and list(item) == ["Ref"] and isinstance(item["Ref"], str) and \
                    isinstance(self.resources.get(item["Ref"]), dict) and \
                    self.resources[item["Ref"]].get("Type") == "AWS::IAM::ManagedPolicy":
                doc = self._props(self.resources[item["Ref"]]).get("PolicyDocument")
                self._add_document(identity, doc,
                                   pointer("Resources", item["Ref"], "Properties", "PolicyDocument"))
                return
            self._managed_policy(identity, item, path)
            return
        if not isinstance(item, dict) or not item:
            self.problem(path, "a SAM Policies item must be a policy name, a policy template or a policy document")
            return
        if "Statement" in item:
            self._add_statements(identity, item, path, pinned=False, origin={"kind": "inline"})
            return
        if len(item) != 1:
            self.problem(path, "a SAM policy template item must have exactly one template name")
            return
        (name, arguments), = item.items()
        statements, problem = sam.expand_policy_template(name, arguments)
        if problem:
            self.problem(path + pointer(name), problem)
            return
        self._add_statements(identity, {"Statement": statements}, path + pointer(name), pinned=True,
                             origin={"kind": "sam-policy-template", "template": name,
                                     "parameters": arguments, "expanded": statements})

    def _inherit_group_policies(self) -> None:
        for identity in self.identities.values():
            for group in identity["groups"]:
                for statement in self.identities[group]["statements"]:
                    inherited = dict(statement, index=len(identity["statements"]),
                                     origin={"kind": "group", "group": group})
                    identity["statements"].append(inherited)

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
            "pending_window": props.get("PendingWindowInDays") if isinstance(
                props.get("PendingWindowInDays"), int) else None,
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
        before = len(self.ctx.problems)
        if "KeyPolicy" in props:
            key["statements"] = self._key_statements(props["KeyPolicy"], f"{ppath}/KeyPolicy")
        else:
            key["statements"] = [self._default_statement(base)]
        key["policy_complete"] = len(self.ctx.problems) == before
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
        for sid in key["intent"]["admins"] + key["intent"]["users"]:
            if sid not in subjects:
                kind = sid.split(":", 1)[0] if ":" in sid else "any"
                parts = sid.split(":")
                account = parts[1] if kind in ("role", "user", "assumed-role", "account") else ""
                subjects[sid] = _subject(sid, kind, account, sid)
        return dict(sorted(subjects.items()))

    def _key_statements(self, policy: Any, path: str) -> list[dict]:
        pinned = _is_json_text(policy)
        if pinned:
            policy = self._json_document(policy, path)
            if policy is None:
                return []
        if isinstance(policy, dict) and list(policy) == ["Fn::Transform"]:
            self.problem(f"{path}/Fn::Transform",
                         macro_message(policy["Fn::Transform"], "Fn::Transform"))
            return []
        if isinstance(policy, dict) and len(policy) == 1 and next(iter(policy)).startswith("Fn::"):
            self.problem(path, f"KeyPolicy built with {next(iter(policy))} cannot be analyzed statically")
            return []
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
                if statement["effect"] == "Allow" and not resources.get("any_key"):
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
            mentioned = _referenced_ids(self._props(resource).get("Environment"), set(keys))
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
        suppress = ecosystem_suppressions(kid, metadata)
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


def _public_identity(identity: dict) -> dict:
    return {k: v for k, v in identity.items() if k != "groups"}


def _is_json_text(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, dict) and list(value) == ["Fn::Sub"]:
        arg = value["Fn::Sub"]
        text = arg if isinstance(arg, str) else (arg[0] if isinstance(arg, list) and len(arg) == 2
                                                 and isinstance(arg[1], dict) else None)
        return isinstance(text, str) and text.lstrip().startswith("{")
    return False


def _sub_strings(value: Any, variables: dict | None) -> Any:
    """Strings holding ${...} become Fn::Sub again, so they resolve symbolically."""
    if isinstance(value, dict):
        return {k: _sub_strings(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub_strings(v, variables) for v in value]
    if isinstance(value, str) and "${" in value:
        return {"Fn::Sub": [value, variables] if variables else value}
    return value


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


def _only(values: set[bool]) -> bool | None:
    return next(iter(values)) if len(values) == 1 else None


def _add_unique(items: list, value: Any) -> None:
    if value not in items:
        items.append(value)


def _referenced_ids(value: Any, ids: set[str]) -> set[str]:
    """Logical IDs among `ids` that a value refers to (Ref, GetAtt, Sub variables)."""
    found: set[str] = set()
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if list(node) == ["Ref"] and isinstance(node["Ref"], str) and node["Ref"] in ids:
                found.add(node["Ref"])
            elif list(node) == ["Fn::GetAtt"]:
                arg = node["Fn::GetAtt"]
                if isinstance(arg, list) and arg and isinstance(arg[0], str) and arg[0] in ids:
                    found.add(arg[0])
            elif list(node) == ["Fn::Sub"]:
                arg = node["Fn::Sub"]
                text = arg if isinstance(arg, str) else (arg[0] if isinstance(arg, list) and arg else "")
                if isinstance(text, str):
                    for name in ids:
                        if "${" + name + "}" in text or "${" + name + "." in text:
                            found.add(name)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found
