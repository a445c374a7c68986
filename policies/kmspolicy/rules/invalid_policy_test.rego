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

_principal_path := "/Resources/Key/Properties/KeyPolicy/Statement/1/Principal/AWS"

_action_path := "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/1"

cases["fail_rejected_element"] := {
	"input": fx.input_with(object.union(fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])]), {"invalid": [{
		"path": _principal_path, "outcome": "rejected",
		"message": "'arn:aws:iam::*:root' has a wildcard, which a principal ARN cannot contain",
	}]})),
	"findings": {{
		"rule": "KP021", "resource": "Key", "path": _principal_path,
		"message": "The key policy of Key would be rejected: 'arn:aws:iam::*:root' has a wildcard, which a principal ARN cannot contain.",
		"related": [],
	}},
}

cases["fail_ignored_action_is_medium"] := {
	"input": fx.input_with(object.union(fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])]), {"invalid": [{
		"path": _action_path, "outcome": "ignored",
		"message": "'kms:Encrpyt' matches no KMS action, so it has no effect",
	}]})),
	"findings": {{
		"rule": "KP021", "resource": "Key", "path": _action_path, "severity": "medium",
		"message": "In the key policy of Key, 'kms:Encrpyt' matches no KMS action, so it has no effect.",
		"related": [],
	}},
}

cases["success_nothing_invalid"] := {
	"input": fx.input_with(object.union(fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])]), {"invalid": []})),
	"findings": set(),
}
