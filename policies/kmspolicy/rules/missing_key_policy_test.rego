# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.missing_key_policy_test

import data.kmspolicy.lib.fixtures as fx

cases["fail_default_policy"] := {
	"input": fx.input_with(fx.with_key(fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])]), {"default_policy": true, "policy_path": null})),
	"findings": {{
		"message": "Key has no KeyPolicy, so AWS applies the default policy: kms:* for the account principal, which lets any IAM role or user of the account whose IAM policy allows it use and manage the key.",
		"path": "/Resources/Key",
		"related": [],
		"resource": "Key",
		"rule": "KP015",
	}},
}

cases["success_explicit_policy"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])])),
	"findings": set(),
}
