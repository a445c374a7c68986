# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.public_key_test

import data.kmspolicy.lib.fixtures as fx

_star_decrypt := fx.allow(0, [fx.anyone(0)], ["kms:Decrypt"])

cases["fail_star_principal"] := {
	"input": fx.input_with(fx.key([_star_decrypt])),
	"findings": {{
		"rule": "KP005", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "Principal \"*\" lets anyone, in any AWS account, call kms:Decrypt on Key.",
		"related": [],
	}},
}

cases["fail_star_with_via_service_only"] := {
	"input": fx.input_with(fx.key([object.union(_star_decrypt, {"condition": fx.condition({"keys": ["kms:viaservice"]})})])),
	"findings": {{
		"rule": "KP005", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "Principal \"*\" lets anyone, in any AWS account, call kms:Decrypt on Key; its condition admits some callers of other accounts.",
		"related": [],
	}},
}

cases["fail_star_among_other_principals"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.role(0, "App"), fx.anyone(0)], ["kms:Encrypt"])])),
	"findings": {{
		"rule": "KP005", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "Principal \"*\" lets anyone, in any AWS account, call kms:Encrypt on Key.",
		"related": [],
	}},
}

cases["success_caller_account_condition"] := {
	"input": fx.input_with(fx.key([object.union(_star_decrypt, {"condition": fx.condition({"caller_restricted": true})})])),
	"findings": set(),
}

cases["success_star_deny"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.account(0)], ["kms:*"]), fx.deny(1, [fx.anyone(1)], ["kms:Decrypt"])])),
	"findings": set(),
}

cases["fail_star_create_grant_says_what_it_gives"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.account(0)], ["kms:*"]),
		fx.allow(1, [fx.anyone(1)], ["kms:CreateGrant", "kms:DescribeKey"]),
	])),
	"findings": {{
		"rule": "KP005", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/1/Principal/AWS",
		"message": "Principal \"*\" lets anyone, in any AWS account, call kms:CreateGrant, kms:DescribeKey on Key; through kms:CreateGrant they can also give themselves kms:Decrypt, kms:Encrypt, kms:GenerateDataKey, kms:GenerateDataKeyPair, kms:GenerateDataKeyPairWithoutPlaintext and 4 more.",
		"related": [],
	}},
}
