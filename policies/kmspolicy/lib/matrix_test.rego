# Cases: an input and the whole value of `target` (a ref under data) for it: the matrix
# in short (matrix.summary) or a probe of matrix.explain. bridge/regotest.py runs them on
# the embedded engine; `test_cases` runs them on OPA.
package kmspolicy.lib.matrix_test

import data.kmspolicy.lib.fixtures as fx
import data.kmspolicy.lib.matrix

_summary := "kmspolicy.lib.matrix.summary"

_probe := "kmspolicy.lib.matrix_test.mx_probe"

_console_admin := [
	"kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
	"kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:ScheduleKeyDeletion",
	"kms:CancelKeyDeletion",
]

_denied := {"verdict": "denied", "evidence": set()}

_nothing := {"use": _denied, "manage": _denied, "permissions": _denied, "read": _denied}

_all(verdict, evidence) := {c: v |
	some c in ["use", "manage", "permissions", "read"]
	v := {"verdict": verdict, "evidence": evidence}
}

_fn_role(statements) := fx.function_role("Fn", statements)

_delegating_key(identity_ids) := fx.key_with(
	[
		fx.allow(0, [fx.account(0)], ["kms:*"]),
		fx.allow(1, [fx.user(1, "keyuser")], ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"]),
	],
	fx.undeclared, identity_ids,
)

cases["seed_function_role_is_bilateral"] := {
	"target": _summary,
	"input": fx.input_with_identity_list(
		_delegating_key([{"id": "FnRole", "label": "Fn"}]),
		[_fn_role([fx.identity_allow(0, ["kms:Encrypt"], ["Key"], false)])],
	),
	"findings": {"Key": {
		"account:self": _all("allowed", {"delegation:0"}),
		"identity:FnRole": object.union(_nothing, {"use": {"verdict": "allowed", "evidence": {"delegation:0", "identity:0"}}}),
		# its IAM policies are not in the template: what the account statement delegates
		# beyond what the key policy names it for is unknown, not denied
		"user:self:keyuser": {
			"use": {"verdict": "allowed", "evidence": {"direct:1"}},
			"read": {"verdict": "allowed", "evidence": {"direct:1"}},
			"manage": {"verdict": "unknown", "evidence": {"delegation:0"}},
			"permissions": {"verdict": "unknown", "evidence": {"delegation:0"}},
		},
	}},
}

cases["console_admin_reaches_use_through_two_paths"] := {
	"target": _summary,
	"input": fx.input_with(fx.key([fx.allow(0, [fx.user(0, "admin")], _console_admin)])),
	"findings": {"Key": {
		"account:self": _nothing,
		"user:self:admin": {
			"use": {"verdict": "reachable", "evidence": {"kms:CreateGrant:0", "kms:PutKeyPolicy:0"}},
			"manage": {"verdict": "allowed", "evidence": {"direct:0"}},
			"permissions": {"verdict": "allowed", "evidence": {"direct:0"}},
			"read": {"verdict": "allowed", "evidence": {"direct:0"}},
		},
	}},
}

cases["deny_narrows_and_is_evidence"] := {
	"target": _summary,
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.user(0, "alice")], ["kms:Decrypt", "kms:Encrypt"]),
		fx.deny(1, [fx.user(1, "alice")], ["kms:Decrypt"]),
	])),
	"findings": {"Key": {
		"account:self": _nothing,
		"user:self:alice": object.union(_nothing, {"use": {"verdict": "allowed", "evidence": {"direct:0", "deny:1"}}}),
	}},
}

cases["deny_of_everything_leaves_denied_with_its_statement"] := {
	"target": _summary,
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.user(0, "alice")], ["kms:Decrypt"]),
		fx.deny(1, [fx.account(1)], ["kms:*"]),
	])),
	"findings": {"Key": {
		"account:self": _all("denied", {"deny:1"}),
		"user:self:alice": object.union(_all("denied", {"deny:1"}), {"use": {"verdict": "denied", "evidence": {"direct:0", "deny:1"}}}),
	}},
}

