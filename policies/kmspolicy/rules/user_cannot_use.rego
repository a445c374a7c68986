# METADATA
# title: An intended user cannot use the key
# description: |
#   A declared user, or a template identity that clearly means to use the key (a SAM
#   KMSDecryptPolicy/KMSEncryptPolicy, an identity statement naming the key), would get
#   AccessDenied at run time: access to a KMS key needs the key policy to name the
#   principal or delegate to its account, and for delegation also the principal's own IAM
#   policy. Not reported when its access is unknown (a principal of another account, whose
#   own IAM policy the template does not show). The finding is on the identity's policy
#   item that asks for the key (or that allows use elsewhere), else on the identity, else
#   on the key-policy principal naming it, else on the intent entry.
# custom:
#   id: KP008
#   severity: high
#   remediation: |
#     Name the principal in the key policy (for an implicit SAM role use a constructed ARN or
#     aws:PrincipalArn to avoid a circular dependency), or delegate to the account and give
#     the principal an IAM policy allowing the actions on this key.
#   example: |
#     # the key policy names only an administrator role; the function has
#     Policies:
#       - KMSDecryptPolicy: {KeyId: !Ref Key}
package kmspolicy.rules.user_cannot_use

import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.intent
import data.kmspolicy.lib.result

findings contains result.finding("KP008", key, path, message, _mismatches(key, subject)) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	key.policy_complete
	some sid in intent.intended_user_ids[key.id]
	subject := key.subjects[sid]
	acc := input.keys[key.id].access[sid]
	bits.and(bits.or(acc.granted, acc.reachable), catalog.use_mask) == 0
	bits.and(acc.unknown, catalog.use_mask) == 0
	wanted := _wanted(key, subject)
	path := _where(key, subject)
	message := concat("", [subject.label, " is meant to use ", key.id, _wanted_text(wanted), _outcome(key, acc, subject, wanted), "."])
}

# A key that does not support what is asked refuses it whatever the policies say
# (InvalidKeyUsageException), which is not a missing permission.
_outcome(key, acc, subject, wanted) := concat("", [
	" but cannot: ", key.id, _key_type(key), " does not support ", result.actions_text(wanted),
	" (KMS refuses them with InvalidKeyUsageException, whatever the policies allow)",
]) if {
	count(wanted) > 0
	bits.and(actionmask.of_names(wanted), object.get(key, "supported", -1)) == 0
} else := concat("", [" but would get AccessDenied: ", _missing(key, acc, subject)])

_key_type(key) := concat("", [" (", key.key_spec, ", ", key.key_usage, ")"]) if {
	is_string(key.key_spec)
	is_string(key.key_usage)
} else := ""

# The use actions the subject's own IAM policies ask for on this key.
_wanted(key, subject) := actionmask.names(bits.and(catalog.use_mask, actionmask.any_of([actionmask.of(st) |
	some st in _identity_statements(subject)
	st.effect == "Allow"
	_asks_for(st.resources, key.id)
])))

_asks_for(resources, kid) if kid in resources.keys
else := true if kid in object.get(resources, "meant_keys", [])

_wanted_text(wanted) := concat("", [" (its IAM policy asks for ", result.actions_text(wanted), ")"]) if count(wanted) > 0

_wanted_text(wanted) := "" if count(wanted) == 0

_identity_statements(subject) := input.identities[subject.identity].statements if subject.kind == "identity"

_identity_statements(subject) := [] if subject.kind != "identity"

_missing(key, acc, subject) := "an explicit Deny blocks it" if {
	bits.and(acc.denied, catalog.use_mask) != 0
} else := concat("", ["the key policy neither names ", subject.label, " nor delegates to its account"]) if {
	count(acc.direct) == 0
	count(acc.delegation) == 0
} else := concat("", ["the key policy delegates to the account and its IAM policy allows them, but its permissions boundary does not"]) if {
	count(acc.delegation) > 0
	count(acc.identity) > 0
	subject.kind == "identity"
	object.get(input.identities[subject.identity], "boundary", null) != null
} else := concat("", ["the key policy delegates to the account, but no IAM policy of ", subject.label, " allows these actions on this key"]) if {
	count(acc.delegation) > 0
} else := "no statement that applies to it allows these actions"

# Statements meant for the key whose Resource matches no key (a SAM KeyId given the
# key's ARN or an alias), with why.
_mismatches(key, subject) := [result.related(st.path, st.resources.mismatch) |
	some st in _identity_statements(subject)
	key.id in object.get(st.resources, "meant_keys", [])
]

# Where to point: the identity statement asking for the key (or meant for it), else the
# identity's statement allowing use elsewhere (the policy item that misses the key), else
# the key-policy principal naming it, else the intent entry.
_where(key, subject) := paths[0] if {
	paths := [st.path |
		some st in _identity_statements(subject)
		st.effect == "Allow"
		_asks_for(st.resources, key.id)
	]
	count(paths) > 0
} else := paths[0] if {
	paths := [st.path |
		some st in _identity_statements(subject)
		st.effect == "Allow"
		bits.and(actionmask.of(st), catalog.use_mask) != 0
	]
	count(paths) > 0
} else := input.identities[subject.identity].path if {
	subject.kind == "identity"
} else := paths[0] if {
	paths := [p.path |
		some st in key.statements
		some p in st.principals
		p.id == subject.id
	]
	count(paths) > 0
} else := key.intent.path if {
	key.intent.path != null
} else := key.path
