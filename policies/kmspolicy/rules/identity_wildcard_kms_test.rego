# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.identity_wildcard_kms_test

import data.kmspolicy.lib.fixtures as fx

_key := fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])])

cases["fail_decrypt_on_every_key"] := {
	"input": fx.input_with_identity_list(_key, [fx.role_identity("Worker", [fx.identity_allow(0, ["kms:Decrypt"], ["Key"], true)])]),
	"findings": {{
		"message": "Worker's IAM policy allows kms:Decrypt on every KMS key: any key that delegates to the account (Key) accepts these calls.",
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
