# Cases: an input and the complete set of findings the rule returns for it.
package kmspolicy.rules.acme_platform_admins_test

import data.kmspolicy.lib.fixtures as fx
import data.kmspolicy.lib.objects
import data.kmspolicy.rules.acme_platform_admins

_admin_actions := ["kms:Describe*", "kms:Enable*", "kms:Disable*", "kms:Put*", "kms:ScheduleKeyDeletion"]

_principal_path := "/Resources/Key/Properties/KeyPolicy/Statement/0/Principal/AWS"

_identity_raw(type, path) := {"logical_id": "Admin", "type": type, "name": null, "path": path}

_input(type, path) := fx.input_with_identities(
	fx.key_with([fx.allow(0, [fx.identity(0, "Admin")], _admin_actions)], fx.undeclared, ["Admin"]),
	{"Admin": objects.override(fx.role_identity("Admin", []), {"raw": _identity_raw(type, path)})},
)

cases["fail_role_outside_platform"] := {
	"input": _input("AWS::IAM::Role", "/ops/"),
	"findings": {{
		"rule": "ORG102", "resource": "Key", "path": _principal_path,
		"message": "Admin administers Key but has the path /ops/; ACME allows only roles under /platform/.",
		"related": [],
	}},
}

cases["fail_user"] := {
	"input": _input("AWS::IAM::User", "/platform/"),
	"findings": {{
		"rule": "ORG102", "resource": "Key", "path": _principal_path,
		"message": "Admin administers Key but is an IAM user; ACME allows only roles under /platform/.",
		"related": [],
	}},
}

cases["fail_role_arn_outside_platform"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.role(0, "ops-admin")], _admin_actions)])),
	"findings": {{
		"rule": "ORG102", "resource": "Key", "path": _principal_path,
		"message": "arn:aws:iam::${AWS::AccountId}:role/ops-admin administers Key but its ARN has another path; ACME allows only roles under /platform/.",
		"related": [],
	}},
}

cases["success_platform_role"] := {"input": _input("AWS::IAM::Role", "/platform/"), "findings": set()}

cases["success_role_arn_under_platform"] := {
	"input": fx.input_with(fx.key([fx.allow(0, [fx.role(0, "platform/kms-admin")], _admin_actions)])),
	"findings": set(),
}

cases["success_path_known_at_deployment"] := {
	"input": _input("AWS::IAM::Role", {"unknown": "${AdminPath}"}),
	"findings": set(),
}

test_cases if {
	every c in cases {
		acme_platform_admins.findings == c.findings with input as c.input
	}
}
