# METADATA
# title: Intended administrators and users of a key
# description: |
#   Declared in the key's Metadata.kmspolicy block, or else inferred: principals whose
#   key-policy statement grants management or permission actions are administrators,
#   those granted use actions (and template identities that reference the key) users.
package kmspolicy.lib.intent

declared(key) if key.intent.declared

admins(key) := {sid | some sid in key.intent.admins} if {
	declared(key)
} else := _inferred_admins(key)

users(key) := {sid | some sid in key.intent.users} if {
	declared(key)
} else := _inferred_users(key)

# "inferred" or "declared", for messages.
source(key) := "declared" if {
	declared(key)
} else := "inferred"

_named(st) := {p.id |
	st.principal_mode == "Principal"
	some p in st.principals
	not p.kind in {"account", "any"}
}

_grants(st, class) if {
	st.effect == "Allow"
	count(object.get(st.classes, class, [])) > 0
}

_inferred_admins(key) := {sid |
	some st in key.statements
	some class in {"manage", "permissions"}
	_grants(st, class)
	some sid in _named(st)
}

_inferred_users(key) := {sid |
	some st in key.statements
	_grants(st, "use")
	some sid in _named(st)
} | {sprintf("identity:%s", [iid]) | some iid in key.referenced_by}
