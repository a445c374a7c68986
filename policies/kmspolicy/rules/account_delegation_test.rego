package kmspolicy.rules.account_delegation_test

import data.kmspolicy.lib.fixtures as fx
import data.kmspolicy.rules.account_delegation

test_fail_account_root_principal if {
	k := fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])])
	findings := account_delegation.findings with input as fx.input_with(k)
	findings == {{
		"rule": "KP001", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "arn:aws:iam::${AWS::AccountId}:root is the whole account, not the root user: any IAM role or user in the account whose IAM policy allows it can call kms:* on Key.",
		"related": [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0", "message": "grants kms:* to the account"}],
	}}
}

test_success_root_user_only_condition if {
	st := object.union(fx.allow(0, [fx.account(0)], ["kms:*"]), {"condition": fx.condition({"root_only": true})})
	count(account_delegation.findings) == 0 with input as fx.input_with(fx.key([st]))
}

test_success_declared_delegation if {
	k := fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], {"declared": true, "admins": [], "users": [], "root": "delegate", "path": null}, [])
	count(account_delegation.findings) == 0 with input as fx.input_with(k)
}

test_success_named_role_only if {
	k := fx.key([fx.allow(0, [fx.role(0, "Admin")], ["kms:*"])])
	count(account_delegation.findings) == 0 with input as fx.input_with(k)
}

test_success_deny_to_account if {
	k := fx.key([fx.deny(0, [fx.account(0)], ["kms:Decrypt"])])
	count(account_delegation.findings) == 0 with input as fx.input_with(k)
}

test_fail_conditional_delegation_says_so if {
	st := object.union(fx.allow(0, [fx.account(0)], ["kms:Decrypt"]), {"condition": fx.condition({"keys": ["kms:viaservice"]})})
	some f in account_delegation.findings with input as fx.input_with(fx.key([st]))
	contains(f.message, "when its condition holds")
}
