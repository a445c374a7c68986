# METADATA
# title: Test fixtures
# description: |
#   Builders for normalized inputs (schema v1) used by the rules' unit tests. Only what a
#   test states differs from the defaults, so each test reads as the policy it describes.
package kmspolicy.lib.fixtures

import data.kmspolicy.lib.catalog

policy_path := "/Resources/Key/Properties/KeyPolicy"

statement_path(i) := concat("", [policy_path, "/Statement/", format_int(i, 10)])

account(i) := principal(i, "account:self", "account", "self", "arn:aws:iam::${AWS::AccountId}:root", null)

anyone(i) := principal(i, "*", "any", "*", "*", null)

user(i, name) := principal(i, concat("", ["user:self:", name]), "user", "self", concat("", ["arn:aws:iam::${AWS::AccountId}:user/", name]), null)

role(i, name) := principal(i, concat("", ["role:self:", name]), "role", "self", concat("", ["arn:aws:iam::${AWS::AccountId}:role/", name]), null)

service(i, name) := object.union(principal(i, concat("", ["service:", name]), "service", "", name, null), {
	"name": name,
	"path": concat("", [statement_path(i), "/Principal/Service"]),
})

external_account(i, acct) := principal(i, concat("", ["account:", acct]), "account", acct, concat("", ["arn:aws:iam::", acct, ":root"]), null)

unresolved(i, raw) := principal(i, concat("", ["unknown:", raw]), "unknown", "unknown", raw, null)

# A principal that designates an identity the template defines.
identity(i, id) := principal(i, concat("", ["identity:", id]), "role", "self", concat("", ["!GetAtt ", id, ".Arn"]), id)

principal(i, id, kind, acct, raw, ident) := {
	"id": id, "kind": kind, "account": acct, "name": raw, "raw": raw,
	"path": concat("", [statement_path(i), "/Principal/AWS"]), "identity": ident,
}

no_condition := {
	"present": false, "keys": [], "caller_restricted": false, "root_only": false,
	"grant_for_aws_resource": false, "grant_operations": null, "service_scoped": false,
	"encryption_context": false, "path": null,
}

# A condition described by the bridge's classification flags, with the Condition block
# (values concrete, as bridge/access/concrete.py makes them) that the access model
# evaluates: each flag stands for a typical condition of its kind. `overrides` may give
# the block itself.
condition(overrides) := object.union(object.union(object.union(no_condition, {"present": true}), {"block": _block(overrides)}), overrides)

self_account := "000000000000"

_block(overrides) := object.union_n([b |
	some flag
	value := overrides[flag]
	b := _block_of(flag, value)
])

_block_of("keys", keys) := {"StringEquals": {"kms:ViaService": ["s3.us-east-1.amazonaws.com"]}} if "kms:viaservice" in keys

_block_of("root_only", true) := {"ArnEquals": {"aws:PrincipalArn": [concat("", ["arn:aws:iam::", self_account, ":root"])]}}

_block_of("grant_for_aws_resource", true) := {"Bool": {"kms:GrantIsForAWSResource": ["true"]}}

_block_of("grant_operations", ops) := {"ForAllValues:StringEquals": {"kms:GrantOperations": [trim_prefix(op, "kms:") | some op in ops]}}

_block_of("caller_restricted", true) := {"StringEquals": {"kms:CallerAccount": [self_account]}}

_block_of("service_scoped", true) := {"StringEquals": {"aws:SourceAccount": [self_account]}}

