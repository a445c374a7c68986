# METADATA
# title: Sets of key actions as bit masks
# description: |
#   A set of key-scoped KMS actions as an integer with one bit per action
#   (catalog.key_action_bits). The bridge gives every statement its `action_mask`;
#   set algebra on masks is a handful of integer operations, where regopy 1.5 spends
#   about half a millisecond on each union or intersection of action-name sets.
package kmspolicy.lib.actionmask

import data.kmspolicy.lib.catalog

# The key actions of a statement or an action pattern: the bridge's `action_mask`, or
# computed from `actions` for an input written by hand.
of(x) := x.action_mask if is_number(x.action_mask)
else := of_names(x.actions)

of_names(names) := sum([bit |
	some name in {n | some n in names}
	bit := catalog.key_action_bits[name]
])

# The union of a list of masks. Rego has no fold: up to eight are unrolled, up to 64 and
# 512 go in chunks of eight, and more take the per-action way. (Each builtin call costs
# regopy some microseconds, so the usual short lists are answered directly.)
any_of(masks) := 0 if count(masks) == 0
else := masks[0] if count(masks) == 1
else := bits.or(masks[0], masks[1]) if count(masks) == 2
else := _or8(masks) if count(masks) <= 8
else := _or8(_chunked(masks)) if count(masks) <= 64
else := _or8(_chunked(_chunked(masks))) if count(masks) <= 512
else := sum([bit |
	some bit in catalog.key_action_bits
	_set_in_some(masks, bit)
])

_or8(masks) := bits.or(
	bits.or(bits.or(padded[0], padded[1]), bits.or(padded[2], padded[3])),
	bits.or(bits.or(padded[4], padded[5]), bits.or(padded[6], padded[7])),
) if {
	padded := array.concat(masks, [0, 0, 0, 0, 0, 0, 0, 0])
}

# The unions of each run of eight masks.
_chunked(masks) := [_or8(chunk) |
	some start in numbers.range(0, count(masks) - 1)
	start % 8 == 0
	chunk := [m | some i in numbers.range(start, start + 7); m := masks[i]]
]

_set_in_some(masks, bit) if {
	some mask in masks
	bits.and(mask, bit) != 0
}

# a - b
minus(a, b) := bits.xor(a, bits.and(a, b))

has(mask, action) if bits.and(mask, catalog.key_action_bits[action]) != 0

overlaps(a, b) if bits.and(a, b) != 0

# The action names of a mask as a sorted array, for text: read four bits at a time from the
# catalog's table of each chunk's names (in name order, as the bits are numbered), with no set
# built or sorted. The embedded engine reads them eight bits at a time from a data table of
# the same catalog instead (bridge/embedded_tables.py: regopy builds a rule's constant again
# in every query).
sorted_names(mask) := [name |
	some row in catalog.key_action_names_by_nibble
	chunk := bits.and(bits.rsh(mask, row.shift), 15)
	chunk != 0
	some name in row.names[chunk]
]

# The action names of a mask, as a set: per class of key action (the classes partition
# them), the class's set when the mask has all of it, else its actions the mask has (regopy
# pays a step per action looked at, at every call).
names(mask) := union({class_names |
	some class in _classes
	bits.and(mask, class.mask) != 0
	class_names := _names_in(mask, class)
})

_names_in(mask, class) := class.names if {
	bits.and(mask, class.mask) == class.mask
} else := {name |
	some name in class.names
	bits.and(mask, catalog.key_action_bits[name]) != 0
}

_classes := [
	{"mask": catalog.use_mask, "names": catalog.use_actions},
	{"mask": catalog.manage_mask, "names": catalog.manage_actions},
	{"mask": catalog.permissions_mask, "names": catalog.permissions_actions},
	{"mask": catalog.read_mask, "names": catalog.read_actions},
]
