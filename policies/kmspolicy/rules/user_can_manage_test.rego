# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.user_can_manage_test

import data.kmspolicy.lib.fixtures as fx

_function := fx.function_role("Worker", [fx.identity_allow(0, ["kms:*"], ["Key"], false)])

cases["fail_function_policy_allows_everything_on_the_key"] := {
	"input": fx.input_with_identity_list(
		fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], fx.undeclared, [_function]),
		[_function],
	),
	"findings": {{
		"message": "Worker uses Key (inferred) and can also call kms:CancelKeyDeletion, kms:CreateAlias, kms:CreateGrant, kms:DeleteAlias, kms:DeleteImportedKeyMaterial and 17 more, including kms:DeleteImportedKeyMaterial, kms:DisableKey, kms:ScheduleKeyDeletion, which can make data encrypted under the key unrecoverable.",
		"path": "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/0/Action/0",
		"related": [],
		"resource": "Key",
		"rule": "KP004",
		"severity": "high",
	}},
}

cases["fail_declared_user_with_grants"] := {
	"input": fx.input_with(fx.key_with(
		[fx.allow(0, [fx.role(0, "App")], ["kms:Decrypt", "kms:RevokeGrant", "kms:DisableKey"])],
		fx.declared([], ["role:self:App"], null), [],
	)),
	"findings": {{
		"message": "arn:aws:iam::${AWS::AccountId}:role/App uses Key (declared) and can also call kms:DisableKey, kms:RevokeGrant, including kms:DisableKey, which can make data encrypted under the key unrecoverable.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/1",
		"related": [
			{
				"message": "kms:DisableKey allows management",
				"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/2",
			},
		],
		"resource": "Key",
		"rule": "KP004",
		"severity": "high",
	}},
}

cases["success_console_attachment_statement"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.role(0, "App")], ["kms:Decrypt", "kms:DescribeKey"]),
		fx.allow_when(1, [fx.role(1, "App")], ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], {"grant_for_aws_resource": true}),
	])),
	"findings": set(),
}

cases["success_user_with_use_and_read_only"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.role(0, "App")], ["kms:Decrypt", "kms:DescribeKey"])])),
	"findings": set(),
}

cases["success_admin_is_not_judged_as_user"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.role(0, "Ops")], ["kms:Decrypt", "kms:DisableKey"])])),
	"findings": set(),
}
