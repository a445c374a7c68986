# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.deploy_lockout_check_test

import data.kmspolicy.lib.fixtures as fx

cases["fail_root_user_only"] := {
	"input": fx.input_with(fx.key([
		fx.allow_when(0, [fx.account(0)], ["kms:*"], {"root_only": true}),
		fx.allow(1, [fx.role(1, "App")], ["kms:Decrypt"]),
	])),
	"findings": {{
		"message": "Only the root user can call kms:PutKeyPolicy on Key: CloudFormation deploys as a role or user, so creating the key fails the policy lockout safety check unless the deployer is allowed it.",
		"path": "/Resources/Key/Properties/KeyPolicy",
		"related": [],
		"resource": "Key",
		"rule": "KP019",
	}},
}

cases["fail_deployer_not_allowed"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.role(0, "Admin")], ["kms:PutKeyPolicy", "kms:Describe*"])])),
	"data": {"deployers": ["arn:aws:iam::*:role/cfn-deploy*"]},
	"findings": {{
		"message": "Only arn:aws:iam::${AWS::AccountId}:role/Admin can call kms:PutKeyPolicy on Key: CloudFormation deploys as a role or user, so creating the key fails the policy lockout safety check unless the deployer is allowed it.",
		"path": "/Resources/Key/Properties/KeyPolicy",
		"related": [],
		"resource": "Key",
		"rule": "KP019",
	}},
}

cases["success_deployer_named"] := {
	"input": fx.input_with(fx.key([
		fx.allow_when(0, [fx.account(0)], ["kms:*"], {"root_only": true}),
		fx.allow(1, [fx.role(1, "cfn-deploy")], ["kms:PutKeyPolicy", "kms:Describe*"]),
	])),
	"data": {"deployers": ["arn:aws:iam::*:role/cfn-deploy*"]},
	"findings": set(),
}

cases["success_account_delegation"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])])),
	"findings": set(),
}

cases["success_bypassed_check_is_kp017s_concern"] := {
	"input": fx.input_with(fx.with_key(fx.key([fx.allow_when(0, [fx.account(0)], ["kms:*"], {"root_only": true})]), {"bypass_lockout": true})),
	"findings": set(),
}

# "*" names the deployer too: the key policy lets it call PutKeyPolicy, whoever it is.
cases["success_everyone_may_put"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.anyone(0)], ["kms:*"])])),
	"findings": set(),
}

cases["success_everyone_may_put_with_deployers_listed"] := {
	"input": fx.input_with(fx.key([
		fx.allow_when(0, [fx.account(0)], ["kms:*"], {"root_only": true}),
		fx.allow(1, [fx.anyone(1)], ["kms:PutKeyPolicy"]),
	])),
	"data": {"deployers": ["arn:aws:iam::*:role/cfn-deploy*"]},
	"findings": set(),
}
