"""The intent of each key and the new key policy that serves it.

Intent: `--admin/--user/--deployer/--root` overrides, else the key's Metadata.kmspolicy,
else what the rules infer (`data.kmspolicy.lib.intent`, so `fix` and the rules agree);
deployers from the config `deployers`. Each principal is written as `naming` decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from ..access.errors import AccessError
from ..engines.embedded import EmbeddedEngine
from .analysis import Analyzed
from .guards import check_others, check_resolved, first_if, kept_statements
from .naming import ACCOUNT_PRINCIPAL, Naming, NamingError, as_value, name_identity, node_at
from .needs import administrator_actions, requested_use
from .policy import GRANT_CONDITION, Statement, deployer_actions, ordered, root_statement, sid_of

INTENT_QUERY = ("{kid: {\"admins\": data.kmspolicy.lib.intent.admin_ids[kid], "
                "\"users\": data.kmspolicy.lib.intent.intended_user_ids[kid]} | "
                "some kid; input.keys[kid]}")


@dataclass
class Overrides:
    admins: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    deployers: tuple[str, ...] = ()
    root: str | None = None


@dataclass
class KeyPlan:
    key_id: str
    root: str
    admins: list[str]  # subject ids
    users: list[str]
    statements: list[Statement]
    source: str  # of the intent: declared (Metadata) | command line | inferred
    policy_path: str = ""  # where the new KeyPolicy goes
    inserted: bool = False  # the key had no KeyPolicy (the default policy): one is added
    metadata: dict | None = None
    notes: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # subject id -> display name

    def policy(self, original: Any) -> dict:
        out: dict[str, Any] = {"Version": "2012-10-17"}
        if isinstance(original, dict) and isinstance(original.get("Id"), str):
            out["Id"] = original["Id"]
        out["Statement"] = [s.document() for s in self.statements]
        return out


def intent_sets(analyzed: Analyzed, modules: dict[str, str], data: dict) -> dict:
    found = EmbeddedEngine(modules, data, query=INTENT_QUERY).evaluate(analyzed.input)
    return {kid: {"admins": sorted(v["admins"]), "users": sorted(v["users"])} for kid, v in found.items()}


class Planner:
    def __init__(self, analyzed: Analyzed, document: dict, config: dict, overrides: Overrides,
                 intents: dict):
        self.analyzed = analyzed
        self.input = analyzed.input
        self.document = document
        self.config = config
        self.overrides = overrides
        self.intents = intents
        self.typed: dict[str, Any] = {}  # subject id -> value the operator typed

    def plan(self, kid: str) -> KeyPlan:
        key = self.input["keys"][kid]
        inserted = not key["policy_path"]
        policy_path = key["policy_path"] or f"{key['path']}/Properties/KeyPolicy"
        if inserted and not isinstance((self.document["Resources"][kid]).get("Properties"), dict):
            raise NamingError(f"{kid} has neither a KeyPolicy nor Properties to add one to")
        variant = None if inserted else first_if(node_at(self.document, policy_path), policy_path)
        if variant is not None:
            span, _ = self.analyzed.template.source_map.locate(variant)
            raise NamingError(f"its KeyPolicy differs between deployable variants (Fn::If at line {span.line}): "
                              "fix writes one policy for every variant and would drop the difference")
        intent = key["intent"]
        o = self.overrides
        admins = self._resolve(kid, o.admins) if o.admins else list(intent["admins"] or self.intents[kid]["admins"])
        users = self._resolve(kid, o.users) if o.users else list(intent["users"] or self.intents[kid]["users"])
        users = [u for u in users if u not in admins or u in (intent["users"] or [])]
        chosen = bool(o.admins or o.users or o.root)
        source = "command line" if chosen else "declared" if intent["declared"] else "inferred"
        check_resolved(key, admins + users, inferred=not (o.admins or o.users or intent["declared"]))
        deployers = self._deployer_subjects(key)
        if not (o.admins or o.users or intent["declared"]):
            check_others(key, set(admins) | set(users) | deployers, set(self.config.get("accounts") or []))
        admins = [a for a in admins if a not in deployers]
        users = [u for u in users if u not in deployers]
        root = o.root or intent.get("root") or "break-glass"
        plan = KeyPlan(kid, root, admins, users, [], source, policy_path=policy_path, inserted=inserted)
        taken: set[str] = set()
        plan.statements.append(root_statement(root))
        taken.add(plan.statements[0].sid)
        plan.statements += kept_statements(key, self.document)
        for naming, who in self._deployers(root):
            plan.statements.append(Statement("deployer", sid_of("Deployer", who, taken), naming,
                                             deployer_actions(key, self._has_alias(kid)),
                                             ["Deployer: CloudFormation creates, updates and deletes the key "
                                              "with these actions; CreateKey and PutKeyPolicy pass the policy "
                                              "lockout safety check only if it keeps kms:PutKeyPolicy.",
                                              *naming.notes], who=who))
        for sid in admins:
            label, naming = self._label(key, sid), self._naming(key, sid)
            plan.labels[sid] = label
            plan.statements.append(Statement("admin", sid_of("Administer", label, taken), naming,
                                             administrator_actions(key, sid),
                                             [f"Administrator {label}: management and read actions only; no use "
                                              "action, no kms:CreateGrant, no kms:PutKeyPolicy, so it cannot give "
                                              "itself use.", *naming.notes], who=sid,
                                             iam_user=self._is_iam_user(key, sid)))
        for sid in users:
            label, naming = self._label(key, sid), self._naming(key, sid)
            plan.labels[sid] = label
            actions, grants, where = requested_use(self.input, key, sid)
            if not actions:
                raise NamingError(f"{label} is an intended user of {kid}, but neither its identity policies nor "
                                  "the current key policy allow it a use action this key supports, so the "
                                  "actions it needs are not known (allow them in its IAM policy first)")
            plan.statements.append(Statement("user", sid_of("Use", label, taken), naming, ordered(actions),
                                             [f"User {label}: {where}.", *naming.notes], who=sid,
                                             iam_user=self._is_iam_user(key, sid)))
            if grants:
                plan.statements.append(Statement("grant", sid_of("Grant", label, taken), naming,
                                                 ["kms:CreateGrant"],
                                                 [f"{label} asks for kms:CreateGrant: only for AWS services acting "
                                                  "for it (kms:GrantIsForAWSResource)."],
                                                 GRANT_CONDITION, who=sid, iam_user=self._is_iam_user(key, sid)))
        if source != "declared" and intent["path"] is None:
            plan.metadata = {"admins": [self._entry(key, s) for s in admins],
                             "users": [self._entry(key, s) for s in users], "root": root}
        return plan

    # --- intent entries ---------------------------------------------------------

    def _deployer_subjects(self, key: dict) -> set[str]:
        """Subjects a deployer pattern names: they get the deployer statement, not another."""
        patterns = list(self.overrides.deployers) or list(self.config.get("deployers") or [])
        return {sid for sid, subject in key["subjects"].items() if subject["kind"] not in ("account", "any")
                and any(fnmatchcase(subject["label"], p) for p in patterns)}

    def _is_iam_user(self, key: dict, sid: str) -> bool:
        subject = key["subjects"].get(sid) or {}
        if sid.startswith("identity:"):
            return (self.input["identities"].get(sid.split(":", 1)[1]) or {}).get("kind") == "user"
        return subject.get("kind") == "user"

    def _resolve(self, kid: str, texts: tuple[str, ...]) -> list[str]:
        out = []
        for text in texts:
            try:
                sid = self.analyzed.resolve(text, self.input["keys"][kid])
            except AccessError as exc:
                raise NamingError(str(exc)) from None
            if not sid.startswith("identity:"):
                self.typed.setdefault(sid, as_value(text))
            if sid not in out:
                out.append(sid)
        return out

    def _label(self, key: dict, sid: str) -> str:
        subject = key["subjects"].get(sid) or {}
        return subject.get("label") or sid

    def _entry(self, key: dict, sid: str) -> Any:
        if sid.startswith("identity:"):
            iid = sid.split(":", 1)[1]
            return self.input["identities"].get(iid, {}).get("owner") or iid
        return self._raw_value(key, sid)

    def _naming(self, key: dict, sid: str) -> Naming:
        if sid.startswith("identity:"):
            identity = self.input["identities"].get(sid.split(":", 1)[1])
            if identity is None:
                raise NamingError(f"{sid}: not an identity this template defines")
            return name_identity(self.document, identity, key["id"])
        return Naming(self._raw_value(key, sid))

    def _raw_value(self, key: dict, sid: str) -> Any:
        if sid in self.typed:
            return self.typed[sid]
        for st in key["statements"]:
            for p in st.get("principals") or []:
                if p["id"] == sid and p.get("path"):
                    return node_at(self.document, p["path"])
        intent_path = key["intent"].get("path")
        if intent_path:
            block = node_at(self.document, intent_path)
            normalizer = self.analyzed.normalizer
            for role in ("admins", "users"):
                items = block.get(role) if isinstance(block, dict) else None
                for i, item in enumerate(items if isinstance(items, list) else [items] if items else []):
                    if normalizer._subject_of(item, f"{intent_path}/{role}/{i}") == sid:
                        return item
        subject = key["subjects"].get(sid) or {}
        raise NamingError(f"cannot name {subject.get('label', sid)} in the key policy of {key['id']}: it is "
                          "outside the template and no ARN for it is written anywhere (give --admin/--user ARN)")

    # --- actions ----------------------------------------------------------------

    # --- deployers --------------------------------------------------------------

    def _deployers(self, root: str) -> list[tuple[Naming, str]]:
        patterns = list(self.overrides.deployers) or list(self.config.get("deployers") or [])
        if not patterns and root != "delegate":
            raise NamingError("no deployer is known: CloudFormation creates the key as the deploying role, and "
                              "the lockout safety check needs it to keep kms:PutKeyPolicy; name it with "
                              "--deployer ARN or `deployers` in the kmspolicy config")
        return [deployer_naming(p) for p in patterns]

    def _has_alias(self, kid: str) -> bool:
        for resource in (self.document.get("Resources") or {}).values():
            if isinstance(resource, dict) and resource.get("Type") == "AWS::KMS::Alias":
                target = (resource.get("Properties") or {}).get("TargetKeyId")
                if target in ({"Ref": kid}, {"Fn::GetAtt": [kid, "Arn"]}, {"Fn::GetAtt": [kid, "KeyId"]}):
                    return True
        return False


def deployer_naming(pattern: str) -> tuple[Naming, str]:
    """A deployer pattern (config `deployers` or --deployer): an ARN whose only wildcard is
    the account is the stack's own account's role, named directly; any other wildcard
    narrows the account principal by aws:PrincipalArn."""
    parts = pattern.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam":
        raise NamingError(f"deployer '{pattern}' is not an IAM role or user ARN")
    account = "${AWS::AccountId}" if parts[4] in ("*", "") else parts[4]
    partition = "${AWS::Partition}" if parts[1] in ("aws", "*") else parts[1]
    arn = f"arn:{partition}:iam::{account}:{parts[5]}"
    who = parts[5]
    if "*" not in parts[5] and "?" not in parts[5]:
        note = "named in the stack's own account" if parts[4] == "*" else ""
        return Naming(as_value(arn), notes=[f"Deployer {who}: {note}."] if note else []), who
    return (Naming(ACCOUNT_PRINCIPAL, {"ArnLike": {"aws:PrincipalArn": as_value(arn)}},
                   [f"Deployer {pattern} is a pattern: the account principal narrowed to it by aws:PrincipalArn "
                    "(its IAM policy must allow these actions too)."], through_account=True), who)
