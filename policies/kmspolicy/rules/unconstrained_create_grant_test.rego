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
