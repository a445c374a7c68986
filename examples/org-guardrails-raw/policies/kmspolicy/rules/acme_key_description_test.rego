# Cases: an input and the complete set of findings the rule returns for it (the
# convention of docs/writing-rules.md).
package kmspolicy.rules.acme_key_description_test

import data.kmspolicy.lib.fixtures as fx
import data.kmspolicy.lib.objects
import data.kmspolicy.rules.acme_key_description

_key(description) := objects.override(fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])]), {"raw": {
	"logical_id": "Key", "type": "AWS::KMS::Key", "description": description, "tags": [], "aliases": [],
}})

cases["fail_no_description"] := {
	"input": fx.input_with(_key(null)),
	"findings": {{
		"rule": "ORG101", "resource": "Key", "path": "/Resources/Key",
		"message": "Key has no Description; ACME requires one on every KMS key.",
		"related": [],
	}},
}

cases["fail_empty_description"] := {
	"input": fx.input_with(_key("  ")),
	"findings": {{
		"rule": "ORG101", "resource": "Key", "path": "/Resources/Key/Properties/Description",
		"message": "Key has an empty Description; ACME requires one on every KMS key.",
		"related": [],
	}},
}

cases["success_description"] := {"input": fx.input_with(_key("Payments records")), "findings": set()}

cases["success_description_known_at_deployment"] := {
	"input": fx.input_with(_key({"unknown": "${Purpose}"})),
	"findings": set(),
}

test_cases if {
	every c in cases {
		acme_key_description.findings == c.findings with input as c.input
	}
}