_block_of("encryption_context", true) := {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": ["arn:aws:cloudtrail:*:000000000000:trail/*"]}}

# Action patterns matched against the catalog (exact names or a trailing *).
patterns(i, texts) := patterns_at(statement_path(i), texts)

patterns_at(base, texts) := [p |
	some n
	text := texts[n]
	p := {
		"pattern": text, "actions": _expand(text), "unresolved": false,
		"path": concat("", [base, "/Action/", format_int(n, 10)]),
	}
]

_expand(text) := [a | some a in catalog.key_actions; a == text] if {
	not endswith(text, "*")
} else := [a | some a in catalog.key_actions; startswith(a, trim_suffix(text, "*"))]

statement(i, effect, principals, texts, cond) := {
	"index": i, "sid": "", "path": statement_path(i), "effect": effect,
	"effect_path": concat("", [statement_path(i), "/Effect"]), "principal_mode": "Principal",
	"principals": principals, "action_mode": "Action", "patterns": patterns(i, texts),
	"actions": _actions(patterns(i, texts)), "classes": _classes(_actions(patterns(i, texts))),
	"resources": null, "condition": cond, "origin": null,
}

allow(i, principals, texts) := statement(i, "Allow", principals, texts, no_condition)

allow_when(i, principals, texts, overrides) := statement(i, "Allow", principals, texts, condition(overrides))

not_principal_allow(i, principals, texts) := object.union(statement(i, "Allow", principals, texts, no_condition), {
	"principal_mode": "NotPrincipal",
	"principals": [object.union(p, {"path": concat("", [statement_path(i), "/NotPrincipal/AWS"])}) | some p in principals],
})

deny(i, principals, texts) := statement(i, "Deny", principals, texts, no_condition)

_actions(ps) := sort({a | some p in ps; some a in p.actions})

_classes(actions) := {c: names |
	some c in ["use", "permissions", "manage", "read"]
	names := [a | some a in actions; a in _class_sets[c]]
	count(names) > 0
}

_class_sets := {
	"use": catalog.use_actions, "permissions": catalog.permissions_actions,
	"manage": catalog.manage_actions, "read": catalog.read_actions,
}

# An identity-policy statement allowing `texts` on the given template keys.
identity_allow(i, texts, keys, any_key) := object.union(statement(i, "Allow", [], texts, no_condition), {
	"principal_mode": null,
	"path": identity_statement_path(i),
	"patterns": patterns_at(identity_statement_path(i), texts),
	"resources": {"mode": "Resource", "keys": keys, "any_key": any_key, "unresolved": false, "paths": []},
})

identity_statement_path(i) := concat("", ["/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/", format_int(i, 10)])

undeclared := {"declared": false, "admins": [], "users": [], "root": null, "path": null}

declared(admins, users, root) := {"declared": true, "admins": admins, "users": users, "root": root, "path": "/Resources/Key/Metadata/kmspolicy"}

# A key with its subjects derived as the bridge derives them; `identities` lists the
# template identities (ids or identity objects).
key(statements) := key_with(statements, undeclared, [])

key_with(statements, intent, identities) := {
	"id": "Key", "type": "AWS::KMS::Key", "path": "/Resources/Key",
	"key_spec": "SYMMETRIC_DEFAULT", "key_usage": "ENCRYPT_DECRYPT", "origin": "AWS_KMS",
	"custom_key_store": false,
	"rotation": true, "rotation_path": "/Resources/Key/Properties/EnableKeyRotation",
	"pending_window": null, "bypass_lockout": false, "bypass_path": null, "multi_region": false,
	"enabled": true, "policy_path": policy_path, "default_policy": false,
	"statements": statements, "referenced_by": [], "policy_complete": true,
	"intent": intent, "suppress": [],
	"subjects": _subjects(statements, identities),
}

_subjects(statements, identities) := object.union_n([
	{"account:self": {"id": "account:self", "kind": "account", "account": "self", "label": "any IAM principal of this account", "identity": null}},
	{p.id: s |
		some st in statements
		some p in st.principals
		p.identity == null
		p.id != "account:self"
		s := {"id": p.id, "kind": p.kind, "account": p.account, "label": _label(p), "identity": null}
	},
	{sid: s |
		some entry in identities
		id := _identity_id(entry)
		sid := concat("", ["identity:", id])
		s := {"id": sid, "kind": "identity", "account": "self", "label": _identity_label(entry), "identity": id}
	},
])

# Identities are given by id, or as identity objects (whose label a function role sets).
_identity_id(entry) := entry if is_string(entry)

_identity_id(entry) := entry.id if is_object(entry)

_identity_label(entry) := entry if is_string(entry)

_identity_label(entry) := entry.label if is_object(entry)

_label(p) := concat("", ["any IAM principal of account ", p.account]) if p.kind == "account"

_label(p) := p.raw if p.kind != "account"

input_with(k) := {"schema_version": 2, "file": "t.yaml", "sam": false, "keys": {"Key": k}, "identities": {}}

input_with_identities(k, identities) := object.union(input_with(k), {"identities": identities})

# An input with these identity objects, keyed by id.
input_with_identity_list(k, identities) := input_with_identities(k, {i.id: i | some i in identities})

role_identity(id, statements) := {
	"id": id, "kind": "role", "path": concat("", ["/Resources/", id]), "owner": null,
	"account": "self", "statements": statements, "managed_policies": [], "label": id,
}

# The implicit execution role of a SAM function.
function_role(function, statements) := object.union(role_identity(concat("", [function, "Role"]), statements), {
	"owner": function, "label": function, "path": concat("", ["/Resources/", function]),
})

with_key(k, overrides) := object.union(k, overrides)
