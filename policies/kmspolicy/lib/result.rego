# METADATA
# title: The shape of every finding
# description: |
#   Rules report through these helpers so every finding has the same fields. Severity
#   and title come from each rule's METADATA, read by the bridge (regopy has no
#   rego.metadata builtins). Messages are built with concat, not sprintf: regopy 1.5
#   quotes a computed string formatted with %s, and array.slice misbehaves there.
package kmspolicy.lib.result

import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog

finding(rule, key, path, message, related) := {
	"rule": rule,
	"resource": key.id,
	"path": path,
	"message": message,
	"related": related,
}

related(path, message) := {"path": path, "message": message}

# Human text for a set of action names, at most six named: "kms:Decrypt, kms:Encrypt".
actions_text(actions) := _listed(actions) if {
	count(actions) <= 6
} else := _every_use if {
	actions == catalog.use_actions
} else := _every_symmetric_use if {
	actions == symmetric_use_actions
} else := _listed(actions)

# The same for a mask of key actions (lib/actionmask.rego): a whole class of use is known
# by its mask, with no set of names built and compared.
mask_text(mask) := _every_use if {
	bits.and(mask, catalog.key_mask) == catalog.use_mask
} else := _every_symmetric_use if {
	bits.and(mask, catalog.key_mask) == symmetric_use_mask
} else := _listed_in_order(actionmask.sorted_names(mask))

_every_use := "every cryptographic operation (kms:Decrypt, kms:Encrypt, kms:GenerateDataKey and 10 more)"

_every_symmetric_use := "every cryptographic operation of a symmetric key (kms:Decrypt, kms:Encrypt, kms:GenerateDataKey and 5 more)"

# (regopy 1.5 cannot index the result of sorting a *set*, so the set becomes an array
# first.)
_listed(actions) := concat(", ", sort(actions)) if count(actions) <= 6

_listed(actions) := concat("", [
	concat(", ", [names[0], names[1], names[2], names[3], names[4]]),
	" and ", format_int(count(names) - 5, 10), " more",
]) if {
	count(actions) > 6
	names := sort([a | some a in actions])
}

# The same for names already sorted.
_listed_in_order(names) := concat(", ", names) if count(names) <= 6

_listed_in_order(names) := concat("", [
	concat(", ", [names[0], names[1], names[2], names[3], names[4]]),
	" and ", format_int(count(names) - 5, 10), " more",
]) if count(names) > 6

# The use actions a symmetric encryption key supports (AWS KMS Developer Guide, "Key spec
# reference"; bridge/access/keytypes.py): the access model grants no others on such a key.
symmetric_use_actions := {
	"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyPair",
	"kms:GenerateDataKeyPairWithoutPlaintext", "kms:GenerateDataKeyWithoutPlaintext",
	"kms:ReEncryptFrom", "kms:ReEncryptTo",
}

# actionmask.of_names(symmetric_use_actions) (lib/result_test.rego checks it), written out:
# of_names would build catalog.key_action_bits in queries that need nothing else of it.
symmetric_use_mask := 1610739720

# The statement's action patterns as written: "kms:Create*, kms:Put*".
patterns_text(st) := concat(", ", [p.pattern | some p in st.patterns])

# Where a statement's actions are: the one pattern, else the statement.
actions_path(st) := st.patterns[0].path if count(st.patterns) == 1

actions_path(st) := st.path if count(st.patterns) != 1

# The same, sorted and at most six named (for related locations).
patterns_short(st) := actions_text({p.pattern | some p in st.patterns})

# A finding whose severity differs from the rule's default (e.g. destructive actions).
finding_with_severity(rule, key, path, message, related, severity) := {
	"rule": rule,
	"resource": key.id,
	"path": path,
	"message": message,
	"related": related,
	"severity": severity,
}

# A finding about a resource that is not a key (an identity policy, say).
finding_on(rule, resource, path, message, related) := {
	"rule": rule,
	"resource": resource,
	"path": path,
	"message": message,
	"related": related,
}

# What a set of granted actions (a mask) lets a principal do to key `kid`, by class:
# "use Key (kms:Decrypt) and manage it (kms:DisableKey)".
capabilities_text(kid, mask) := concat("", ["use ", kid, " (", _class_text(mask, catalog.use_mask), ") and manage it (", _class_text(mask, _managing), ")"]) if {
	bits.and(mask, catalog.use_mask) != 0
	bits.and(mask, _managing) != 0
} else := concat("", ["use ", kid, " (", _class_text(mask, catalog.use_mask), ")"]) if {
	bits.and(mask, catalog.use_mask) != 0
} else := concat("", ["manage ", kid, " (", _class_text(mask, _managing), ")"]) if {
	bits.and(mask, _managing) != 0
} else := concat("", ["call ", _class_text(mask, catalog.key_mask), " on ", kid]) if {
	bits.and(mask, catalog.key_mask) != 0
} else := concat("", ["call nothing on ", kid])

_managing := bits.or(catalog.manage_mask, catalog.permissions_mask)

_class_text(mask, class) := mask_text(bits.and(mask, class))
