# METADATA
# title: Effective access to KMS keys
# description: |
#   For each key and subject (a principal named in the key policy, an identity the
#   template defines, or the abstract "any IAM principal of an account"), the KMS
#   actions it is allowed, allowed under conditions, explicitly denied, and can reach
#   through escalation, computed the way AWS evaluates key policy and IAM policies
#   together (KMS-SEMANTICS.md §1-4). `masks` holds the action sets as bit masks
#   (lib/actionmask.rego) and is what the built-in rules read; `access` is the same with
#   sets of action names, for rule packs, `kmspolicy access` and `explain`.
package kmspolicy.lib.access

import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog

# access[key_id][subject_id] := the subject's access to the key: `allowed`,
# `conditional`, `granted` (the two together), `denied` and `reachable` as sets of
# action names, and the statements
# that decide them (`direct`, `delegation`, `identity`, `denies`, `identity_denies`,
# `escalations`).
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
	"denied": actionmask.names(m.denied),
	"reachable": actionmask.names(m.reachable),
})

# masks[key_id][subject_id] := access with the four action sets as masks.
masks := {mask_kid: key_masks |
	some mask_kid
	mask_key := input.keys[mask_kid]
	mask_view := _views[mask_kid]
	key_masks := {mask_sid: _subject_access(mask_key, mask_view, mask_subject) |
		some mask_sid
		mask_subject := mask_key.subjects[mask_sid]
	}
}

# What every subject of a key is matched against, once per key (a rule, not a function:
# regopy re-evaluates a value bound in a comprehension's body for every element).
_views := {view_kid: _view(view_key) | some view_kid; view_key := input.keys[view_kid]}

_view(key) := {"index": _index(key), "masks": ms, "escalating": _escalating(key.statements, ms)} if {
	ms := _statement_masks(key.statements)
}

_statement_masks(sts) := [m | some st in sts; m := actionmask.of(st)]

# Per statement, computed once per key: who it names, by effect and mode, and the
# reverse (principal id or account -> the statements naming it), so that matching a
# subject is a lookup rather than a pass over the statements.
_index(key) := {
	"ids": ids,
	"accounts": accounts,
	"any": anyone,
	"root_only": {i | some i; key.statements[i].condition.root_only},
	"allow": allow,
	"allow_not": {i | some i; st := key.statements[i]; st.effect == "Allow"; st.principal_mode == "NotPrincipal"},
	"deny": deny,
	"deny_not": {i | some i; st := key.statements[i]; st.effect == "Deny"; st.principal_mode == "NotPrincipal"},
	"allow_any": allow & anyone,
	"deny_any": deny & anyone,
	"allow_naming": _naming_index(ids, allow),
	"deny_naming": _naming_index(ids, deny),
	"allow_accounts": _naming_index(accounts, allow),
	"deny_accounts": _naming_index(accounts, deny),
} if {
	ids := [named | some st in key.statements; named := {p.id | some p in st.principals}]
	accounts := [accts | some st in key.statements; accts := {p.account | some p in st.principals; p.kind == "account"}]
	anyone := {i | some i; st := key.statements[i]; some p in st.principals; p.kind == "any"}
	allow := {i | some i; st := key.statements[i]; st.effect == "Allow"; st.principal_mode == "Principal"}
	deny := {i | some i; st := key.statements[i]; st.effect == "Deny"; st.principal_mode == "Principal"}
}

# {name: the candidate statements whose names (ids or accounts) include it}
_naming_index(names, candidates) := {name: statements |
	some i in candidates
	some name in names[i]
	statements := {j | some j in candidates; name in names[j]}
}

_identity_statements(s) := input.identities[s.identity].statements if {
	s.kind == "identity"
} else := []

_covers(st, kid) if kid in st.resources.keys

# --- statement indexes by role ----------------------------------------------------

# Allow statements naming the subject itself, or everyone (`*`, NotPrincipal).
_direct(ix, s) := sort((object.get(ix.allow_naming, s.id, set()) | ix.allow_any) | _not_excluding(ix, ix.allow_not, s))

