package kmspolicy.rules.admin_can_escalate_test

import data.kmspolicy.lib.fixtures as fx
import data.kmspolicy.rules.admin_can_escalate

console_admin := ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"]

test_fail_console_admin_has_two_paths if {
	k := fx.key([fx.allow(0, [fx.user(0, "admin")], console_admin)])
	findings := admin_can_escalate.findings with input as fx.input_with(k)
	{f.path | some f in findings} == {
		"/Resources/Key/Properties/KeyPolicy/Statement/0/Action/0",
		"/Resources/Key/Properties/KeyPolicy/Statement/0/Action/4",
	}
	every f in findings {
		f.rule == "KP003"
		contains(f.message, "(inferred)")
	}
}

test_success_create_grant_for_aws_resource_only if {
	manage := fx.allow(0, [fx.user(0, "admin")], ["kms:Describe*", "kms:Enable*", "kms:Disable*", "kms:ScheduleKeyDeletion"])
	grants := object.union(fx.allow(1, [fx.user(1, "admin")], ["kms:CreateGrant"]), {"condition": fx.condition({"grant_for_aws_resource": true})})
	count(admin_can_escalate.findings) == 0 with input as fx.input_with(fx.key([manage, grants]))
}

test_success_put_key_policy_denied if {
	k := fx.key([
		fx.allow(0, [fx.user(0, "admin")], ["kms:Put*", "kms:Describe*"]),
		fx.deny(1, [fx.user(1, "admin")], ["kms:PutKeyPolicy"]),
	])
	count(admin_can_escalate.findings) == 0 with input as fx.input_with(k)
}

test_fail_bilateral_admin_through_identity_policy if {
	k := fx.key_with(
		[fx.allow(0, [fx.account(0)], ["kms:*"])],
		{"declared": true, "admins": ["identity:AdminRole"], "users": [], "root": null, "path": null},
		["AdminRole"],
	)
	idents := {"AdminRole": fx.role_identity("AdminRole", [fx.identity_allow(0, ["kms:CreateGrant", "kms:Describe*"], ["Key"], true)])}
	findings := admin_can_escalate.findings with input as fx.input_with_identities(k, idents)
	count(findings) == 1
	some f in findings
	f.path == "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement/0/Action/0"
	contains(f.message, "(declared)")
	f.related == [{"path": "/Resources/Key/Properties/KeyPolicy/Statement/0", "message": "the key policy delegates to the account here"}]
}
