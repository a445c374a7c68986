# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.admin_can_use_test

import data.kmspolicy.lib.fixtures as fx

cases["fail_same_principal_admin_and_user"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.user(0, "ops")], ["kms:Describe*", "kms:Disable*"]),
		fx.allow(1, [fx.user(1, "ops")], ["kms:Decrypt", "kms:Encrypt"]),
	])),
	"findings": {{
		"rule": "KP002", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/1/Action/0",
		"message": "arn:aws:iam::${AWS::AccountId}:user/ops administers Key (inferred) and is also allowed kms:Decrypt, kms:Encrypt, so it can use the key it manages.",
		"related": [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/1/Action/1", "message": "kms:Encrypt allows use"}],
	}},
}

cases["fail_declared_admin_uses_through_delegation"] := {
	"input": fx.input_with_identities(
		fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], fx.declared(["identity:AdminRole"], [], null), ["AdminRole"]),
		{"AdminRole": fx.role_identity("AdminRole", [fx.identity_allow(0, ["kms:Decrypt"], ["Key"], false)])},
	),
	"findings": {{
		"rule": "KP002", "resource": "Key",
		"path": "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/0/Action/0",
		"message": "AdminRole administers Key (declared) and is also allowed kms:Decrypt, so it can use the key it manages.",
		"related": [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/0", "message": "the key policy delegates to the account here"}],
	}},
}

cases["success_separate_admin_and_user"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.user(0, "admin")], ["kms:Describe*", "kms:Disable*"]),
		fx.allow(1, [fx.user(1, "app")], ["kms:Decrypt"]),
	])),
	"findings": set(),
}

cases["success_use_denied_to_admin"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.user(0, "ops")], ["kms:Describe*", "kms:Decrypt"]),
		fx.deny(1, [fx.user(1, "ops")], ["kms:Decrypt"]),
	])),
	"findings": set(),
}

cases["success_declared_admin_without_identity_grant"] := {
	"input": fx.input_with_identities(
		fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], fx.declared(["identity:AdminRole"], [], null), ["AdminRole"]),
		{"AdminRole": fx.role_identity("AdminRole", [fx.identity_allow(0, ["kms:Describe*"], ["Key"], false)])},
	),
	"findings": set(),
}
