# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.user_cannot_use_test

import data.kmspolicy.lib.fixtures as fx

_function := fx.function_role("Signup", [fx.identity_allow(0, ["kms:Encrypt"], ["Key"], false)])

cases["fail_key_policy_neither_names_nor_delegates"] := {
	"input": fx.input_with_identity_list(
		fx.key_with([fx.allow(0, [fx.role(0, "Admin")], ["kms:Describe*", "kms:PutKeyPolicy"])], fx.undeclared, [_function]),
		[_function],
	),
	"findings": {{
		"message": "Signup is meant to use Key (its IAM policy asks for kms:Encrypt) but would get AccessDenied: the key policy neither names Signup nor delegates to its account.",
		"path": "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/0",
		"related": [],
		"resource": "Key",
		"rule": "KP008",
	}},
}

cases["fail_declared_user_without_iam_policy"] := {
	"input": fx.input_with_identity_list(
		fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], fx.declared([], ["identity:AppRole"], "delegate"), [fx.role_identity("AppRole", [])]),
		[fx.role_identity("AppRole", [])],
	),
	"findings": {{
		"message": "AppRole is meant to use Key but would get AccessDenied: the key policy delegates to the account, but no IAM policy of AppRole allows these actions on this key.",
		"path": "/Resources/AppRole",
		"related": [],
		"resource": "Key",
		"rule": "KP008",
	}},
}

cases["success_delegation_and_sam_policy"] := {
	"input": fx.input_with_identity_list(
		fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], fx.undeclared, [_function]),
		[_function],
	),
	"findings": set(),
}

cases["success_named_in_key_policy"] := {
	"input": fx.input_with_identity_list(
		fx.key_with([fx.allow(0, [fx.identity(0, "SignupRole")], ["kms:Encrypt"])], fx.undeclared, [_function]),
		[_function],
	),
	"findings": set(),
}

cases["fail_sam_key_id_given_the_key_arn"] := {
	"input": fx.input_with_identity_list(
		fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], fx.undeclared, ["Role"]),
		[fx.role_identity("Role", [object.union(fx.identity_allow(0, ["kms:Decrypt"], [], false), {"resources": {
			"mode": "Resource", "keys": [], "any_key": false, "unresolved": false, "paths": [],
			"mismatch": "KeyId is the key's ARN", "meant_keys": ["Key"],
		}})])],
	),
	"findings": {{
		"rule": "KP008", "resource": "Key",
		"path": "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/0",
		"message": "Role is meant to use Key (its IAM policy asks for kms:Decrypt) but would get AccessDenied: the key policy delegates to the account, but no IAM policy of Role allows these actions on this key.",
		"related": [{"path": "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/0", "message": "KeyId is the key's ARN"}],
	}},
}

# The identity's policy item that misses the key is where the finding lands (not the
# intent block).
_misdirected := fx.role_identity("AppRole", [fx.identity_allow(0, ["kms:Decrypt"], ["OtherKey"], false)])

cases["fail_declared_user_policy_names_another_key"] := {
	"input": fx.input_with_identity_list(
		fx.key_with([fx.allow(0, [fx.account(0)], ["kms:*"])], fx.declared([], ["identity:AppRole"], "delegate"), [_misdirected]),
		[_misdirected],
	),
	"findings": {{
		"message": "AppRole is meant to use Key but would get AccessDenied: the key policy delegates to the account, but no IAM policy of AppRole allows these actions on this key.",
		"path": "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/0",
		"related": [],
		"resource": "Key",
		"rule": "KP008",
	}},
}

# A user of another account named in the key policy: its own IAM policy decides, which
# the template does not show; unknown is not AccessDenied.
cases["success_other_account_user_is_unknown_not_denied"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [object.union(
		fx.principal(0, "user:210987654321:Bob", "user", "210987654321", "arn:aws:iam::210987654321:user/Bob", null),
		{},
	)], ["kms:Decrypt"])])),
	"findings": set(),
}
