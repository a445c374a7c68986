# Cases: an input and the complete set of findings the rule returns for it (the
# convention of docs/writing-rules.md). `opa test` runs test_cases; `kmspolicy test`
# evaluates each case by itself on the embedded engine.
package kmspolicy.rules.acme_deletion_window_test

import data.kmspolicy.lib.fixtures as fx
import data.kmspolicy.lib.objects
import data.kmspolicy.rules.acme_deletion_window

_delegation := fx.allow(0, [fx.account(0)], ["kms:*"])

_key_with_window(days) := objects.override(fx.key([_delegation]), {"pending_window": days})

cases["fail_seven_days"] := {
	"input": fx.input_with(_key_with_window(7)),
	"findings": {{
		"rule": "ORG001", "resource": "Key",
		"path": "/Resources/Key/Properties/PendingWindowInDays",
		"message": "Key can be deleted 7 days after ScheduleKeyDeletion; ACME requires at least 30 days.",
		"related": [],
	}},
}

cases["fail_one_day_short"] := {
	"input": fx.input_with(_key_with_window(29)),
	"findings": {{
		"rule": "ORG001", "resource": "Key",
		"path": "/Resources/Key/Properties/PendingWindowInDays",
		"message": "Key can be deleted 29 days after ScheduleKeyDeletion; ACME requires at least 30 days.",
		"related": [],
	}},
}

cases["success_minimum"] := {
	"input": fx.input_with(_key_with_window(30)),
	"findings": set(),
}

cases["success_window_not_set"] := {
	"input": fx.input_with(_key_with_window(null)),
	"findings": set(),
}

test_cases if {
	every c in cases {
		acme_deletion_window.findings == c.findings with input as c.input
	}
}
