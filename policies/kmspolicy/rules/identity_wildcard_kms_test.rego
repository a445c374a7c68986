# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.identity_wildcard_kms_test

import data.kmspolicy.lib.fixtures as fx

_key := fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])])

_worker := fx.role_identity("Worker", [fx.identity_allow(0, ["kms:Decrypt"], ["Key"], true)])

# The key that accepts the calls (by the evaluated access) is named and related.
cases["fail_decrypt_on_every_key"] := {
	"input": fx.input_with_identity_list(fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], fx.undeclared, [_worker]), [_worker]),
	"findings": {{
		"message": "Worker's IAM policy allows kms:Decrypt on every KMS key: any key that delegates to the account accepts these calls (in this template: Key).",
		"path": "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/0",
		"related": [{"message": "Key accepts these calls", "path": "/Resources/Key"}],
		"resource": "Worker",
		"rule": "KP013",
	}},
}

# Two such statements of one identity: one finding, the second statement related.
cases["fail_two_statements_one_finding"] := {
	"input": fx.input_with_identity_list(_key, [fx.role_identity("Worker", [
		fx.identity_allow(0, ["kms:Decrypt"], [], true),
		fx.identity_allow(1, ["kms:CreateGrant"], [], true),
	])]),
	"findings": {{
		"message": "Worker's IAM policy allows kms:CreateGrant, kms:Decrypt on every KMS key: any key that delegates to the account accepts these calls (no key of this template accepts them from it).",
		"path": "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/0",
		"related": [{"message": "also allows kms:CreateGrant on every key", "path": "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/1"}],
		"resource": "Worker",
		"rule": "KP013",
	}},
}

# A key the statement's NotResource excludes does not accept the calls, and the message
# does not claim every key.
# (`keys` lists the template keys the statement matches: none here.)
_excluding := fx.role_identity("Worker", [object.union(fx.identity_allow(0, ["kms:Decrypt"], [], true), {
	"resources": {"mode": "NotResource", "keys": [], "any_key": true, "unresolved": false, "paths": []},
})])

cases["fail_not_resource_excluded_key_is_not_listed"] := {
	"input": fx.input_with_identity_list(fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], fx.undeclared, [_excluding]), [_excluding]),
	"findings": {{
		"message": "Worker's IAM policy allows kms:Decrypt on every KMS key but those its NotResource excludes: any key that delegates to the account accepts these calls (no key of this template accepts them from it).",
		"path": "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/0",
		"related": [],
		"resource": "Worker",
		"rule": "KP013",
	}},
}

cases["success_scoped_to_the_key"] := {
	"input": fx.input_with_identity_list(_key, [fx.role_identity("Worker", [fx.identity_allow(0, ["kms:Decrypt"], ["Key"], false)])]),
	"findings": set(),
}

cases["success_read_only_on_every_key"] := {
	"input": fx.input_with_identity_list(_key, [fx.role_identity("Auditor", [fx.identity_allow(0, ["kms:DescribeKey", "kms:List*"], ["Key"], true)])]),
	"findings": set(),
}
