# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.not_principal_allow_test

import data.kmspolicy.lib.fixtures as fx

cases["fail_allow_not_principal"] := {
	"input": fx.input_with(fx.key([fx.not_principal_allow(0, [fx.role(0, "Blocked")], ["kms:Decrypt"])])),
	"findings": {{
		"message": "This Allow uses NotPrincipal: everyone except arn:aws:iam::${AWS::AccountId}:role/Blocked, in any AWS account, can call kms:Decrypt on Key.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/NotPrincipal/AWS",
		"related": [],
		"resource": "Key",
		"rule": "KP006",
	}},
}

cases["success_deny_not_principal"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.role(0, "Admin")], ["kms:*"]),
		object.union(fx.not_principal_allow(1, [fx.role(1, "Admin")], ["kms:Decrypt"]), {"effect": "Deny"}),
	])),
	"findings": set(),
}

# A condition admitting only this account's callers: the message does not say "in any AWS
# account".
cases["fail_not_principal_scoped_to_own_account"] := {
	"input": fx.input_with(fx.key([object.union(
		fx.not_principal_allow(0, [fx.role(0, "Blocked")], ["kms:Decrypt"]),
		{"condition": fx.condition({"caller_restricted": true})},
	)])),
	"findings": {{
		"message": "This Allow uses NotPrincipal: everyone except arn:aws:iam::${AWS::AccountId}:role/Blocked in this account (its condition admits only this account's callers) can call kms:Decrypt on Key.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/NotPrincipal/AWS",
		"related": [],
		"resource": "Key",
		"rule": "KP006",
	}},
}
