# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.bypass_lockout_check_test

import data.kmspolicy.lib.fixtures as fx

_key := fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])])

cases["fail_bypass"] := {
	"input": fx.input_with(fx.with_key(_key, {"bypass_lockout": true, "bypass_path": "/Resources/Key/Properties/BypassPolicyLockoutSafetyCheck"})),
	"findings": {{
		"message": "Key sets BypassPolicyLockoutSafetyCheck: AWS will not verify that anyone can change the key policy after deployment.",
		"path": "/Resources/Key/Properties/BypassPolicyLockoutSafetyCheck",
		"related": [],
		"resource": "Key",
		"rule": "KP017",
	}},
}

cases["fail_bypass_possible"] := {
	"input": fx.input_with(fx.with_key(_key, {"bypass_lockout_possible": true, "bypass_path": "/Resources/Key/Properties/BypassPolicyLockoutSafetyCheck"})),
	"findings": {{
		"message": "Key may set BypassPolicyLockoutSafetyCheck: its value is not fixed by the template (a parameter, a merged condition or an unsure reading), and where it is true AWS will not verify that anyone can change the key policy after deployment.",
		"path": "/Resources/Key/Properties/BypassPolicyLockoutSafetyCheck",
		"related": [],
		"resource": "Key",
		"rule": "KP017",
	}},
}

cases["success_no_bypass"] := {"input": fx.input_with(_key), "findings": set()}

cases["success_bypass_possible_false"] := {
	"input": fx.input_with(fx.with_key(_key, {"bypass_lockout_possible": false, "bypass_path": "/Resources/Key/Properties/BypassPolicyLockoutSafetyCheck"})),
	"findings": set(),
}
