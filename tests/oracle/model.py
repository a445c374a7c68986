"""The template as the referee deploys it: keys with their policies, identities with theirs.

`build(document, stack)` resolves everything concretely (resolve.py) after making SAM's
implicit roles explicit (sam.py). A part it cannot make concrete is recorded as a problem
of the key or identity it affects, which the comparison then reports as not refereed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import managed, sam
from .resolve import NotConcrete, Resolver
from .stack import Stack

KEY_TYPES = ("AWS::KMS::Key", "AWS::KMS::ReplicaKey")
IDENTITY_TYPES = {"AWS::IAM::Role": "role", "AWS::IAM::User": "user", "AWS::IAM::Group": "group"}


@dataclass
class Key:
    logical: str
    arn: str | None = None
    policy: dict | None = None
    spec: str = "SYMMETRIC_DEFAULT"  # KeySpec and KeyUsage (CloudFormation's defaults)
    usage: str = "ENCRYPT_DECRYPT"
    problems: list[str] = field(default_factory=list)


@dataclass
class Identity:
    logical: str
    kind: str  # role | user | group
    name: str | None = None
    arn: str | None = None
    policies: list[tuple[str, Any]] = field(default_factory=list)
    boundary: Any = None
    groups: list[str] = field(default_factory=list)  # logical IDs of its groups
    problems: list[str] = field(default_factory=list)

    def principal(self, stack: Stack) -> str:
        """The ARN the identity calls with: a role calls as an assumed-role session."""
        if self.kind == "role":
            return f"arn:{stack.partition}:sts::{stack.account}:assumed-role/{self.name}/oracle-session"
        return self.arn


@dataclass
class Model:
    stack: Stack
    keys: dict[str, Key]
    identities: dict[str, Identity]

    def effective(self, logical: str) -> Identity:
        """A user's policies with its groups' added (problems included)."""
        ident = self.identities[logical]
        out = Identity(ident.logical, ident.kind, ident.name, ident.arn, list(ident.policies),
                       ident.boundary, list(ident.groups), list(ident.problems))
        for group in ident.groups:
            g = self.identities[group]
            out.policies += g.policies
            out.problems += [f"group {group}: {p}" for p in g.problems]
        return out


def default_key_policy(stack: Stack) -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": f"arn:{stack.partition}:iam::{stack.account}:root"},
        "Action": "kms:*", "Resource": "*"}]}


def _document(r: Resolver, node: Any) -> dict:
    value = r.value(node)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise NotConcrete("a policy document that is not JSON") from None
    if not isinstance(value, dict):
        raise NotConcrete("a policy document that is not an object")
    return value


def _list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class _Builder:
    def __init__(self, document: dict, stack: Stack):
        self.doc = sam.expand(document)
        self.stack = stack
        self.r = Resolver(self.doc, stack)
        self.keys: dict[str, Key] = {}
        self.identities: dict[str, Identity] = {}
        self.managed: dict[str, tuple[str, Any]] = {}  # ARN -> (logical, document or problem)

    def resources(self, types) -> list[tuple[str, dict]]:
        out = []
        for logical, res in (self.doc.get("Resources") or {}).items():
            if isinstance(res, dict) and res.get("Type") in types:
                try:
                    if self.r.exists(logical):
                        out.append((logical, res))
                except NotConcrete as exc:
                    self._everyone(f"{logical} exists only if {exc}")
        return out

    def _everyone(self, problem: str) -> None:
        for ident in self.identities.values():
            ident.problems.append(problem)

    def run(self) -> Model:
        for logical, _ in self.resources(IDENTITY_TYPES):
            self._identity(logical)
        for logical, _ in self.resources(("AWS::IAM::ManagedPolicy",)):
            self._managed_policy(logical)
        for logical, _ in self.resources(IDENTITY_TYPES):
            self._attachments(logical)
        for logical, res in self.resources(("AWS::IAM::Policy", "AWS::IAM::RolePolicy",
                                            "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy",
                                            "AWS::IAM::UserToGroupAddition")):
            self._standalone(logical, res["Type"])
        for logical, _ in self.resources(KEY_TYPES):
            self._key(logical)
        return Model(self.stack, self.keys, self.identities)

    # --- identities ------------------------------------------------------------

    def _identity(self, logical: str) -> None:
        ident = Identity(logical, IDENTITY_TYPES[self.doc["Resources"][logical]["Type"]])
        self.identities[logical] = ident
        try:
            ident.name = self.r.physical(logical, "Ref")
            ident.arn = self.r.physical(logical, "Arn")
        except NotConcrete as exc:
            ident.problems.append(f"its name: {exc}")

    def _by_name(self, kind: str, name: str) -> Identity | None:
        for ident in self.identities.values():
            if ident.kind == kind and ident.name == name:
                return ident
        return None

    def _managed_policy(self, logical: str) -> None:
        props = self.r.properties(logical)
        try:
            arn = self.r.physical(logical, "Ref")
        except NotConcrete as exc:
            self._everyone(f"managed policy {logical}: {exc}")
            return
        try:
            content: Any = _document(self.r, props.get("PolicyDocument"))
        except NotConcrete as exc:
            content = NotConcrete(f"managed policy {logical}: {exc}")
        self.managed[arn] = (logical, content)
        for kind, prop in (("role", "Roles"), ("user", "Users"), ("group", "Groups")):
            self._attach_named(kind, props.get(prop), f"{logical}", content)

    def _attach_named(self, kind: str, names: Any, label: str, content: Any) -> None:
        try:
            resolved = [self.r.text(n) for n in _list(self.r.value(names))]
        except NotConcrete as exc:
            self._everyone(f"{label} attaches to identities named by {exc}")
            return
        for name in resolved:
            ident = self._by_name(kind, name)
            if ident is not None:
                self._add(ident, label, content)

    def _add(self, ident: Identity, label: str, content: Any) -> None:
        if isinstance(content, NotConcrete):
            ident.problems.append(str(content))
        else:
            ident.policies.append((label, content))

    def _managed_arn(self, arn: str) -> Any:
        if arn in self.managed:
            return self.managed[arn][1]
        doc = managed.document(arn)
        if doc is None:
            return NotConcrete(f"managed policy {arn} is not in the template or the AWS dataset")
        return doc

    def _attachments(self, logical: str) -> None:
        ident = self.identities[logical]
        props = self.r.properties(logical)
        for n, item in enumerate(_list(props.get("Policies"))):
            try:
                item = self.r.value(item)
                self._add(ident, str(item.get("PolicyName", f"inline{n}")),
                          _document(self.r, item.get("PolicyDocument")))
            except (NotConcrete, AttributeError) as exc:
                ident.problems.append(f"inline policy {n}: {exc}")
        try:
            arns = [self.r.text(a) for a in _list(self.r.value(props.get("ManagedPolicyArns")))]
        except NotConcrete as exc:
            ident.problems.append(f"ManagedPolicyArns: {exc}")
            arns = []
        for arn in arns:
            self._add(ident, arn, self._managed_arn(arn))
        if props.get("PermissionsBoundary") is not None:
            try:
                content = self._managed_arn(self.r.text(props["PermissionsBoundary"]))
            except NotConcrete as exc:
                content = exc
            if isinstance(content, NotConcrete):
                ident.problems.append(f"permissions boundary: {content}")
            else:
                ident.boundary = content
        if ident.kind == "user":
            try:
                groups = [self.r.text(g) for g in _list(self.r.value(props.get("Groups")))]
            except NotConcrete as exc:
                ident.problems.append(f"Groups: {exc}")
                groups = []
            self._join(ident, groups)

    def _join(self, user: Identity, groups: list[str]) -> None:
        for name in groups:
            group = self._by_name("group", name)
            if group is None:
                user.problems.append(f"group {name} is not in the template")
            elif group.logical not in user.groups:
                user.groups.append(group.logical)

    def _standalone(self, logical: str, rtype: str) -> None:
        props = self.r.properties(logical)
        if rtype == "AWS::IAM::UserToGroupAddition":
            try:
                group = self.r.text(props.get("GroupName"))
                users = [self.r.text(u) for u in _list(self.r.value(props.get("Users")))]
            except NotConcrete as exc:
                self._everyone(f"{logical}: {exc}")
                return
            for name in users:
                user = self._by_name("user", name)
                if user is not None:
                    self._join(user, [group])
            return
        try:
            content: Any = _document(self.r, props.get("PolicyDocument"))
        except NotConcrete as exc:
            content = NotConcrete(f"{logical}: {exc}")
        if rtype == "AWS::IAM::Policy":
            for kind, prop in (("role", "Roles"), ("user", "Users"), ("group", "Groups")):
                self._attach_named(kind, props.get(prop), logical, content)
        else:
            kind = {"AWS::IAM::RolePolicy": "role", "AWS::IAM::UserPolicy": "user",
                    "AWS::IAM::GroupPolicy": "group"}[rtype]
            prop = {"role": "RoleName", "user": "UserName", "group": "GroupName"}[kind]
            self._attach_named(kind, props.get(prop), logical, content)

    # --- keys --------------------------------------------------------------------

    def _key(self, logical: str) -> None:
        key = Key(logical)
        self.keys[logical] = key
        try:
            key.arn = self.r.physical(logical, "Arn")
            props = self.r.properties(logical)
            key.policy = (default_key_policy(self.stack) if props.get("KeyPolicy") is None
                          else _document(self.r, props["KeyPolicy"]))
            key.spec = str(self.r.value(props.get("KeySpec", key.spec)))
            key.usage = str(self.r.value(props.get("KeyUsage", key.usage)))
        except NotConcrete as exc:
            key.problems.append(f"key policy: {exc}")


def build(document: dict, stack: Stack) -> Model:
    return _Builder(document, stack).run()
