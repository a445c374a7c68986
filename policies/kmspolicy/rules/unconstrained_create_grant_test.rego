# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.unconstrained_create_grant_test

import data.kmspolicy.lib.fixtures as fx

cases["fail_app_role_can_create_grants"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.role(0, "Admin")], ["kms:Describe*", "kms:Enable*"]),
		fx.allow(1, [fx.role(1, "App")], ["kms:Decrypt", "kms:CreateGrant"]),
	])),
	"findings": {{
		"message": "arn:aws:iam::${AWS::AccountId}:role/App can call kms:CreateGrant on Key through kms:CreateGrant with no kms:GrantIsForAWSResource or kms:GrantOperations condition: it can grant any operation, to itself too.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/1/Action/1",
		"related": [],
		"resource": "Key",
		"rule": "KP014",
	}},
}

cases["success_grant_for_aws_resource"] := {
	"input": fx.input_with(fx.key([fx.allow_when(0, [fx.role(0, "App")], ["kms:CreateGrant"], {"grant_for_aws_resource": true})])),
	"findings": set(),
}

cases["success_grant_operations_limited"] := {
	"input": fx.input_with(fx.key([fx.allow_when(0, [fx.role(0, "App")], ["kms:CreateGrant"], {"grant_operations": ["kms:Decrypt"]})])),
	"findings": set(),
}

cases["success_service_linked_role"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [object.union(fx.role(0, "x"), {"raw": "arn:aws:iam::${AWS::AccountId}:role/aws-service-role/backup.amazonaws.com/AWSServiceRoleForBackup"})], ["kms:CreateGrant"])])),
	"findings": set(),
}

# ForAnyValue on kms:GrantOperations does not limit what a grant carries: reported, and the
# message does not claim there is no GrantOperations condition.
cases["fail_for_any_value_grant_operations_does_not_constrain"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.role(0, "Admin")], ["kms:Describe*", "kms:Enable*"]),
		object.union(fx.allow(1, [fx.role(1, "App")], ["kms:Decrypt", "kms:CreateGrant"]), {"condition": object.union(
			fx.condition({"keys": ["kms:grantoperations"]}),
			{"block": {"ForAnyValue:StringEquals": {"kms:GrantOperations": ["Decrypt"]}}},
		)}),
	])),
	"findings": {{
		"message": "arn:aws:iam::${AWS::AccountId}:role/App can call kms:CreateGrant on Key through kms:CreateGrant with a kms:GrantOperations condition that does not limit the operations a grant carries (ForAnyValue is met as soon as one of them matches): it can grant any operation, to itself too.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/1/Action/1",
		"related": [],
		"resource": "Key",
		"rule": "KP014",
	}},
}

# An unresolved principal with kms:CreateGrant is KP016's (what anyone could do), not a
# "non-administrator" here.
cases["success_unresolved_principal_is_kp016s"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.unresolved(0, "${AdminArns}")], ["kms:Create*", "kms:Describe*"])])),
	"findings": set(),
}

# One principal allowed by two statements: one finding, the other statement related.
cases["fail_one_finding_for_two_statements"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.role(0, "Admin")], ["kms:Describe*", "kms:Enable*"]),
		fx.allow(1, [fx.role(1, "App")], ["kms:Decrypt", "kms:CreateGrant"]),
		fx.allow(2, [fx.role(2, "App")], ["kms:Encrypt", "kms:CreateGrant"]),
	])),
	"findings": {{
		"message": "arn:aws:iam::${AWS::AccountId}:role/App can call kms:CreateGrant on Key through kms:CreateGrant with no kms:GrantIsForAWSResource or kms:GrantOperations condition: it can grant any operation, to itself too.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/1/Action/1",
		"related": [{
			"message": "also through kms:CreateGrant with no kms:GrantIsForAWSResource or kms:GrantOperations condition",
			"path": "/Resources/Key/Properties/KeyPolicy/Statement/2/Action/1",
		}],
		"resource": "Key",
		"rule": "KP014",
	}},
}
