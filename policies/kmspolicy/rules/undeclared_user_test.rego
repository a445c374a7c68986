# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.undeclared_user_test

import data.kmspolicy.lib.fixtures as fx

_worker := fx.role_identity("Worker", [fx.identity_allow(0, ["kms:Decrypt"], ["Key"], true)])

# The account delegation is one decision, KP001's: no KP007 for "any IAM principal".
cases["success_account_delegation_of_use_is_kp001s"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.account(0)], ["kms:Decrypt", "kms:DescribeKey"])])),
	"findings": set(),
}

# A key without KeyPolicy: KP015 says it; the default policy names no one.
cases["success_default_policy_is_kp015s"] := {
	"input": fx.input_with_identity_list(
		fx.with_key(fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], fx.undeclared, [_worker]), {"default_policy": true}),
		[_worker],
	),
	"findings": set(),
}

cases["fail_identity_through_delegation_and_wildcard_policy"] := {
	"input": fx.input_with_identity_list(
		fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], fx.declared([], ["role:self:App"], "delegate"), [_worker]),
		[_worker],
	),
	"findings": {{
		"message": "Worker can call kms:Decrypt on Key through the account delegation and its own IAM policy but is not one of its declared users.",
		"path": "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/0/Action/0",
		"related": [
			{
				"message": "the key policy delegates to the account here",
				"path": "/Resources/Key/Properties/KeyPolicy/Statement/0",
			},
		],
		"resource": "Key",
		"rule": "KP007",
		"severity": "high",
	}},
}

cases["fail_declared_users_exclude_named_role"] := {
	"input": fx.input_with(fx.key_with(
		[fx.allow(0, [fx.role(0, "App"), fx.role(0, "Other")], ["kms:Encrypt"])],
		fx.declared([], ["role:self:App"], null), [],
	)),
	"findings": {{
		"message": "arn:aws:iam::${AWS::AccountId}:role/Other can call kms:Encrypt on Key but is not one of its declared users.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0",
		"related": [],
		"resource": "Key",
		"rule": "KP007",
		"severity": "high",
	}},
}

cases["success_declared_delegation"] := {
	"input": fx.input_with(fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], fx.declared([], [], "delegate"), [])),
	"findings": set(),
}

cases["success_root_user_only"] := {
	"input": fx.input_with(fx.key([fx.allow_when(0, [fx.account(0)], ["kms:*"], {"root_only": true})])),
	"findings": set(),
}

cases["success_delegation_of_management_only"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.account(0)], ["kms:Describe*", "kms:PutKeyPolicy"])])),
	"findings": set(),
}
