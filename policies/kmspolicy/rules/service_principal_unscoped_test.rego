# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.service_principal_unscoped_test

import data.kmspolicy.lib.fixtures as fx

cases["fail_logs_without_scope"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.service(0, "logs.amazonaws.com")], ["kms:Encrypt", "kms:Decrypt"])])),
	"findings": {{
		"message": "Service logs.amazonaws.com can call kms:Decrypt, kms:Encrypt on Key for any caller: no aws:SourceAccount, aws:SourceArn, kms:ViaService or kms:EncryptionContext condition scopes it.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/Service",
		"related": [],
		"resource": "Key",
		"rule": "KP018",
	}},
}

cases["success_source_account"] := {
	"input": fx.input_with(fx.key([fx.allow_when(0, [fx.service(0, "logs.amazonaws.com")], ["kms:Encrypt"], {"service_scoped": true})])),
	"findings": set(),
}

cases["success_encryption_context"] := {
	"input": fx.input_with(fx.key([fx.allow_when(0, [fx.service(0, "cloudtrail.amazonaws.com")], ["kms:GenerateDataKey*"], {"encryption_context": true})])),
	"findings": set(),
}

cases["success_describe_only"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.service(0, "cloudtrail.amazonaws.com")], ["kms:DescribeKey"])])),
	"findings": set(),
}

# A wildcard aws:SourceArn admits every account's resources: still unscoped.
cases["fail_wildcard_source_arn"] := {
	"input": fx.input_with(fx.key([object.union(
		fx.allow(0, [fx.service(0, "logs.amazonaws.com")], ["kms:Decrypt"]),
		{"condition": object.union(fx.condition({"keys": ["aws:sourcearn"]}), {"block": {"ArnLike": {"aws:SourceArn": ["arn:aws:logs:*:*:*"]}}})},
	)])),
	"findings": {{
		"message": "Service logs.amazonaws.com can call kms:Decrypt on Key for any caller: its condition does not limit the source account or resource to your own (aws:SourceAccount, an aws:SourceArn or an aws: encryption-context value naming your account or resource), so it may hold when the service acts for another account's resources.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/Service",
		"related": [],
		"resource": "Key",
		"rule": "KP018",
	}},
}

# A condition every request of the service meets (it is an AWS service) scopes nothing;
# the message does not claim there is no condition.
cases["fail_condition_every_service_request_meets"] := {
	"input": fx.input_with(fx.key([object.union(
		fx.allow(0, [fx.service(0, "logs.amazonaws.com")], ["kms:Decrypt"]),
		{"condition": object.union(fx.condition({"keys": ["aws:principalisawsservice"]}), {"block": {"Bool": {"aws:PrincipalIsAWSService": ["true"]}}})},
	)])),
	"findings": {{
		"message": "Service logs.amazonaws.com can call kms:Decrypt on Key for any caller: its condition holds for every request the service makes, so it scopes nothing.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/Service",
		"related": [],
		"resource": "Key",
		"rule": "KP018",
	}},
}

# The service's evaluated access decides: a Deny that keeps the use from it leaves
# nothing to report.
cases["success_denied_to_the_service"] := {
	"input": fx.input_with(fx.key([
		fx.allow(0, [fx.service(0, "logs.amazonaws.com")], ["kms:Decrypt"]),
		fx.deny(1, [fx.service(1, "logs.amazonaws.com")], ["kms:Decrypt"]),
	])),
	"findings": set(),
}

_logs_when(block) := fx.input_with(fx.key([object.union(
	fx.allow(0, [fx.service(0, "logs.amazonaws.com")], ["kms:Decrypt"]),
	{"condition": object.union(fx.condition({}), {"block": block})},
)]))

# The encryption context CloudWatch Logs sends names the log group: with any account in
# it, every account's log groups qualify (the confused deputy the condition was meant to stop).
cases["fail_encryption_context_of_any_account"] := {
	"input": _logs_when({"ArnLike": {"kms:EncryptionContext:aws:logs:arn": ["arn:aws:logs:us-east-1:*:log-group:*"]}}),
	"findings": {{
		"message": "Service logs.amazonaws.com can call kms:Decrypt on Key for any caller: its condition does not limit the source account or resource to your own (aws:SourceAccount, an aws:SourceArn or an aws: encryption-context value naming your account or resource), so it may hold when the service acts for another account's resources.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/Service",
		"related": [],
		"resource": "Key",
		"rule": "KP018",
	}},
}

cases["success_encryption_context_of_the_own_account"] := {
	"input": _logs_when({"ArnLike": {"kms:EncryptionContext:aws:logs:arn": ["arn:aws:logs:us-east-1:000000000000:log-group:*"]}}),
	"findings": set(),
}

