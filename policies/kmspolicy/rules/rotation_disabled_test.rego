# Cases: an input and the complete set of findings the rule returns for it (see
# account_delegation_test.rego for why cases rather than one test rule each).
package kmspolicy.rules.rotation_disabled_test

import data.kmspolicy.lib.fixtures as fx

_key := fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])])

cases["fail_rotation_false"] := {
	"input": fx.input_with(fx.with_key(_key, {"rotation": false})),
	"findings": {{
		"message": "Key sets EnableKeyRotation to false: its key material never changes, although this symmetric key with AWS-generated material supports automatic rotation.",
		"path": "/Resources/Key/Properties/EnableKeyRotation",
		"related": [],
		"resource": "Key",
		"rule": "KP011",
	}},
}

cases["fail_rotation_absent"] := {
	"input": fx.input_with(fx.with_key(_key, {"rotation": null, "rotation_path": null})),
	"findings": {{
		"message": "Key does not enable automatic rotation: its key material never changes, although this symmetric key with AWS-generated material supports automatic rotation.",
		"path": "/Resources/Key",
		"related": [],
		"resource": "Key",
		"rule": "KP011",
	}},
}

cases["success_rotation_enabled"] := {"input": fx.input_with(_key), "findings": set()}

cases["success_asymmetric_key"] := {
	"input": fx.input_with(fx.with_key(_key, {"rotation": null, "rotation_path": null, "key_spec": "RSA_2048", "key_usage": "SIGN_VERIFY"})),
	"findings": set(),
}

cases["success_hmac_key"] := {
	"input": fx.input_with(fx.with_key(_key, {"rotation": false, "key_spec": "HMAC_256", "key_usage": "GENERATE_VERIFY_MAC"})),
	"findings": set(),
}

cases["success_imported_material"] := {
	"input": fx.input_with(fx.with_key(_key, {"rotation": false, "origin": "EXTERNAL"})),
	"findings": set(),
}

cases["success_custom_key_store"] := {
	"input": fx.input_with(fx.with_key(_key, {"rotation": null, "rotation_path": null, "custom_key_store": true, "origin": "AWS_CLOUDHSM"})),
	"findings": set(),
}

cases["success_value_set_elsewhere_is_not_judged"] := {
	"input": fx.input_with(fx.with_key(_key, {"rotation": null})),
	"findings": set(),
}

cases["fail_rotation_possibly_off"] := {
	"input": fx.input_with(fx.with_key(_key, {"rotation": null, "rotation_possibly_off": true})),
	"findings": {{
		"message": "Key may set EnableKeyRotation to false (its value is not fixed by the template: a parameter, a merged condition or an unsure reading): its key material never changes, although this symmetric key with AWS-generated material supports automatic rotation.",
		"path": "/Resources/Key/Properties/EnableKeyRotation",
		"related": [],
		"resource": "Key",
		"rule": "KP011",
	}},
}

cases["success_unknown_key_spec_is_not_judged"] := {
	"input": fx.input_with(fx.with_key(_key, {"rotation": false, "key_spec": null})),
	"findings": set(),
}