# Allow statements naming the subject's account: its own IAM policies decide.
_delegation(ix, s) := sort(object.get(ix.allow_accounts, s.account, set())) if s.kind == "account"

_delegation(ix, s) := sort(object.get(ix.allow_accounts, s.account, set()) - ix.root_only) if s.kind == "identity"

_delegation(_, s) := [] if not s.kind in {"account", "identity"}

# Deny statements applying to the subject; a Deny to an account applies to all of it.
_key_denies(ix, s) := sort(((object.get(ix.deny_naming, s.id, set()) | ix.deny_any) | _not_excluding(ix, ix.deny_not, s)) | object.get(ix.deny_accounts, s.account, set()))

# NotPrincipal excludes the principals listed, their whole accounts, and with "*" everyone.
_not_excluding(ix, candidates, s) := {i |
	some i in candidates
	not s.id in ix.ids[i]
	not s.account in ix.accounts[i]
	not i in ix.any
}

# The subject's identity-policy statements (`sts`) with this effect on the key.
_identity_on(key, sts, effect) := [j |
	some j
	st := sts[j]
	st.effect == effect
	_covers(st, key.id)
]

# --- action masks -----------------------------------------------------------------

# The union of the actions of statements `idx` (of `sts`, whose masks are `ms`) that
# are conditional, or not.
_actions(_, _, idx, _) := 0 if count(idx) == 0

_actions(sts, ms, idx, conditional) := actionmask.any_of([m |
	some i in idx
	sts[i].condition.present == conditional
	m := ms[i]
]) if {
	count(idx) > 0
}

_all_actions(_, idx) := 0 if count(idx) == 0

_all_actions(ms, idx) := actionmask.any_of([m | some i in idx; m := ms[i]]) if count(idx) > 0

# Without an identity policy in view (the abstract account subject stands for every
# identity the template does not define), delegation alone decides.
_identity_side(s, id_sts, id_ms, ident, conditional) := _actions(id_sts, id_ms, ident, conditional) if {
	s.kind == "identity"
} else := catalog.key_mask if {
	not conditional
} else := 0

_subject_access(key, view, s) := result if {
	ix := view.index
	key_ms := view.masks
	id_sts := _identity_statements(s)
	id_ms := _statement_masks(id_sts)
	direct := _direct(ix, s)
	delegation := _delegation(ix, s)
	ident := _identity_on(key, id_sts, "Allow")
	key_denies := _key_denies(ix, s)
	id_denies := _identity_on(key, id_sts, "Deny")

	id_u := _identity_side(s, id_sts, id_ms, ident, false)
	id_all := bits.or(id_u, _identity_side(s, id_sts, id_ms, ident, true))
	acct_u := _actions(key.statements, key_ms, delegation, false)
	acct_all := _all_actions(key_ms, delegation)

	direct_u := _actions(key.statements, key_ms, direct, false)
	allowed_u := bits.and(bits.or(direct_u, bits.and(acct_u, id_u)), catalog.key_mask)
	allowed_any := bits.and(bits.or(_all_actions(key_ms, direct), bits.and(acct_all, id_all)), catalog.key_mask)

	deny_u := bits.or(_actions(key.statements, key_ms, key_denies, false), _actions(id_sts, id_ms, id_denies, false))
	deny_c := bits.or(_actions(key.statements, key_ms, key_denies, true), _actions(id_sts, id_ms, id_denies, true))

	allowed := actionmask.minus(actionmask.minus(allowed_u, deny_u), deny_c)
	conditional := actionmask.minus(actionmask.minus(allowed_any, allowed), deny_u)
	granted := bits.or(allowed, conditional)
	escalations := _paths(view.escalating, id_sts, id_ms, direct, delegation, ident)

	result := {
		"allowed": allowed,
		"conditional": conditional,
		"granted": granted,
		"denied": bits.and(allowed_any, deny_u),
		"reachable": _reachable(key, id_sts, escalations, granted),
		"escalations": escalations,
		"direct": direct,
		"delegation": delegation,
		"identity": ident,
		"denies": key_denies,
		"identity_denies": id_denies,
	}
}

