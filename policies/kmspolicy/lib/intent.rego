# METADATA
# title: Intended administrators and users of a key
# description: |
#   Declared in the key's Metadata.kmspolicy block; administrators may also come from the
#   organization config (`admins` patterns). Otherwise inferred: principals whose
#   key-policy statement grants management actions or kms:PutKeyPolicy, and template
#   identities whose own policy asks for them on the key by name and for no use action,
#   are administrators; those granted use actions (and template identities that reference
#   the key) users. A declared user is never an inferred administrator.
package kmspolicy.lib.intent

import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.config
import data.kmspolicy.lib.ids

# Per key id, computed once per evaluation (a function is evaluated at every call, and
# several rules ask): admin_ids[key_id], user_ids[key_id], intended_user_ids[key_id]. The
# bridge resolves them (the key's `intent_resolved`, bridge/key_intent.py: the same as the
# functions below, which decide for an input without it, and for administrators that the
# organization config's patterns match).
admin_ids := {intent_kid: _resolved_admins(intent_key) | some intent_kid in ids.keys; intent_key := input.keys[intent_kid]}

user_ids := {intent_kid: _resolved_users(intent_key) | some intent_kid in ids.keys; intent_key := input.keys[intent_kid]}

intended_user_ids := {intent_kid: _resolved_intended_users(intent_key) | some intent_kid in ids.keys; intent_key := input.keys[intent_kid]}

_resolved_admins(key) := {sid | some sid in key.intent_resolved.admins} if _resolved(key, "admins")

_resolved_admins(key) := admins(key) if not _resolved(key, "admins")

_resolved_users(key) := {sid | some sid in key.intent_resolved.users} if _resolved(key, "users")

_resolved_users(key) := users(key) if not _resolved(key, "users")

_resolved_intended_users(key) := {sid | some sid in key.intent_resolved.intended_users} if {
	_resolved(key, "intended_users")
}

_resolved_intended_users(key) := intended_users(key) if not _resolved(key, "intended_users")

# (On OPA, `not is_array(key.intent_resolved.admins)` fails when that ref is undefined, so
# the ref is read inside this function.)
_resolved(key, field) if is_array(key.intent_resolved[field])

admins(key) := {sid | some sid in key.intent.admins} if count(key.intent.admins) > 0

admins(key) := _config_admins(key) if {
	count(key.intent.admins) == 0
	count(config.admin_patterns) > 0
}

admins(key) := _inferred_admins(key) - {sid | some sid in key.intent.users} if {
	count(key.intent.admins) == 0
	count(config.admin_patterns) == 0
}

users(key) := {sid | some sid in key.intent.users} if count(key.intent.users) > 0

users(key) := _inferred_users(key) if count(key.intent.users) == 0

# How administrators were determined, for messages: declared, config or inferred.
admin_source(key) := "declared" if count(key.intent.admins) > 0

admin_source(key) := "organization config" if {
	count(key.intent.admins) == 0
	count(config.admin_patterns) > 0
}

admin_source(key) := "inferred" if {
	count(key.intent.admins) == 0
	count(config.admin_patterns) == 0
}

user_source(key) := "declared" if count(key.intent.users) > 0

user_source(key) := "inferred" if count(key.intent.users) == 0

# Template identities that clearly mean to use the key: an identity-policy statement
# (a SAM KMS policy template included) allows use actions on this key by name, or names
# it in a way that matches no key (`meant_keys`: a SAM KeyId given the key's ARN).
means_to_use(key) := {sid |
	some iid in ids.identities
	identity := input.identities[iid]
	some st in identity.statements
	st.effect == "Allow"
	not st.resources.any_key
	_names_key(st.resources, key.id)
	bits.and(actionmask.of(st), catalog.use_mask) != 0
	sid := concat("", ["identity:", iid])
}

_names_key(resources, kid) if kid in resources.keys
else := true if kid in object.get(resources, "meant_keys", [])

# Everyone who should be able to use the key: declared users, or else the inferred ones;
# template identities that mean to use it, either way.
intended_users(key) := users(key) | means_to_use(key)

# Principals a statement names that can act as administrators or users: not the account,
# not everyone, not AWS services or their service-linked roles, not unresolved ones (KP016).
_named(st) := {p.id |
	st.principal_mode == "Principal"
	some p in st.principals
	not p.kind in {"account", "any", "service", "unknown"}
	not service_linked(p)
}

# A principal (raw ARN) or subject (label) that is an AWS service-linked role.
service_linked(x) if contains(object.get(x, "raw", object.get(x, "label", "")), ":role/aws-service-role/")

_uses(st) if {
	st.effect == "Allow"
	bits.and(actionmask.of(st), catalog.use_mask) != 0
}

_config_admins(key) := {sid |
	some sid
	subject := key.subjects[sid]
	config.matches(subject, config.admin_patterns)
}

# Management actions or kms:PutKeyPolicy make an administrator; grant actions alone do
# not (the console's key-user statements attach AWS resources with CreateGrant). Named in
# the key policy, or a template identity whose own policy asks for them on this key by name
# and for no use action (CDK's `grantAdmin` writes the administrator's rights there, behind
# an account delegation; one that asks for use too is a user that can also manage, KP004).
_inferred_admins(key) := {sid |
	some st in key.statements
	_administers(st)
	some sid in _named(st)
} | (means_to_manage(key) - means_to_use(key))

means_to_manage(key) := {sid |
	some iid in ids.identities
	identity := input.identities[iid]
	some st in identity.statements
	not st.resources.any_key
	_names_key(st.resources, key.id)
	_administers(st)
	sid := concat("", ["identity:", iid])
}

_administers(st) if {
	st.effect == "Allow"
	bits.and(actionmask.of(st), _administering) != 0
}

_administering := bits.or(catalog.manage_mask, catalog.key_action_bits["kms:PutKeyPolicy"])

_inferred_users(key) := {sid |
	some st in key.statements
	_uses(st)
	some sid in _named(st)
} | {sid | some iid in key.referenced_by; sid := concat("", ["identity:", iid])}
