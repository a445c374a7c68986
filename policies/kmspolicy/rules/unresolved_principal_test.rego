# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.unresolved_principal_test

import data.kmspolicy.lib.fixtures as fx

cases["fail_parameter_without_value"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.unresolved(0, "${AdminRoleArn}")], ["kms:Put*"])])),
	"findings": {{
		"message": "Principal ${AdminRoleArn} cannot be resolved before deployment, so kmspolicy assumes it may be anyone: the statement allows kms:Put* to it. Pass its value with --parameter to analyze it.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [],
		"resource": "Key",
		"rule": "KP016",
	}},
}

cases["success_resolved_principals"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.role(0, "Admin")], ["kms:Put*"])])),
	"findings": set(),
}
