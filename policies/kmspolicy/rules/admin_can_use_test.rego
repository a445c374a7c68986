package kmspolicy.rules.admin_can_use_test

import data.kmspolicy.lib.fixtures as fx
import data.kmspolicy.rules.admin_can_use

test_fail_same_principal_admin_and_user if {
	k := fx.key([
		fx.allow(0, [fx.user(0, "ops")], ["kms:Describe*", "kms:Disable*"]),
		fx.allow(1, [fx.user(1, "ops")], ["kms:Decrypt", "kms:Encrypt"]),
	])
	admin_can_use.findings == {{
		"rule": "KP002", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/1/Action/0",
		"message": "arn:aws:iam::${AWS::AccountId}:user/ops administers Key (inferred) and is also allowed kms:Decrypt, kms:Encrypt, so it can use the key it manages.",
		"related": [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/1/Action/1", "message": "kms:Encrypt allows use"}],
	}} with input as fx.input_with(k)
}

test_success_separate_admin_and_user if {
	k := fx.key([
		fx.allow(0, [fx.user(0, "admin")], ["kms:Describe*", "kms:Disable*"]),
		fx.allow(1, [fx.user(1, "app")], ["kms:Decrypt"]),
	])
	count(admin_can_use.findings) == 0 with input as fx.input_with(k)
}

test_success_use_denied_to_admin if {
	k := fx.key([
		fx.allow(0, [fx.user(0, "ops")], ["kms:Describe*", "kms:Decrypt"]),
		fx.deny(1, [fx.user(1, "ops")], ["kms:Decrypt"]),
	])
	count(admin_can_use.findings) == 0 with input as fx.input_with(k)
}

test_fail_declared_admin_uses_through_delegation if {
	k := fx.key_with(
		[fx.allow(0, [fx.account(0)], ["kms:*"])],
		{"declared": true, "admins": ["identity:AdminRole"], "users": [], "root": null, "path": null},
		["AdminRole"],
	)
	idents := {"AdminRole": fx.role_identity("AdminRole", [fx.identity_allow(0, ["kms:Decrypt"], ["Key"], false)])}
	findings := admin_can_use.findings with input as fx.input_with_identities(k, idents)
	some f in findings
	f.path == "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/0/Action/0"
	f.related == [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/0", "message": "the key policy delegates to the account here"}]
}
