# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.account_wide_without_iam_test

import data.kmspolicy.lib.fixtures as fx

_star_use := fx.allow(0, [fx.anyone(0)], ["kms:Decrypt", "kms:Encrypt"])

_condition_path := "/Resources/Key/Properties/KeyPolicy/Statement/0/Condition"

cases["fail_star_scoped_to_own_account"] := {
	"input": fx.input_with(fx.key([object.union(_star_use, {"condition": fx.condition({"caller_restricted": true, "path": _condition_path})})])),
	"findings": {{
		"rule": "KP020", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "Principal \"*\" with its condition admits every IAM principal of this account: each can call kms:Decrypt, kms:Encrypt on Key without any IAM policy allowing it.",
		"related": [{"path": _condition_path, "message": "the condition that admits the whole account"}],
	}},
}

cases["success_through_one_service"] := {
	"input": fx.input_with(fx.key([object.union(_star_use, {"condition": fx.condition({
		"caller_restricted": true, "path": _condition_path,
		"block": {"StringEquals": {"kms:CallerAccount": [fx.self_account], "kms:ViaService": ["sqs.us-east-1.amazonaws.com"]}},
	})})])),
	"findings": set(),
}

cases["success_public_is_reported_by_kp005"] := {
	"input": fx.input_with(fx.key([_star_use])),
	"findings": set(),
}

cases["success_account_delegation"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])])),
	"findings": set(),
}

# Two such statements are one decision: one finding, both conditions related.
cases["fail_two_statements_one_finding"] := {
	"input": fx.input_with(fx.key([
		object.union(_star_use, {"condition": fx.condition({"caller_restricted": true, "path": _condition_path})}),
		object.union(fx.allow(1, [fx.anyone(1)], ["kms:GenerateDataKey"]), {"condition": fx.condition({"caller_restricted": true, "path": "/Resources/Key/Properties/KeyPolicy/Statement/1/Condition"})}),
	])),
	"findings": {{
		"rule": "KP020", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "Principal \"*\" with its condition admits every IAM principal of this account: each can call kms:Decrypt, kms:Encrypt, kms:GenerateDataKey on Key without any IAM policy allowing it.",
		"related": [
			{"path": _condition_path, "message": "the condition that admits the whole account"},
			{"path": "/Resources/Key/Properties/KeyPolicy/Statement/1/Condition", "message": "the condition that admits the whole account"},
		],
	}},
}

_star_in_organization := object.union(_star_use, {"condition": fx.condition({
	"caller_restricted": true, "path": _condition_path,
	"block": {"StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]}},
})})

cases["fail_star_scoped_to_an_organization_the_config_does_not_place_the_account_in"] := {
	"input": fx.input_with(fx.key([_star_in_organization])),
	"findings": {{
		"rule": "KP020", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "Principal \"*\" with its condition admits every IAM principal of this account if the account is in organization o-a1b2c3d4e5: each can then call kms:Decrypt, kms:Encrypt on Key without any IAM policy allowing it (set `organization` in the config to decide).",
		"related": [{"path": _condition_path, "message": "the condition that admits the organization"}],
	}},
}

cases["fail_star_scoped_to_the_organization_of_the_config"] := {
	"input": fx.input_with(fx.key([_star_in_organization])),
	"data": {"organization": "o-a1b2c3d4e5"},
	"findings": {{
		"rule": "KP020", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "Principal \"*\" with its condition admits every IAM principal of this account: each can call kms:Decrypt, kms:Encrypt on Key without any IAM policy allowing it.",
		"related": [{"path": _condition_path, "message": "the condition that admits the whole account"}],
	}},
}

cases["success_star_scoped_to_another_organization_of_the_config"] := {
	"input": fx.input_with(fx.key([_star_in_organization])),
	"data": {"organization": "o-zzzzzzzzzz"},
	"findings": set(),
}
