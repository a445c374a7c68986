"""Every policy AWS evaluates for the template's roles, users and groups (KMS-SEMANTICS.md
§8, §10): inline `Policies`; AWS::IAM::Policy/ManagedPolicy with Roles/Users/Groups;
Role/User/GroupPolicy; ManagedPolicyArns (customer managed by Ref, GetAtt or ARN, AWS
managed from the catalog); SAM `Policies` (names, ARNs, policy templates, documents);
group membership (User.Groups, AWS::IAM::UserToGroupAddition); permission boundaries
(PermissionsBoundary of roles and users, of SAM functions and state machines and
`Globals.Function`). What the template does not show is listed in `unknown_policies`,
never taken as absent.
"""

from __future__ import annotations

from typing import Any

from . import managed_statements, sam
from .intrinsics import IntrinsicError, SymStr, literal, render
from .policy_documents import is_json_text, json_document
from .policy_sources import PolicySources, Source
from .statements import kms_patterns, normalize_statement, pointer, statements_of

IDENTITY_KINDS = {"AWS::IAM::Role": "role", "AWS::IAM::User": "user", "AWS::IAM::Group": "group"}
NAME_PROPERTIES = {"role": "RoleName", "user": "UserName", "group": "GroupName"}
ATTACHED_POLICY_TYPES = {"AWS::IAM::Policy": "inline", "AWS::IAM::ManagedPolicy": "customer-managed"}
SINGLE_POLICY_TYPES = {"AWS::IAM::RolePolicy": ("RoleName", "role"),
                       "AWS::IAM::UserPolicy": ("UserName", "user"),
                       "AWS::IAM::GroupPolicy": ("GroupName", "group")}
GROUP_ADDITION = "AWS::IAM::UserToGroupAddition"
_INTRINSIC_ITEM = ("Ref", "Fn::Sub", "Fn::Join", "Fn::If", "Fn::ImportValue", "Fn::GetAtt",
                   "Fn::FindInMap", "Fn::Select")


