# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.unresolved_principal_test

import data.kmspolicy.lib.fixtures as fx

cases["fail_parameter_without_value"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.unresolved(0, "${AdminRoleArn}")], ["kms:Put*"])])),
	"findings": {{
		"message": "Principal ${AdminRoleArn} cannot be resolved before deployment, so kmspolicy assumes it may be anyone: then anyone could manage Key (kms:PutKeyPolicy), and give themselves every cryptographic operation of a symmetric key (kms:Decrypt, kms:Encrypt, kms:GenerateDataKey and 5 more) through kms:PutKeyPolicy. Pass its value with --parameter to analyze it.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [{"message": "allows kms:Put* to it", "path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0"}],
		"resource": "Key",
		"rule": "KP016",
	}},
}

cases["success_resolved_principals"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.role(0, "Admin")], ["kms:Put*"])])),
	"findings": set(),
}

# One parameter named as administrator and as user is one principal: one finding, both
# statements related, the consequences of "anyone" for both.
cases["fail_parameter_as_admin_and_user_is_one_principal"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.unresolved(0, "${Team}")], ["kms:DisableKey"]),
		fx.allow(1, [fx.unresolved(1, "${Team}")], ["kms:Decrypt"]),
	])),
	"findings": {{
		"message": "Principal ${Team} cannot be resolved before deployment, so kmspolicy assumes it may be anyone: then anyone could use Key (kms:Decrypt) and manage it (kms:DisableKey). Pass its value with --parameter to analyze it.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [
			{"message": "allows kms:DisableKey to it", "path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0"},
			{"message": "allows kms:Decrypt to it", "path": "/Resources/Key/Properties/KeyPolicy/Statement/1/Action/0"},
		],
		"resource": "Key",
		"rule": "KP016",
	}},
}

cases["fail_deny_only_says_whom_it_cannot_tell"] := {
	"input": fx.input_with(fx.key([fx.deny(0, [fx.unresolved(0, "${Blocked}")], ["kms:Decrypt"])])),
	"findings": {{
		"message": "Principal ${Blocked} cannot be resolved before deployment, so kmspolicy assumes it may be anyone: only Deny statements name it, so kmspolicy cannot tell whom they stop. Pass its value with --parameter to analyze it.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [{"message": "denies kms:Decrypt to it", "path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0"}],
		"resource": "Key",
		"rule": "KP016",
	}},
}
