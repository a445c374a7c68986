# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.lockout_test

import data.kmspolicy.lib.fixtures as fx

_lockout_finding := {
	"rule": "KP010", "resource": "Key", "path": "/Resources/Key/Properties/KeyPolicy",
	"message": "No principal can call kms:PutKeyPolicy on Key: once deployed its policy can never be changed, and recovering the key needs AWS Support.",
	"related": [],
}

cases["fail_nobody_can_put_key_policy"] := {
	"input": fx.input_with(fx.key_with(
		[fx.allow(0, [fx.identity(0, "AppRole")], ["kms:Decrypt", "kms:Encrypt"])],
		fx.undeclared, ["AppRole"],
	)),
	"findings": {_lockout_finding},
}

cases["fail_put_key_policy_denied_to_everyone"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.account(0)], ["kms:*"]), fx.deny(1, [fx.anyone(1)], ["kms:PutKeyPolicy"])])),
	"findings": {_lockout_finding},
}

cases["success_account_delegation_keeps_it_manageable"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])])),
	"findings": set(),
}

cases["success_named_admin_can_put_key_policy"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.role(0, "Admin")], ["kms:Put*"])])),
	"findings": set(),
}

cases["success_incomplete_policy_is_not_judged"] := {
	"input": fx.input_with(object.union(fx.key([fx.allow(0, [fx.role(0, "App")], ["kms:Decrypt"])]), {"policy_complete": false})),
	"findings": set(),
}