class IdentityPolicies:
    """Fills the normalizer's `identities` (and `names`) for one template."""

    def __init__(self, normalizer: Any):
        self.n = normalizer
        self.ctx = normalizer.ctx
        self.resolver = normalizer.resolver
        self.sources = PolicySources(normalizer.resources)
        self.attached: set[tuple[str, str]] = set()  # (identity, policy) already added

    # --- identities ----------------------------------------------------------

    def declare(self) -> None:
        for rid, resource in self.n._typed(tuple(IDENTITY_KINDS)):
            kind = IDENTITY_KINDS[resource["Type"]]
            props = self.n._props(resource)
            identity = self._new(rid, kind, pointer("Resources", rid))
            identity["name"] = self._literal(props.get(NAME_PROPERTIES[kind]))
            identity["iam_path"] = self._literal(props.get("Path", "/"))
            for text in self._literals(props.get(NAME_PROPERTIES[kind])):
                self.n.names[(kind, text)] = rid
        globals_ = _globals_function(self.n.document)
        for rid, resource in self.n._typed(sam.SAM_ROLE_OWNERS):
            props = self.n._props(resource)
            if "Role" in props:
                continue
            role_id = sam.implicit_role_id(rid)
            identity = self._new(role_id, "role", pointer("Resources", rid), owner=rid)
            role_path = props.get("RolePath", globals_.get("RolePath") if resource["Type"] ==
                                  sam.SAM_ROLE_OWNERS[0] else None)
            identity["iam_path"] = self._literal("/" if role_path is None else role_path)
            self.resolver.implicit_resources.add(role_id)
        for rid, resource in self.n._typed(sam.SAM_ROLE_OWNERS):
            role = self.n._props(resource).get("Role")
            target = self.n._reference_target(role, ("role",)) if role is not None else None
            if target is not None and self.n.identities[target]["owner"] is None:
                self.n.identities[target]["owner"] = rid
                self.n.identities[target]["label"] = rid

    def _new(self, iid: str, kind: str, path: str, owner: str | None = None) -> dict:
        identity = {"id": iid, "kind": kind, "path": path, "owner": owner, "account": "self",
                    "name": None, "iam_path": "/", "statements": [], "managed_policies": [],
                    "unknown_policies": [], "boundary": None, "groups": [], "label": owner or iid}
        self.n.identities[iid] = identity
        return identity

    def _literals(self, value: Any) -> list[str]:
        if value is None:
            return []
        try:
            return [t for t in (literal(a) for a in self.resolver.strings(value)) if t is not None]
        except IntrinsicError:
            return []

    def _literal(self, value: Any) -> str | None:
        """The one literal a value has (CloudFormation generates names left out: None)."""
        texts = self._literals(value)
        return texts[0] if len(texts) == 1 else None

    # --- collection ----------------------------------------------------------

    def collect(self) -> None:
        for rid, resource in self.n._typed(tuple(IDENTITY_KINDS)):
            self._identity_properties(self.n.identities[rid], self.n._props(resource),
                                      pointer("Resources", rid, "Properties"))
        self._attached_resources()
        self._sam()
        self._memberships()
        self._inherit_groups()

    def _identity_properties(self, identity: dict, props: dict, base: str) -> None:
        for item, suffix in self.resolver.items(props.get("Policies", [])):
            ipath = f"{base}/Policies{suffix}"
            if not isinstance(item, dict) or "PolicyDocument" not in item:
                self.n.problem(ipath, "an inline policy needs a PolicyDocument")
                continue
            self.add_document(identity, item["PolicyDocument"], ipath + "/PolicyDocument",
                              {"kind": "inline"})
        for item, suffix in self.resolver.items(props.get("ManagedPolicyArns", [])):
            self._reference(identity, item, f"{base}/ManagedPolicyArns{suffix}")
        if identity["kind"] == "user":
            for item, _ in self.resolver.items(props.get("Groups", [])):
                self._join(identity, item)
        if identity["kind"] != "group" and "PermissionsBoundary" in props:
            identity["boundary"] = self._boundary(props["PermissionsBoundary"],
                                                  f"{base}/PermissionsBoundary")

    def _attached_resources(self) -> None:
        for rid, resource in self.n._typed(tuple(ATTACHED_POLICY_TYPES)):
            props = self.n._props(resource)
            kind = ATTACHED_POLICY_TYPES[resource["Type"]]
            for prop, target_kind in (("Roles", "role"), ("Users", "user"), ("Groups", "group")):
                for item, _ in self.resolver.items(props.get(prop, [])):
                    target = self.n._reference_target(item, (target_kind,))
                    if target:
                        self._policy_resource(self.n.identities[target], rid, kind)
        for rid, resource in self.n._typed(tuple(SINGLE_POLICY_TYPES)):
            prop, kind = SINGLE_POLICY_TYPES[resource["Type"]]
            target = self.n._reference_target(self.n._props(resource).get(prop), (kind,))
            if target:
                self._policy_resource(self.n.identities[target], rid, "inline")

    def _policy_resource(self, identity: dict, rid: str, kind: str) -> None:
        """The document of a policy resource of the template, once per identity."""
        if (identity["id"], rid) in self.attached:
            return
        self.attached.add((identity["id"], rid))
        document = self.n._props(self.n.resources[rid]).get("PolicyDocument")
        self.add_document(identity, document, pointer("Resources", rid, "Properties", "PolicyDocument"),
                          {"kind": kind, "policy": rid})

    # --- managed policy references -------------------------------------------

    def _alternatives(self, item: Any, path: str, what: str) -> list[SymStr] | None:
        try:
            return self.resolver.strings(item)
        except IntrinsicError as exc:
            self.n.problem(path, f"{what} {exc}")
            return None

    def _reference(self, identity: dict, item: Any, path: str, *, sam_name: bool = False) -> None:
        """A ManagedPolicyArns item or a SAM `Policies` name/ARN: attach what it designates."""
        alternatives = self._alternatives(item, path, "managed policy")
        if alternatives is None:
            return
        if not (isinstance(item, dict) and list(item) == ["Ref"] and
                self.sources.is_managed(item["Ref"])):
            identity["managed_policies"] += [{"arn": render(alt), "path": path} for alt in alternatives]
        for alt in alternatives:
            self._attach(identity, self.sources.of(alt, sam_name=sam_name), path)

    def _attach(self, identity: dict, source: Source, path: str) -> None:
        if source.kind == "customer":
            self._policy_resource(identity, source.policy, "customer-managed")
        elif source.kind == "aws":
            managed = source.managed
            if (identity["id"], managed["arn"]) in self.attached:
                return
            self.attached.add((identity["id"], managed["arn"]))
            self._add_managed(identity, managed, path)
        else:
            identity["unknown_policies"].append({"path": path, "arn": source.text,
                                                 "reason": source.reason})

    # --- boundaries ----------------------------------------------------------

    def _boundary(self, value: Any, path: str) -> dict | None:
        boundary = {"path": path, "statements": [], "complete": False, "reason": None}
        alternatives = self._alternatives(value, path, "permissions boundary")
        if alternatives is None:
            boundary["reason"] = "the boundary cannot be read"
            return boundary
        if not alternatives:
            return None  # AWS::NoValue: no boundary
        sources = [self.sources.of(alt) for alt in alternatives]
        if len({(s.kind, s.policy, s.text) for s in sources}) > 1:
            boundary["reason"] = "the boundary differs between scenarios (Fn::If)"
            return boundary
        source = sources[0]
        if source.kind == "unknown":
            boundary["reason"] = source.reason
            return boundary
        holder = {"id": "", "statements": []}
        before = len(self.ctx.problems)
        if source.kind == "customer":
            document = self.n._props(self.n.resources[source.policy]).get("PolicyDocument")
            self.add_document(holder, document,
                              pointer("Resources", source.policy, "Properties", "PolicyDocument"),
                              {"kind": "customer-managed", "policy": source.policy})
        else:
            self._add_managed(holder, source.managed, path)
        boundary["statements"] = holder["statements"]
        boundary["complete"] = len(self.ctx.problems) == before
        if not boundary["complete"]:
            boundary["reason"] = "part of the boundary policy cannot be read"
        return boundary

    # --- SAM -----------------------------------------------------------------

    def _sam(self) -> None:
        globals_ = _globals_function(self.n.document)
        for rid, resource in self.n._typed(sam.SAM_ROLE_OWNERS):
            props = self.n._props(resource)
            if "Role" in props:
                continue  # SAM ignores Policies and PermissionsBoundary then
            identity = self.n.identities[sam.implicit_role_id(rid)]
            base = pointer("Resources", rid, "Properties", "Policies")
            for item, ipath in sam.policy_items(props.get("Policies", []), base):
                self._sam_item(identity, item, ipath)
            if "PermissionsBoundary" in props:
                identity["boundary"] = self._boundary(
                    props["PermissionsBoundary"], pointer("Resources", rid, "Properties", "PermissionsBoundary"))
            elif resource["Type"] == sam.SAM_ROLE_OWNERS[0] and "PermissionsBoundary" in globals_:
                identity["boundary"] = self._boundary(globals_["PermissionsBoundary"],
                                                      "/Globals/Function/PermissionsBoundary")

    def _sam_item(self, identity: dict, item: Any, path: str) -> None:
        if isinstance(item, str) or (isinstance(item, dict) and len(item) == 1 and
                                     next(iter(item)) in _INTRINSIC_ITEM):
            sam_name = isinstance(item, str) or next(iter(item)) == "Fn::If"
            self._reference(identity, item, path, sam_name=sam_name)
            return
        if not isinstance(item, dict) or not item:
            self.n.problem(path, "a SAM Policies item must be a policy name, a policy template or a policy document")
            return
        if "Statement" in item:
            self._add_statements(identity, item, path, pinned=False, origin={"kind": "inline"})
            return
        if len(item) != 1:
            self.n.problem(path, "a SAM policy template item must have exactly one template name")
            return
        (name, arguments), = item.items()
        statements, problem = sam.expand_policy_template(name, arguments)
        if problem:
            self.n.problem(path + pointer(name), problem)
            return
        self._add_statements(identity, {"Statement": statements}, path + pointer(name), pinned=True,
                             origin={"kind": "sam-policy-template", "template": name,
                                     "parameters": arguments, "expanded": statements})

    # --- groups --------------------------------------------------------------

    def _join(self, user: dict, group_item: Any) -> None:
        group = self.n._reference_target(group_item, ("group",))
        if group and group not in user["groups"]:
            user["groups"].append(group)

    def _memberships(self) -> None:
        for _, resource in self.n._typed((GROUP_ADDITION,)):
            props = self.n._props(resource)
            for item, _ in self.resolver.items(props.get("Users", [])):
                user = self.n._reference_target(item, ("user",))
                if user:
                    self._join(self.n.identities[user], props.get("GroupName"))

    def _inherit_groups(self) -> None:
        for identity in self.n.identities.values():
            for gid in identity["groups"]:
                group = self.n.identities[gid]
                for statement in group["statements"]:
                    identity["statements"].append(dict(
                        statement, index=len(identity["statements"]),
                        origin={"kind": "group", "group": gid, "source": statement["origin"]}))
                identity["unknown_policies"] += [dict(u, group=gid) for u in group["unknown_policies"]]

    # --- statements ----------------------------------------------------------

    def add_document(self, identity: dict, document: Any, path: str, origin: dict) -> None:
        pinned = is_json_text(document)
        if pinned:
            document = json_document(document, path, self.ctx)
            if document is None:
                return
        self._add_statements(identity, document, path, pinned=pinned, origin=origin)

    def _add_managed(self, identity: dict, managed: dict, path: str) -> None:
        """An AWS managed policy's statements, pinned to the reference at `path`."""
        origin = {"kind": "aws-managed", "arn": managed["arn"], "name": managed["name"]}
        statements = managed_statements.normalized(managed, path, self.ctx)
        if statements is None:
            self._add_statements(identity, {"Statement": managed["statements"]}, path, pinned=True,
                                 origin=origin)
            return
        for normalized in statements:  # their patterns are already the KMS ones
            normalized["index"] = len(identity["statements"])
            normalized["origin"] = origin
            identity["statements"].append(normalized)

    def _add_statements(self, identity: dict, document: Any, path: str, *, pinned: bool,
                        origin: dict) -> None:
        for statement, spath in statements_of(document, path, self.ctx):
            normalized = normalize_statement(statement, path if pinned else spath,
                                             len(identity["statements"]), self.ctx, key_policy=False,
                                             element_path=path if pinned else None)
            if normalized is not None and normalized["actions"]:
                normalized["origin"] = origin
                normalized["patterns"] = kms_patterns(normalized)
                identity["statements"].append(normalized)


def _globals_function(document: dict) -> dict:
    section = document.get("Globals")
    function = section.get("Function") if isinstance(section, dict) else None
    return function if isinstance(function, dict) else {}
