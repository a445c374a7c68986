# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.iam_user_principal_test

import data.kmspolicy.lib.fixtures as fx

_function := fx.function_role("Signup", [fx.identity_allow(0, ["kms:Encrypt"], ["Key"], false)])

cases["fail_user_statement_plays_no_part_for_workloads"] := {
	"input": fx.input_with_identity_list(
		fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"]), fx.allow(1, [fx.user(1, "alice")], ["kms:Decrypt"])], fx.undeclared, [_function]),
		[_function],
	),
	"findings": {{
		"message": "arn:aws:iam::${AWS::AccountId}:user/alice is an IAM user: the statement gives kms:Decrypt to long-term credentials. The template's own workloads (Signup) get their access elsewhere; this statement plays no part for them.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/1/Principal/AWS",
		"related": [],
		"resource": "Key",
		"rule": "KP009",
	}},
}

cases["fail_user_alone"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.user(0, "bob")], ["kms:Describe*"])])),
	"findings": {{
		"message": "arn:aws:iam::${AWS::AccountId}:user/bob is an IAM user: the statement gives kms:Describe* to long-term credentials.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [],
		"resource": "Key",
		"rule": "KP009",
	}},
}

cases["success_roles_only"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.role(0, "App")], ["kms:Decrypt"])])),
	"findings": set(),
}

# One IAM user in two statements is one principal: one finding, the second related.
cases["fail_user_in_two_statements_one_finding"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.user(0, "admin")], ["kms:Describe*", "kms:Put*"]),
		fx.allow(1, [fx.user(1, "admin")], ["kms:Decrypt"]),
	])),
	"findings": {{
		"rule": "KP009", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "arn:aws:iam::${AWS::AccountId}:user/admin is an IAM user: the statement gives kms:Describe*, kms:Put* (and more in 1 other statement) to long-term credentials.",
		"related": [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/1/Action/0", "message": "also gives kms:Decrypt to it"}],
	}},
}

# An IAM user the key's Metadata.kmspolicy declares is the owner's reviewed choice.
cases["success_declared_admin_user"] := {
	"input": fx.input_with(fx.key_with([fx.allow(0, [fx.user(0, "alice")], ["kms:Describe*", "kms:Enable*"])], fx.declared(["user:self:alice"], [], null), [])),
	"findings": set(),
}

cases["fail_undeclared_user_beside_a_declared_one"] := {
	"input": fx.input_with(fx.key_with([fx.allow(0, [fx.user(0, "alice"), fx.user(0, "bob")], ["kms:Describe*"])], fx.declared(["user:self:alice"], [], null), [])),
	"findings": {{
		"message": "arn:aws:iam::${AWS::AccountId}:user/bob is an IAM user: the statement gives kms:Describe* to long-term credentials.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [],
		"resource": "Key",
		"rule": "KP009",
	}},
}
