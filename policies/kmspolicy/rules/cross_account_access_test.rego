# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.cross_account_access_test

import data.kmspolicy.lib.fixtures as fx

cases["fail_external_account_can_decrypt"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.external_account(0, "210987654321")], ["kms:Decrypt"])])),
	"findings": {{
		"message": "arn:aws:iam::210987654321:root belongs to account 210987654321, not known to be the stack's own: it can call kms:Decrypt on Key with no condition on the caller. If 210987654321 is the stack's own account, list it under `accounts` in kmspolicy.yaml.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [
			{
				"message": "kms:Decrypt granted across accounts",
				"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0",
			},
		],
		"resource": "Key",
		"rule": "KP012",
	}},
}

cases["fail_account_from_parameter"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [object.union(fx.external_account(0, "param:Partner"), {"raw": "arn:aws:iam::${Partner}:root"})], ["kms:Encrypt"])])),
	"findings": {{
		"message": "arn:aws:iam::${Partner}:root belongs to the account given by parameter Partner, not known to be the stack's own: it can call kms:Encrypt on Key with no condition on the caller.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [
			{
				"message": "kms:Encrypt granted across accounts",
				"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0",
			},
		],
		"resource": "Key",
		"rule": "KP012",
	}},
}

cases["success_caller_restricted"] := {
	"input": fx.input_with(fx.key([fx.allow_when(0, [fx.external_account(0, "210987654321")], ["kms:Decrypt"], {"caller_restricted": true})])),
	"findings": set(),
}

cases["success_read_only"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.external_account(0, "210987654321")], ["kms:DescribeKey"])])),
	"findings": set(),
}

cases["success_own_account_from_config"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.external_account(0, "111122223333")], ["kms:Decrypt"])])),
	"data": {"accounts": ["111122223333"]},
	"findings": set(),
}

cases["success_own_account_from_the_cdk_stack_environment"] := {
	"input": object.union(fx.input_with(fx.key([fx.allow(0, [fx.external_account(0, "111122223333")], ["kms:Decrypt"])])), {"accounts": ["111122223333"]}),
	"findings": set(),
}

# CDK's grant to a role of a stack in another account names the role: what that account's
# IAM policies allow it is unseen (unknown), which is no reason to stay silent.
cases["fail_role_of_another_account"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.principal(0, "role:210987654321:reader", "role", "210987654321", "arn:aws:iam::210987654321:role/reader", null)], ["kms:Decrypt"])])),
	"findings": {{
		"message": "arn:aws:iam::210987654321:role/reader belongs to account 210987654321, not known to be the stack's own: it can call kms:Decrypt on Key with no condition on the caller. If 210987654321 is the stack's own account, list it under `accounts` in kmspolicy.yaml.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [
			{
				"message": "kms:Decrypt granted across accounts",
				"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0",
			},
		],
		"resource": "Key",
		"rule": "KP012",
	}},
}

# The stack's account is known (a CDK stack's environment): another one is not its own.
cases["fail_account_other_than_the_cdk_stack_environment"] := {
	"input": object.union(fx.input_with(fx.key([fx.allow(0, [fx.external_account(0, "210987654321")], ["kms:Decrypt"])])), {"accounts": ["111122223333"]}),
	"findings": {{
		"message": "arn:aws:iam::210987654321:root belongs to account 210987654321, not the stack's own (111122223333): it can call kms:Decrypt on Key with no condition on the caller.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [
			{
				"message": "kms:Decrypt granted across accounts",
				"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0",
			},
		],
		"resource": "Key",
		"rule": "KP012",
	}},
}

# Two statements reaching one external account are one decision: one finding, each
# statement one related location.
cases["fail_two_statements_one_external_account"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.external_account(0, "210987654321")], ["kms:Decrypt"]),
		fx.allow(1, [fx.external_account(1, "210987654321")], ["kms:Encrypt", "kms:DescribeKey"]),
	])),
	"findings": {{
		"message": "arn:aws:iam::210987654321:root belongs to account 210987654321, not known to be the stack's own: it can call kms:Decrypt, kms:Encrypt on Key with no condition on the caller. If 210987654321 is the stack's own account, list it under `accounts` in kmspolicy.yaml.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [
			{"message": "kms:Decrypt granted across accounts", "path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0"},
			{"message": "kms:Encrypt granted across accounts", "path": "/Resources/Key/Properties/KeyPolicy/Statement/1"},
		],
		"resource": "Key",
		"rule": "KP012",
	}},
}

# An aws:PrincipalTag condition is a condition on the caller: the message does not say
# there is none.
cases["fail_principal_tag_condition_is_a_condition"] := {
	"input": fx.input_with(fx.key([object.union(
		fx.allow(0, [fx.external_account(0, "210987654321")], ["kms:Decrypt"]),
		{"condition": object.union(fx.condition({"keys": ["aws:principaltag/team"]}), {"block": {"StringEquals": {"aws:PrincipalTag/team": ["data"]}}})},
	)])),
	"findings": {{
		"message": "arn:aws:iam::210987654321:root belongs to account 210987654321, not known to be the stack's own: it can call kms:Decrypt on Key whenever the statement's condition holds. If 210987654321 is the stack's own account, list it under `accounts` in kmspolicy.yaml.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [{"message": "kms:Decrypt granted across accounts", "path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0"}],
		"resource": "Key",
		"rule": "KP012",
	}},
}

# "*" without a condition is anyone's (KP005): not reported again for a partner's account
# the key policy also names.
cases["success_unconditional_star_is_kp005s"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.anyone(0)], ["kms:Decrypt"]),
		fx.allow(1, [fx.external_account(1, "444455556666")], ["kms:DescribeKey"]),
	])),
	"findings": set(),
}