# --- escalation (KMS-SEMANTICS.md §4) ---------------------------------------------

# Every way the subject can call PutKeyPolicy or CreateGrant, with the statements
# (and action patterns) that allow it. The access object carries them as `escalations`.
escalation_paths(key, s) := _paths(view.escalating, id_sts, _statement_masks(id_sts), _direct(view.index, s), _delegation(view.index, s), _identity_on(key, id_sts, "Allow")) if {
	view := _views[key.id]
	id_sts := _identity_statements(s)
}

_paths(escalating, id_sts, id_ms, direct, delegation, ident) := {e |
	some i in direct
	some action in escalating[i]
	e := {"action": action, "key_statement": i, "identity_statement": null}
} | {e |
	count(ident) > 0
	id_escalating := _escalating(id_sts, id_ms)
	some i in delegation
	some action in escalating[i]
	some j in ident
	action in id_escalating[j]
	e := {"action": action, "key_statement": i, "identity_statement": j}
}

# Per statement, the escalation actions it allows (none when limited to grants for AWS
# resources).
_escalating(sts, ms) := [actions |
	some i
	st := sts[i]
	actions := {action |
		not st.condition.grant_for_aws_resource
		some action in {"kms:PutKeyPolicy", "kms:CreateGrant"}
		actionmask.has(ms[i], action)
	}
]

_reachable(key, id_sts, escalations, granted) := 0 if {
	count(escalations) == 0
} else := actionmask.minus(catalog.key_mask, granted) if {
	bits.and(granted, catalog.key_action_bits["kms:PutKeyPolicy"]) != 0
	some e in escalations
	e.action == "kms:PutKeyPolicy"
} else := actionmask.minus(_grantable(key, id_sts, escalations), granted) if {
	bits.and(granted, catalog.key_action_bits["kms:CreateGrant"]) != 0
} else := 0

# Operations a grant the subject creates may carry (kms:GrantOperations narrows them;
# on a bilateral path the identity statement's kms:GrantOperations narrows them too).
_grantable(key, id_sts, escalations) := actionmask.any_of([m |
	some e in escalations
	e.action == "kms:CreateGrant"
	m := bits.and(_grant_ops_mask(key.statements[e.key_statement]), _identity_grant_ops_mask(id_sts, e))
])

_identity_grant_ops_mask(_, e) := catalog.grant_operations_mask if e.identity_statement == null

_identity_grant_ops_mask(id_sts, e) := _grant_ops_mask(id_sts[e.identity_statement]) if e.identity_statement != null

_grant_ops_mask(st) := bits.and(actionmask.of_names(st.condition.grant_operations), catalog.grant_operations_mask) if {
	st.condition.grant_operations != null
} else := catalog.grant_operations_mask

# The same as a set of action names (`kmspolicy explain` shows what a grant may carry).
_grant_ops(st) := actionmask.names(_grant_ops_mask(st))

# --- capabilities (KMS-SEMANTICS.md §6) --------------------------------------------

classes := {
	"use": catalog.use_actions,
	"manage": catalog.manage_actions,
	"permissions": catalog.permissions_actions,
	"read": catalog.read_actions,
}

# The verdict of one capability: allowed, conditional, reachable or denied.
verdict(acc, capability) := "allowed" if {
	count(acc.allowed & classes[capability]) > 0
} else := "conditional" if {
	count(acc.conditional & classes[capability]) > 0
} else := "reachable" if {
	count(acc.reachable & classes[capability]) > 0
} else := "denied"

# The action patterns of statement st that match one of `actions`.
patterns_for(st, actions) := {p |
	some p in st.patterns
	some a in p.actions
	a in actions
}
