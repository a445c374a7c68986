# Cases: an input and the complete set of findings the rule returns for it. `opa test`
# runs test_cases; kmspolicy's embedded runner evaluates each case by itself (regopy 1.5
# cannot compile `with input as` around rules that call functions).
package kmspolicy.rules.account_delegation_test

import data.kmspolicy.lib.fixtures as fx

_account_kms_all := fx.allow(0, [fx.account(0)], ["kms:*"])

cases["fail_account_root_principal"] := {
	"input": fx.input_with(fx.key([_account_kms_all])),
	"findings": {{
		"rule": "KP001", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "arn:aws:iam::${AWS::AccountId}:root is the whole account, not the root user: any IAM role or user in the account whose IAM policy allows it can use Key (every cryptographic operation of a symmetric key (kms:Decrypt, kms:Encrypt, kms:GenerateDataKey and 5 more)) and manage it (kms:CancelKeyDeletion, kms:CreateAlias, kms:CreateGrant, kms:DeleteAlias, kms:DeleteImportedKeyMaterial and 17 more).",
		"related": [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0", "message": "grants kms:* to the account"}],
		"severity": "medium",
	}},
}

cases["fail_conditional_delegation_says_so"] := {
	"input": fx.input_with(fx.key([object.union(
		fx.allow(0, [fx.account(0)], ["kms:Decrypt"]),
		{"condition": fx.condition({"keys": ["kms:viaservice"]})},
	)])),
	"findings": {{
		"rule": "KP001", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "arn:aws:iam::${AWS::AccountId}:root is the whole account, not the root user: any IAM role or user in the account whose IAM policy allows it can use Key (kms:Decrypt), when the statement's condition holds.",
		"related": [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0", "message": "grants kms:Decrypt to the account (when its condition holds)"}],
		"severity": "medium",
	}},
}

cases["success_root_user_only_condition"] := {
	"input": fx.input_with(fx.key([object.union(_account_kms_all, {"condition": fx.condition({"root_only": true})})])),
	"findings": set(),
}

cases["success_declared_delegation"] := {
	"input": fx.input_with(fx.key_with([_account_kms_all], fx.declared([], [], "delegate"), [])),
	"findings": set(),
}

cases["success_named_role_only"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.role(0, "Admin")], ["kms:*"])])),
	"findings": set(),
}

cases["success_deny_to_account"] := {
	"input": fx.input_with(fx.key([fx.deny(0, [fx.account(0)], ["kms:Decrypt"])])),
	"findings": set(),
}

# Two statements delegating to the account are one decision: one finding, on the broader
# statement, the other one related (one location per statement, its patterns grouped).
cases["fail_two_delegating_statements_one_finding"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.account(0)], ["kms:Describe*", "kms:Get*"]),
		fx.allow(1, [fx.account(1)], ["kms:*"]),
	])),
	"findings": {{
		"rule": "KP001", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/1/Principal/AWS",
		"message": "arn:aws:iam::${AWS::AccountId}:root is the whole account, not the root user: any IAM role or user in the account whose IAM policy allows it can use Key (every cryptographic operation of a symmetric key (kms:Decrypt, kms:Encrypt, kms:GenerateDataKey and 5 more)) and manage it (kms:CancelKeyDeletion, kms:CreateAlias, kms:CreateGrant, kms:DeleteAlias, kms:DeleteImportedKeyMaterial and 17 more).",
		"related": [
			{"path": "/Resources/Key/Properties/KeyPolicy/Statement/1/Action/0", "message": "grants kms:* to the account"},
			{"path": "/Resources/Key/Properties/KeyPolicy/Statement/0", "message": "also grants kms:Describe*, kms:Get* to the account"},
		],
		"severity": "medium",
	}},
}

# A Deny narrows what the account's principals can do: the message says so, and does not
# claim they can use the key.
cases["fail_deny_all_except_narrows_the_delegation"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.account(0)], ["kms:DescribeKey", "kms:Decrypt", "kms:DisableKey"]),
		fx.deny(1, [fx.anyone(1)], ["kms:Decrypt"]),
	])),
	"findings": {{
		"rule": "KP001", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "arn:aws:iam::${AWS::AccountId}:root is the whole account, not the root user: any IAM role or user in the account whose IAM policy allows it can manage Key (kms:DisableKey); the explicit Deny keeps kms:Decrypt from them.",
		"related": [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/0", "message": "grants kms:Decrypt, kms:DescribeKey, kms:DisableKey to the account"}],
		"severity": "medium",
	}},
}

# Declared users and use left to IAM policies: high.
cases["fail_declared_users_and_delegated_use_is_high"] := {
	"input": fx.input_with(fx.key_with([fx.allow(0, [fx.account(0)], ["kms:Decrypt"])], fx.declared([], ["role:self:App"], null), [])),
	"findings": {{
		"rule": "KP001", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "arn:aws:iam::${AWS::AccountId}:root is the whole account, not the root user: any IAM role or user in the account whose IAM policy allows it can use Key (kms:Decrypt).",
		"related": [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0", "message": "grants kms:Decrypt to the account"}],
		"severity": "high",
	}},
}

# What a "*" statement scoped to this account already gives needs no IAM policy: said
# apart, and the delegation's message does not say "whose IAM policy allows it" for it.
cases["fail_star_scoped_to_the_account_needs_no_iam_policy"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.account(0)], ["kms:Decrypt", "kms:DisableKey"]),
		fx.allow_when(1, [fx.anyone(1)], ["kms:Decrypt"], {"caller_restricted": true}),
	])),
	"findings": {{
		"rule": "KP001", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "arn:aws:iam::${AWS::AccountId}:root is the whole account, not the root user: any IAM role or user in the account whose IAM policy allows it can manage Key (kms:DisableKey); every one of them can call kms:Decrypt without any IAM policy, through a statement naming \"*\".",
		"related": [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/0", "message": "grants kms:Decrypt, kms:DisableKey to the account"}],
		"severity": "medium",
	}},
}

# The account principal narrowed by aws:PrincipalArn to the name CloudFormation gives a
# template role reaches none of the account's other principals: no delegation to report.
_signup := fx.function_role("Signup", [fx.identity_allow(0, ["kms:Decrypt"], ["Key"], false)])

_narrowed_to(pattern) := fx.allow_when(0, [fx.account(0)], ["kms:Decrypt"], {"block": {"ArnLike": {"aws:PrincipalArn": [pattern]}}})

cases["success_account_narrowed_to_a_template_role"] := {
	"input": fx.input_with_identity_list(
		fx.key_with([_narrowed_to("arn:aws:iam::000000000000:role/stack-name-SignupRole-*")], fx.undeclared, [_signup]),
		[_signup],
	),
	"findings": set(),
}

# Narrowed to every role whose name starts with the stack's name: other roles of the
# account can match, so the delegation stands, under its condition.
cases["fail_account_narrowed_to_a_name_prefix"] := {
	"input": fx.input_with_identity_list(
		fx.key_with([_narrowed_to("arn:aws:iam::000000000000:role/stack-name-*")], fx.undeclared, [_signup]),
		[_signup],
	),
	"findings": {{
		"rule": "KP001", "resource": "Key",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"message": "arn:aws:iam::${AWS::AccountId}:root is the whole account, not the root user: any IAM role or user in the account whose IAM policy allows it can use Key (kms:Decrypt), when the statement's condition holds.",
		"related": [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0", "message": "grants kms:Decrypt to the account (when its condition holds)"}],
		"severity": "medium",
	}},
}
