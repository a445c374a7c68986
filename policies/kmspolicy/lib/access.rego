# METADATA
# title: Effective access to KMS keys
# description: |
#   A view over the access the bridge computes (kmspolicy.bridge.access, input schema v2):
#   for each key and subject (a principal named in the key policy, an identity the
#   template defines, the abstract "any IAM principal of an account", "anyone"), the KMS
#   actions it is allowed, allowed under conditions, unknown (policy content the template
#   does not show), explicitly denied, and can reach through escalation. `masks` holds the
#   action sets as bit masks (lib/actionmask.rego) and is what the built-in rules read;
#   `access` is the same with sets of action names, for rule packs. (`kmspolicy access`
#   and `explain` read the bridge's model directly: kmspolicy.bridge.access.evidence.)
package kmspolicy.lib.access

import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.ids

# masks[key_id][subject_id] := the subject's access with the action sets as masks:
# `allowed`, `conditional`, `granted` (the two together), `unknown`, `denied`,
# `reachable`, and the statements that decide them (`direct`, `delegation`, `identity`,
# `denies`, `identity_denies`, `escalations`, `conditional_statements`).
masks := {mask_kid: input.keys[mask_kid].access | some mask_kid in ids.keys}

# access[key_id][subject_id] := the same with sets of action names.
# (The comprehension variables have names no caller uses: regopy 1.5 confuses a rule's
# local variables with same-named variables of a function that reads the rule.)
access := {access_kid: named |
	some access_kid
	key_masks := masks[access_kid]
	named := {access_sid: _named(m) | some access_sid; m := key_masks[access_sid]}
}

_named(m) := object.union(m, {
	"allowed": actionmask.names(m.allowed),
	"conditional": actionmask.names(m.conditional),
	"granted": actionmask.names(m.granted),
	"unknown": actionmask.names(m.unknown),
	"denied": actionmask.names(m.denied),
	"reachable": actionmask.names(m.reachable),
})

# Whether key statement i reaches the subject only for some of its requests (its
# condition is neither always true nor always false for it).
conditional_for(acc, i) := true if {
	i in acc.conditional_statements.key
} else := false

# Every way the subject can call PutKeyPolicy or CreateGrant, with the statements that
# allow it.
escalation_paths(key, s) := masks[key.id][s.id].escalations

# --- capabilities (KMS-SEMANTICS.md §6) --------------------------------------------

classes := {
	"use": catalog.use_actions,
	"manage": catalog.manage_actions,
	"permissions": catalog.permissions_actions,
	"read": catalog.read_actions,
}

# The verdict of one capability: allowed, conditional, reachable (it can give itself
# access: certain), unknown (it may have access now) or denied.
verdict(acc, capability) := "allowed" if {
	count(acc.allowed & classes[capability]) > 0
} else := "conditional" if {
	count(acc.conditional & classes[capability]) > 0
} else := "reachable" if {
	count(acc.reachable & classes[capability]) > 0
} else := "unknown" if {
	count(acc.unknown & classes[capability]) > 0
} else := "denied"

# The action patterns of statement st that match one of `actions`.
patterns_for(st, actions) := {p |
	some p in st.patterns
	some a in p.actions
	a in actions
}