# A bucket ARN has no account, but bucket names are global: a named bucket is not a stranger's.
cases["success_source_arn_of_a_named_bucket"] := {
	"input": _logs_when({"ArnEquals": {"aws:SourceArn": ["arn:aws:s3:::my-audit-bucket"]}}),
	"findings": set(),
}

cases["fail_source_arn_of_any_bucket_with_a_prefix"] := {
	"input": _logs_when({"ArnLike": {"aws:SourceArn": ["arn:aws:s3:::my-audit-*"]}}),
	"findings": {{
		"message": "Service logs.amazonaws.com can call kms:Decrypt on Key for any caller: its condition does not limit the source account or resource to your own (aws:SourceAccount, an aws:SourceArn or an aws: encryption-context value naming your account or resource), so it may hold when the service acts for another account's resources.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/Service",
		"related": [],
		"resource": "Key",
		"rule": "KP018",
	}},
}

# Scoped to a partner account the template names: not "any caller" (KP012 reports the
# partner's access).
cases["success_source_account_of_a_named_partner"] := {
	"input": _logs_when({"StringEquals": {"aws:SourceAccount": ["444455556666"]}}),
	"findings": set(),
}

# "*" takes in service principals: a condition only a service's requests pass, with any
# account's resources, lets a service use the key for anyone (no IAM stranger passes it,
# so KP005 does not report it).
_anyone_when(block) := fx.input_with(fx.key([object.union(
	fx.allow(0, [fx.anyone(0)], ["kms:Decrypt"]),
	{"condition": object.union(fx.condition({}), {"block": block})},
)]))

cases["fail_anyone_with_a_wildcard_source_arn"] := {
	"input": _anyone_when({"ArnLike": {"aws:SourceArn": ["arn:aws:logs:*:*:*"]}}),
	"findings": {{
		"message": "Principal \"*\" lets AWS services call kms:Decrypt on Key for resources of any account: its condition admits a service's requests and does not limit the source account or resource to your own (aws:SourceAccount, an aws:SourceArn or an aws: encryption-context value naming your account or resource).",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [],
		"resource": "Key",
		"rule": "KP018",
	}},
}

cases["fail_anyone_that_is_a_service"] := {
	"input": _anyone_when({"Bool": {"aws:PrincipalIsAWSService": ["true"]}}),
	"findings": {{
		"message": "Principal \"*\" lets AWS services call kms:Decrypt on Key for resources of any account: its condition admits a service's requests and does not limit the source account or resource to your own (aws:SourceAccount, an aws:SourceArn or an aws: encryption-context value naming your account or resource).",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS",
		"related": [],
		"resource": "Key",
		"rule": "KP018",
	}},
}

cases["success_anyone_acting_for_the_own_account"] := {
	"input": _anyone_when({"StringEquals": {"aws:SourceAccount": ["000000000000"]}}),
	"findings": set(),
}

cases["success_anyone_in_a_source_organization"] := {
	"input": _anyone_when({"StringEquals": {"aws:SourceOrgID": ["o-abc1234567"]}}),
	"findings": set(),
}

# Anyone passes it: KP005's, one finding.
cases["success_anyone_public_is_kp005s"] := {
	"input": _anyone_when({"StringEqualsIfExists": {"aws:SourceAccount": ["000000000000"]}}),
	"findings": set(),
}

# One statement naming several services alike (a service's regional principals): one
# finding that lists them, the others related.
cases["fail_regional_principals_of_one_statement"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [
		fx.service(0, "guardduty.amazonaws.com"),
		object.union(fx.service(0, "guardduty.us-east-1.amazonaws.com"), {"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/Service/1"}),
		object.union(fx.service(0, "guardduty.eu-west-1.amazonaws.com"), {"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/Service/2"}),
	], ["kms:GenerateDataKey"])])),
	"findings": {{
		"message": "Services guardduty.amazonaws.com, guardduty.us-east-1.amazonaws.com and 1 more can call kms:GenerateDataKey on Key for any caller: no aws:SourceAccount, aws:SourceArn, kms:ViaService or kms:EncryptionContext condition scopes it.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/Service",
		"related": [
			{"message": "also guardduty.us-east-1.amazonaws.com", "path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/Service/1"},
			{"message": "also guardduty.eu-west-1.amazonaws.com", "path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/Service/2"},
		],
		"resource": "Key",
		"rule": "KP018",
	}},
}

cases["fail_service_that_may_manage_the_key"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.service(0, "delivery.logs.amazonaws.com")], ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DescribeKey"])])),
	"findings": {{
		"message": "Service delivery.logs.amazonaws.com can call kms:PutKeyPolicy, kms:ScheduleKeyDeletion on Key for any caller: no aws:SourceAccount, aws:SourceArn, kms:ViaService or kms:EncryptionContext condition scopes it.",
		"path": "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/Service",
		"related": [],
		"resource": "Key",
		"rule": "KP018",
	}},
}
