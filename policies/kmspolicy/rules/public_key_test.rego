package kmspolicy.rules.public_key_test

import data.kmspolicy.lib.fixtures as fx
import data.kmspolicy.rules.public_key

test_fail_star_principal if {
	k := fx.key([fx.allow(0, [fx.anyone(0)], ["kms:Decrypt"])])
	public_key.findings == {{
		"rule": "KP005", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "Principal \"*\" lets anyone, in any AWS account, call kms:Decrypt on Key.",
		"related": [],
	}} with input as fx.input_with(k)
}

test_fail_star_with_via_service_only if {
	st := object.union(fx.allow(0, [fx.anyone(0)], ["kms:Decrypt"]), {"condition": fx.condition({"keys": ["kms:viaservice"]})})
	some f in public_key.findings with input as fx.input_with(fx.key([st]))
	contains(f.message, "does not restrict who the caller is")
}

test_fail_star_among_other_principals if {
	k := fx.key([fx.allow(0, [fx.role(0, "App"), fx.anyone(0)], ["kms:Encrypt"])])
	count(public_key.findings) == 1 with input as fx.input_with(k)
}

test_success_caller_account_condition if {
	st := object.union(fx.allow(0, [fx.anyone(0)], ["kms:Decrypt"]), {"condition": fx.condition({"caller_restricted": true})})
	count(public_key.findings) == 0 with input as fx.input_with(fx.key([st]))
}

test_success_star_deny if {
	k := fx.key([fx.allow(0, [fx.account(0)], ["kms:*"]), fx.deny(1, [fx.anyone(1)], ["kms:Decrypt"])])
	count(public_key.findings) == 0 with input as fx.input_with(k)
}
