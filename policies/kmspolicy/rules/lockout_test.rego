package kmspolicy.rules.lockout_test

import data.kmspolicy.lib.fixtures as fx
import data.kmspolicy.rules.lockout

test_fail_nobody_can_put_key_policy if {
	k := fx.key([fx.allow(0, [fx.identity(0, "AppRole")], ["kms:Decrypt", "kms:Encrypt"])])
	lockout.findings == {{
		"rule": "KP010", "resource": "Key", "path": "/Resources/Key/Properties/KeyPolicy",
		"message": "No principal can call kms:PutKeyPolicy on Key: once deployed its policy can never be changed, and recovering the key needs AWS Support.",
		"related": [],
	}} with input as fx.input_with(fx.key_with(k.statements, k.intent, ["AppRole"]))
}

test_fail_put_key_policy_denied_to_everyone if {
	k := fx.key([fx.allow(0, [fx.account(0)], ["kms:*"]), fx.deny(1, [fx.anyone(1)], ["kms:PutKeyPolicy"])])
	count(lockout.findings) == 1 with input as fx.input_with(k)
}

test_success_account_delegation_keeps_it_manageable if {
	k := fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])])
	count(lockout.findings) == 0 with input as fx.input_with(k)
}

test_success_named_admin_can_put_key_policy if {
	k := fx.key([fx.allow(0, [fx.role(0, "Admin")], ["kms:Put*"])])
	count(lockout.findings) == 0 with input as fx.input_with(k)
}

test_success_incomplete_policy_is_not_judged if {
	k := object.union(fx.key([fx.allow(0, [fx.role(0, "App")], ["kms:Decrypt"])]), {"policy_complete": false})
	count(lockout.findings) == 0 with input as fx.input_with(k)
}