cases["condition_makes_it_conditional"] := {
	"target": _summary,
	"input": fx.input_with(fx.key([object.union(
		fx.allow(0, [fx.anyone(0)], ["kms:Decrypt"]),
		{"condition": fx.condition({"keys": ["kms:viaservice"], "path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Condition"})},
	)])),
	"findings": {"Key": {
		"*": object.union(_nothing, {"use": {"verdict": "conditional", "evidence": {"direct:0"}}}),
		"account:self": object.union(_nothing, {"use": {"verdict": "conditional", "evidence": {"direct:0"}}}),
	}},
}

# "*" with kms:CallerAccount equal to the own account: exactly the account's principals,
# with no IAM permission needed; a stranger is not admitted.
cases["caller_account_condition_scopes_anyone"] := {
	"target": _summary,
	"input": fx.input_with(fx.key([object.union(
		fx.allow(0, [fx.anyone(0)], ["kms:Decrypt"]),
		{"condition": fx.condition({"caller_restricted": true, "path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Condition"})},
	)])),
	"findings": {"Key": {
		"*": _nothing,
		"account:self": object.union(_nothing, {"use": {"verdict": "allowed", "evidence": {"direct:0"}}}),
	}},
}

cases["identity_deny_wins_over_delegation"] := {
	"target": _summary,
	"input": fx.input_with_identity_list(
		fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], fx.undeclared, ["Role"]),
		[fx.role_identity("Role", [
			fx.identity_allow(0, ["kms:Decrypt", "kms:Encrypt"], ["Key"], true),
			object.union(fx.identity_allow(1, ["kms:Decrypt"], ["Key"], true), {"effect": "Deny"}),
		])],
	),
	"findings": {"Key": {
		"account:self": _all("allowed", {"delegation:0"}),
		"identity:Role": object.union(_nothing, {"use": {"verdict": "allowed", "evidence": {"delegation:0", "identity:0", "identity-deny:1"}}}),
	}},
}

# explain: what plays no part for the function role, and what it lacks.
mx_probe := {name: short |
	some name, actions in {"encrypt": {"kms:Encrypt"}, "decrypt": {"kms:Decrypt"}}
	c := matrix.explain("Key", "identity:FnRole", actions)
	short := {
		"verdict": c.verdict,
		"unrelated": [i | some u in c.unrelated; i := u.index],
		"incomplete": [i | some u in c.incomplete; i := u.index],
	}
}

cases["explain_names_unrelated_and_incomplete_statements"] := {
	"target": _probe,
	"input": fx.input_with_identity_list(
		_delegating_key([{"id": "FnRole", "label": "Fn"}]),
		[_fn_role([fx.identity_allow(0, ["kms:Encrypt"], ["Key"], false)])],
	),
	"findings": {
		"encrypt": {"verdict": "allowed", "unrelated": [1], "incomplete": []},
		"decrypt": {"verdict": "denied", "unrelated": [1], "incomplete": [0]},
	},
}

# escalation: what each CreateGrant path gives the role
mx_gains := {name: gains |
	some name in ["use", "read"]
	c := matrix.matrix.Key["identity:Role"][name]
	gains := [g | some p in c.escalation; g := p.gains]
}

cases["identity_grant_operations_narrow_a_bilateral_grant_path"] := {
	"target": "kmspolicy.lib.matrix_test.mx_gains",
	"input": fx.input_with_identity_list(
		fx.key_with([fx.allow(0, [fx.account(0)], ["kms:CreateGrant"])], fx.undeclared, ["Role"]),
		[fx.role_identity("Role", [object.union(
			fx.identity_allow(0, ["kms:CreateGrant"], ["Key"], true),
			{"condition": fx.condition({"grant_operations": ["kms:Decrypt"]})},
		)])],
	),
	"findings": {"use": [["kms:Decrypt"]], "read": []},
}


_mx_test_value("kmspolicy.lib.matrix.summary") := matrix.summary

_mx_test_value("kmspolicy.lib.matrix_test.mx_probe") := mx_probe

_mx_test_value("kmspolicy.lib.matrix_test.mx_gains") := mx_gains
