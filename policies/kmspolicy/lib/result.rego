# METADATA
# title: The shape of every finding
# description: |
#   Rules report through these helpers so every finding has the same fields. Severity
#   and title come from each rule's METADATA, read by the bridge (regopy has no
#   rego.metadata builtins). Messages are built with concat, not sprintf: regopy 1.5
#   quotes a computed string formatted with %s, and array.slice misbehaves there.
package kmspolicy.lib.result

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
# (regopy 1.5 cannot index the result of sorting a *set*, so the set becomes an array
# first.)
actions_text(actions) := concat(", ", sort(actions)) if count(actions) <= 6

actions_text(actions) := concat("", [
	concat(", ", [names[0], names[1], names[2], names[3], names[4]]),
	" and ", format_int(count(names) - 5, 10), " more",
]) if {
	count(actions) > 6
	actions != catalog.use_actions
	actions != symmetric_use_actions
	names := sort([a | some a in actions])
}

actions_text(actions) := "every cryptographic operation (kms:Decrypt, kms:Encrypt, kms:GenerateDataKey and 10 more)" if {
	actions == catalog.use_actions
}

actions_text(actions) := "every cryptographic operation of a symmetric key (kms:Decrypt, kms:Encrypt, kms:GenerateDataKey and 5 more)" if {
	actions == symmetric_use_actions
}

# The use actions a symmetric encryption key supports (AWS KMS Developer Guide, "Key spec
# reference"; bridge/access/keytypes.py): the access model grants no others on such a key.
symmetric_use_actions := {
	"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyPair",
	"kms:GenerateDataKeyPairWithoutPlaintext", "kms:GenerateDataKeyWithoutPlaintext",
	"kms:ReEncryptFrom", "kms:ReEncryptTo",
}

# The statement's action patterns as written: "kms:Create*, kms:Put*".
patterns_text(st) := concat(", ", [p.pattern | some p in st.patterns])

# A finding whose severity differs from the rule's default (e.g. destructive actions).
finding_with_severity(rule, key, path, message, related, severity) := object.union(
	finding(rule, key, path, message, related),
	{"severity": severity},
)

# A finding about a resource that is not a key (an identity policy, say).
finding_on(rule, resource, path, message, related) := {
	"rule": rule,
	"resource": resource,
	"path": path,
	"message": message,
	"related": related,
}
