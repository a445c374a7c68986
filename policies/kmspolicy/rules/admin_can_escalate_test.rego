# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.admin_can_escalate_test

import data.kmspolicy.lib.fixtures as fx

_console_admin := [
	"kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
	"kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:ScheduleKeyDeletion",
	"kms:CancelKeyDeletion",
]

_gains := "every cryptographic operation of a symmetric key (kms:Decrypt, kms:Encrypt, kms:GenerateDataKey and 5 more)"

cases["fail_console_admin_has_two_paths"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.user(0, "admin")], _console_admin)])),
	"findings": {
		{
			"rule": "KP003", "resource": "Key",
			"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0",
			"message": concat("", ["arn:aws:iam::${AWS::AccountId}:user/admin administers Key (inferred) and is allowed kms:CreateGrant through kms:Create*, so it can give itself ", _gains, ": a grant it creates for itself needs no other permission."]),
			"related": [],
		},
		{
			"rule": "KP003", "resource": "Key",
			"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/4",
			"message": concat("", ["arn:aws:iam::${AWS::AccountId}:user/admin administers Key (inferred) and is allowed kms:PutKeyPolicy through kms:Put*, so it can give itself ", _gains, ": it can rewrite the key policy to allow anything. If this principal deploys the stack, list it under `deployers` in the kmspolicy config."]),
			"related": [],
		},
	},
}

cases["fail_bilateral_admin_through_identity_policy"] := {
	"input": fx.input_with_identities(
		fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], fx.declared(["identity:AdminRole"], [], null), ["AdminRole"]),
		{"AdminRole": fx.role_identity("AdminRole", [fx.identity_allow(0, ["kms:CreateGrant", "kms:Describe*"], ["Key"], true)])},
	),
	"findings": {{
		"rule": "KP003", "resource": "Key",
		"path": "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/0/Action/0",
		"message": "AdminRole administers Key (declared) and is allowed kms:CreateGrant through kms:CreateGrant, so it can give itself every cryptographic operation of a symmetric key (kms:Decrypt, kms:Encrypt, kms:GenerateDataKey and 5 more): a grant it creates for itself needs no other permission.",
		"related": [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/0", "message": "the key policy delegates to the account here"}],
	}},
}

cases["success_create_grant_for_aws_resource_only"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.user(0, "admin")], ["kms:Describe*", "kms:Enable*", "kms:Disable*", "kms:ScheduleKeyDeletion"]),
		object.union(fx.allow(1, [fx.user(1, "admin")], ["kms:CreateGrant"]), {"condition": fx.condition({"grant_for_aws_resource": true})}),
	])),
	"findings": set(),
}

cases["success_configured_deployer_holds_put_key_policy"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.role(0, "cfn-deployer")], ["kms:PutKeyPolicy", "kms:DescribeKey"])])),
	"data": {"deployers": ["arn:aws:iam::*:role/cfn-deployer"]},
	"findings": set(),
}

cases["success_put_key_policy_denied"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.user(0, "admin")], ["kms:Put*", "kms:Describe*"]),
		fx.deny(1, [fx.user(1, "admin")], ["kms:PutKeyPolicy"]),
	])),
	"findings": set(),
}

cases["success_grant_operations_limited_to_describe"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.user(0, "admin")], ["kms:Describe*", "kms:Disable*"]),
		object.union(fx.allow(1, [fx.user(1, "admin")], ["kms:CreateGrant"]), {"condition": fx.condition({"grant_operations": ["kms:DescribeKey"]})}),
	])),
	"findings": set(),
}

# A signing key: the administrator gains only what the key type supports.
cases["fail_signing_key_admin_gains_sign_and_verify_only"] := {
	"input": fx.input_with(fx.with_key(fx.key([fx.allow(0, [fx.user(0, "admin")], ["kms:PutKeyPolicy", "kms:DisableKey"])]), {"key_spec": "ECC_NIST_P256", "key_usage": "SIGN_VERIFY"})),
	"findings": {{
		"rule": "KP003", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0",
		"message": "arn:aws:iam::${AWS::AccountId}:user/admin administers Key (inferred) and is allowed kms:PutKeyPolicy through kms:PutKeyPolicy, so it can give itself kms:Sign, kms:Verify: it can rewrite the key policy to allow anything. If this principal deploys the stack, list it under `deployers` in the kmspolicy config.",
		"related": [],
	}},
}

# Inferred from the identity's own policy: management actions on this key by name (CDK's
# grantAdmin behind the account delegation) make it an administrator, not a stranger to
# the key that can create grants (KP014).
cases["fail_admin_inferred_from_its_identity_policy"] := {
	"input": fx.input_with_identities(
		fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], fx.undeclared, ["AdminRole"]),
		{"AdminRole": fx.role_identity("AdminRole", [fx.identity_allow(0, ["kms:CreateGrant", "kms:Describe*", "kms:Enable*"], ["Key"], false)])},
	),
	"findings": {{
		"rule": "KP003", "resource": "Key",
		"path": "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/0/Action/0",
		"message": "AdminRole administers Key (inferred) and is allowed kms:CreateGrant through kms:CreateGrant, so it can give itself every cryptographic operation of a symmetric key (kms:Decrypt, kms:Encrypt, kms:GenerateDataKey and 5 more): a grant it creates for itself needs no other permission.",
		"related": [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/0", "message": "the key policy delegates to the account here"}],
	}},
}
