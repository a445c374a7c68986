# Cases: masks given as input and the value of `probe` for them (bridge/regotest.py runs
# them on the embedded engine; `test_cases` runs them on OPA), plus checks of the catalog.
package kmspolicy.lib.actionmask_test

import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog

_bit(action) := catalog.key_action_bits[action]

probe := {
	"any_of": actionmask.any_of(input.masks),
	"names": actionmask.names(actionmask.any_of(input.masks)),
	"minus_first": actionmask.minus(actionmask.any_of(input.masks), _first(input.masks)),
}

_first(masks) := masks[0] if count(masks) > 0

_first(masks) := 0 if count(masks) == 0

cases["no_masks"] := {
	"target": "kmspolicy.lib.actionmask_test.probe",
	"input": {"masks": []},
	"findings": {"any_of": 0, "names": set(), "minus_first": 0},
}

cases["one_mask"] := {
	"target": "kmspolicy.lib.actionmask_test.probe",
	"input": {"masks": [bits.or(_bit("kms:Decrypt"), _bit("kms:Encrypt"))]},
	"findings": {"any_of": bits.or(_bit("kms:Decrypt"), _bit("kms:Encrypt")), "names": {"kms:Decrypt", "kms:Encrypt"}, "minus_first": 0},
}

cases["three_overlapping_masks"] := {
	"target": "kmspolicy.lib.actionmask_test.probe",
	"input": {"masks": [
		bits.or(_bit("kms:Decrypt"), _bit("kms:Encrypt")),
		_bit("kms:Encrypt"),
		_bit("kms:PutKeyPolicy"),
	]},
	"findings": {
		"any_of": bits.or(bits.or(_bit("kms:Decrypt"), _bit("kms:Encrypt")), _bit("kms:PutKeyPolicy")),
		"names": {"kms:Decrypt", "kms:Encrypt", "kms:PutKeyPolicy"},
		"minus_first": _bit("kms:PutKeyPolicy"),
	},
}

# More masks than the unrolled union takes: every key action, one mask each; and more
# than 64 (each twice) for the second level of chunks.
cases["more_masks_than_the_unrolled_union"] := {
	"target": "kmspolicy.lib.actionmask_test.probe",
	"input": {"masks": sort([b | some b in catalog.key_action_bits])},
	"findings": {"any_of": catalog.key_mask, "names": catalog.key_actions, "minus_first": catalog.key_mask - _bit("kms:CancelKeyDeletion")},
}

cases["more_masks_than_two_levels_of_chunks_take"] := {
	"target": "kmspolicy.lib.actionmask_test.probe",
	"input": {"masks": array.concat(sort([b | some b in catalog.key_action_bits]), sort([b | some b in catalog.key_action_bits]))},
	"findings": {"any_of": catalog.key_mask, "names": catalog.key_actions, "minus_first": catalog.key_mask - _bit("kms:CancelKeyDeletion")},
}

# names() takes a whole class at once: a whole class with parts of two others, and a mask
# with one action fewer than every key action, against the per-action definition.
cases["a_whole_class_and_parts_of_others"] := {
	"target": "kmspolicy.lib.actionmask_test.probe",
	"input": {"masks": [catalog.use_mask, _bit("kms:DisableKey"), _bit("kms:ListGrants")]},
	"findings": {
		"any_of": bits.or(bits.or(catalog.use_mask, _bit("kms:DisableKey")), _bit("kms:ListGrants")),
		"names": catalog.use_actions | {"kms:DisableKey", "kms:ListGrants"},
		"minus_first": bits.or(_bit("kms:DisableKey"), _bit("kms:ListGrants")),
	},
}

cases["every_key_action_but_one"] := {
	"target": "kmspolicy.lib.actionmask_test.probe",
	"input": {"masks": [catalog.key_mask - _bit("kms:Decrypt")]},
	"findings": {
		"any_of": catalog.key_mask - _bit("kms:Decrypt"),
		"names": catalog.key_actions - {"kms:Decrypt"},
		"minus_first": 0,
	},
}

test_cases if {
	every c in cases {
		probe == c.findings with input as c.input
	}
}

# names() relies on the four classes partitioning the key actions, each mask its set's bits.
test_the_classes_partition_the_key_actions if {
	catalog.use_actions | catalog.manage_actions | catalog.permissions_actions | catalog.read_actions == catalog.key_actions
	count(catalog.use_actions) + count(catalog.manage_actions) + count(catalog.permissions_actions) + count(catalog.read_actions) == count(catalog.key_actions)
	actionmask.of_names(catalog.use_actions) == catalog.use_mask
	actionmask.of_names(catalog.manage_actions) == catalog.manage_mask
	actionmask.of_names(catalog.permissions_actions) == catalog.permissions_mask
	actionmask.of_names(catalog.read_actions) == catalog.read_mask
}

test_class_masks_are_the_class_sets if {
	actionmask.names(catalog.use_mask) == catalog.use_actions
	actionmask.names(catalog.manage_mask) == catalog.manage_actions
	actionmask.names(catalog.permissions_mask) == catalog.permissions_actions
	actionmask.names(catalog.read_mask) == catalog.read_actions
	actionmask.names(catalog.grant_operations_mask) == catalog.grant_operations
	actionmask.names(catalog.key_mask) == catalog.key_actions
}

test_a_statement_without_a_mask_gets_one_from_its_actions if {
	actionmask.of({"actions": ["kms:Decrypt", "kms:CreateKey", "kms:Decrypt"]}) == _bit("kms:Decrypt")
	actionmask.of({"actions": ["kms:Decrypt"], "action_mask": 0}) == 0
}

test_sorted_names_are_the_names_in_order if {
	every c in cases {
		actionmask.sorted_names(actionmask.any_of(c.input.masks)) == sort([n | some n in c.findings.names])
	}
}
