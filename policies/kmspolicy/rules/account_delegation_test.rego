# Cases: an input and the complete set of findings the rule returns for it. `opa test`
# runs test_cases; kmspolicy's embedded runner evaluates each case by itself (regopy 1.5
# cannot compile `with input as` around rules that call functions).
package kmspolicy.rules.account_delegation_test

import data.kmspolicy.lib.fixtures as fx

_account_kms_all := fx.allow(0, [fx.account(0)], ["kms:*"])

cases["fail_account_root_principal"] := {
	"input": fx.input_with(fx.key([_account_kms_all])),
	"findings": {{
		"rule": "KP001", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "arn:aws:iam::${AWS::AccountId}:root is the whole account, not the root user: any IAM role or user in the account whose IAM policy allows it can call kms:* on Key.",
		"related": [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0", "message": "grants kms:* to the account"}],
	}},
}

cases["fail_conditional_delegation_says_so"] := {
	"input": fx.input_with(fx.key([object.union(
		fx.allow(0, [fx.account(0)], ["kms:Decrypt"]),
		{"condition": fx.condition({"keys": ["kms:viaservice"]})},
	)])),
	"findings": {{
		"rule": "KP001", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "arn:aws:iam::${AWS::AccountId}:root is the whole account, not the root user: any IAM role or user in the account whose IAM policy allows it can call kms:Decrypt on Key (when its condition holds).",
		"related": [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0", "message": "grants kms:Decrypt to the account"}],
	}},
}

cases["success_root_user_only_condition"] := {
	"input": fx.input_with(fx.key([object.union(_account_kms_all, {"condition": fx.condition({"root_only": true})})])),
	"findings": set(),
}

cases["success_declared_delegation"] := {
	"input": fx.input_with(fx.key_with([_account_kms_all], fx.declared([], [], "delegate"), [])),
	"findings": set(),
}

cases["success_named_role_only"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.role(0, "Admin")], ["kms:*"])])),
	"findings": set(),
}

cases["success_deny_to_account"] := {
	"input": fx.input_with(fx.key([fx.deny(0, [fx.account(0)], ["kms:Decrypt"])])),
	"findings": set(),
}
