# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.cross_account_access_test

import data.kmspolicy.lib.fixtures as fx

cases["fail_external_account_can_decrypt"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.external_account(0, "210987654321")], ["kms:Decrypt"])])),
	"findings": {{
		"message": "arn:aws:iam::210987654321:root belongs to another account (210987654321): it can call kms:Decrypt on Key with no condition on the caller.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [
			{
				"message": "kms:Decrypt granted across accounts",
				"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0",
			},
		],
		"resource": "Key",
		"rule": "KP012",
	}},
}

cases["fail_account_from_parameter"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [object.union(fx.external_account(0, "param:Partner"), {"raw": "arn:aws:iam::${Partner}:root"})], ["kms:Encrypt"])])),
	"findings": {{
		"message": "arn:aws:iam::${Partner}:root belongs to the account given by parameter Partner (not this template's own): it can call kms:Encrypt on Key with no condition on the caller.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [
			{
				"message": "kms:Encrypt granted across accounts",
				"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0",
			},
		],
		"resource": "Key",
		"rule": "KP012",
	}},
}

cases["success_caller_restricted"] := {
	"input": fx.input_with(fx.key([fx.allow_when(0, [fx.external_account(0, "210987654321")], ["kms:Decrypt"], {"caller_restricted": true})])),
	"findings": set(),
}

cases["success_read_only"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.external_account(0, "210987654321")], ["kms:DescribeKey"])])),
	"findings": set(),
}

cases["success_own_account_from_config"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.external_account(0, "111122223333")], ["kms:Decrypt"])])),
	"data": {"accounts": ["111122223333"]},
	"findings": set(),
}
