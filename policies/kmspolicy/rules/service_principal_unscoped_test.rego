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
