# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.invalid_policy_test

import data.kmspolicy.lib.fixtures as fx

_operator_path := "/Resources/Key/Properties/KeyPolicy/Statement/0/Condition/StringEqualsIgnoringCase"

cases["fail_unknown_operator"] := {
	"input": fx.input_with(fx.key([object.union(fx.allow(0, [fx.account(0)], ["kms:*"]), {"condition": fx.condition({
		"block": {"StringEqualsIgnoringCase": {"aws:PrincipalTag/team": ["platform"]}},
		"problems": [{"path": _operator_path, "message": "'StringEqualsIgnoringCase' is not an IAM condition operator"}],
	})})])),
	"findings": {{
		"rule": "KP021", "resource": "Key", "path": _operator_path,
		"message": "The key policy of Key would be rejected: 'StringEqualsIgnoringCase' is not an IAM condition operator.",
		"related": [],
	}},
}

cases["success_valid_condition"] := {
	"input": fx.input_with(fx.key([fx.allow_when(0, [fx.account(0)], ["kms:*"], {"root_only": true})])),
	"findings": set(),
}
