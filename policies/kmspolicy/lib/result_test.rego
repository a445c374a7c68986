# Cases: mask_text says what actions_text says of the mask's names, for the whole use class,
# the symmetric key's use actions, every key action, a few and none (bridge/regotest.py runs
# them on the embedded engine; `test_cases` runs them on OPA).
package kmspolicy.lib.result_test

import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.result

probe := {
	"symmetric_use_mask": actionmask.of_names(result.symmetric_use_actions),
	"texts_differ": [m |
		some m in input.masks
		result.mask_text(m) != result.actions_text(actionmask.names(m))
	],
}

cases["mask_text_is_actions_text_of_the_names"] := {
	"target": "kmspolicy.lib.result_test.probe",
	"input": {"masks": [
		0,
		catalog.use_mask,
		result.symmetric_use_mask,
		catalog.key_mask,
		catalog.manage_mask,
		catalog.key_mask - catalog.key_action_bits["kms:Decrypt"],
		bits.or(catalog.key_action_bits["kms:Decrypt"], catalog.key_action_bits["kms:Encrypt"]),
	]},
	"findings": {"symmetric_use_mask": result.symmetric_use_mask, "texts_differ": []},
}
