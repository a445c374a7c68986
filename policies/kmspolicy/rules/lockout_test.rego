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

# kms:PutKeyPolicy only for a literal account the config does not list: it may be the
# stack's own, and the message says so and how to declare it.
cases["fail_put_key_policy_only_for_an_undeclared_literal_account"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.external_account(0, "111122223333")], ["kms:*"])])),
	"findings": {{
		"rule": "KP010", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy",
		"message": "No principal known to be of the stack's account can call kms:PutKeyPolicy on Key: only 111122223333 is granted it, which is not known to be the stack's own account (list it under `accounts` in kmspolicy.yaml if it is); otherwise, once deployed, its policy can never be changed, and recovering the key needs AWS Support.",
		"related": [],
	}},
}

cases["success_literal_account_declared_in_config"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.external_account(0, "111122223333")], ["kms:*"])])),
	"data": {"accounts": ["111122223333"]},
	"findings": set(),
}
