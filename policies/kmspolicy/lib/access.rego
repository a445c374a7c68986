# METADATA
# title: Effective access to KMS keys
# description: |
#   For each key and subject (a principal named in the key policy, an identity the
#   template defines, or the abstract "any IAM principal of an account"), the KMS
#   actions it is allowed, allowed under conditions, explicitly denied, and can reach
#   through escalation, computed the way AWS evaluates key policy and IAM policies
#   together (KMS-SEMANTICS.md §1-4). Sets of action names only; no per-action objects.
package kmspolicy.lib.access

import data.kmspolicy.lib.catalog

# access[key_id][subject_id] := the subject's access to the key
# (The comprehension variables have names no caller uses: regopy 1.5 confuses a rule's
# local variables with same-named variables of a function that reads the rule.)
access := {access_kid: _key_access(access_key) |
	some access_kid
	access_key := input.keys[access_kid]
}

_key_access(key) := {access_sid: _subject_access(key, access_index, access_subject) |
	access_index := _index(key)
	some access_sid
	access_subject := key.subjects[access_sid]
}

# Per statement, computed once per key: who it names, by effect and mode, so that
# matching a subject is set membership rather than a function call per statement.
_index(key) := {
	"ids": [ids | some st in key.statements; ids := {p.id | some p in st.principals}],
	"accounts": [accts | some st in key.statements; accts := {p.account | some p in st.principals; p.kind == "account"}],
	"any": {i | some i; st := key.statements[i]; some p in st.principals; p.kind == "any"},
	"root_only": {i | some i; key.statements[i].condition.root_only},
	"allow": {i | some i; st := key.statements[i]; st.effect == "Allow"; st.principal_mode == "Principal"},
	"allow_not": {i | some i; st := key.statements[i]; st.effect == "Allow"; st.principal_mode == "NotPrincipal"},
	"deny": {i | some i; st := key.statements[i]; st.effect == "Deny"; st.principal_mode == "Principal"},
	"deny_not": {i | some i; st := key.statements[i]; st.effect == "Deny"; st.principal_mode == "NotPrincipal"},
}

_identity_statements(s) := input.identities[s.identity].statements if {
	s.kind == "identity"
} else := []

_covers(st, kid) if kid in st.resources.keys

# --- statement indexes by role ----------------------------------------------------

# Allow statements naming the subject itself, or everyone (`*`, NotPrincipal).
_direct(ix, s) := sort((_naming(ix, ix.allow, s) | (ix.allow & ix.any)) | _not_excluding(ix, ix.allow_not, s))

# Allow statements naming the subject's account: its own IAM policies decide.
_delegation(ix, s) := sort({i | some i in ix.allow; s.account in ix.accounts[i]}) if s.kind == "account"

_delegation(ix, s) := sort({i | some i in ix.allow; s.account in ix.accounts[i]; not i in ix.root_only}) if {
	s.kind == "identity"
}

_delegation(_, s) := [] if not s.kind in {"account", "identity"}

# Deny statements applying to the subject; a Deny to an account applies to all of it.
_key_denies(ix, s) := sort(((_naming(ix, ix.deny, s) | (ix.deny & ix.any)) | _not_excluding(ix, ix.deny_not, s)) | {i |
	some i in ix.deny
	s.account in ix.accounts[i]
})

_naming(ix, candidates, s) := {i | some i in candidates; s.id in ix.ids[i]}

# NotPrincipal excludes the principals listed, their whole accounts, and with "*" everyone.
_not_excluding(ix, candidates, s) := {i |
	some i in candidates
	not s.id in ix.ids[i]
	not s.account in ix.accounts[i]
	not i in ix.any
}

_identity_allows(key, s) := [j |
	sts := _identity_statements(s)
	some j
	st := sts[j]
	st.effect == "Allow"
	_covers(st, key.id)
]

_identity_denies(key, s) := [j |
	sts := _identity_statements(s)
	some j
	st := sts[j]
	st.effect == "Deny"
	_covers(st, key.id)
]

# --- action sets ------------------------------------------------------------------

_actions(sts, idx, conditional) := {a |
	some i in idx
	st := sts[i]
	st.condition.present == conditional
	some a in st.actions
}

_all_actions(sts, idx) := {a |
	some i in idx
	some a in sts[i].actions
}

# Without an identity policy in view (the abstract account subject stands for every
# identity the template does not define), delegation alone decides.
_identity_side(key, s, conditional) := _actions(_identity_statements(s), _identity_allows(key, s), conditional) if {
	s.kind == "identity"
} else := catalog.key_actions if {
	not conditional
} else := set()

_subject_access(key, ix, s) := result if {
	direct := _direct(ix, s)
	delegation := _delegation(ix, s)
	ident := _identity_allows(key, s)
	key_denies := _key_denies(ix, s)
	id_denies := _identity_denies(key, s)
	id_sts := _identity_statements(s)

	id_u := _identity_side(key, s, false)
	id_all := id_u | _identity_side(key, s, true)
	acct_u := _actions(key.statements, delegation, false)
	acct_all := _all_actions(key.statements, delegation)

	allowed_u := (_actions(key.statements, direct, false) | (acct_u & id_u)) & catalog.key_actions
	allowed_any := (_all_actions(key.statements, direct) | (acct_all & id_all)) & catalog.key_actions

	deny_u := _actions(key.statements, key_denies, false) | _actions(id_sts, id_denies, false)
	deny_c := _actions(key.statements, key_denies, true) | _actions(id_sts, id_denies, true)

	allowed := (allowed_u - deny_u) - deny_c
	conditional := (allowed_any - allowed) - deny_u
	granted := allowed | conditional
	escalations := _paths(key, id_sts, direct, delegation, ident)

	result := {
		"allowed": allowed,
		"conditional": conditional,
		"denied": allowed_any & deny_u,
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
escalation_paths(key, s) := _paths(key, _identity_statements(s), _direct(ix, s), _delegation(ix, s), _identity_allows(key, s)) if {
	ix := _index(key)
}

_paths(key, id_sts, direct, delegation, ident) := {e |
	some i in direct
	st := key.statements[i]
	some action in {"kms:PutKeyPolicy", "kms:CreateGrant"}
	_escalates(st, action)
	e := {"action": action, "key_statement": i, "identity_statement": null}
} | {e |
	some i in delegation
	st := key.statements[i]
	some action in {"kms:PutKeyPolicy", "kms:CreateGrant"}
	_escalates(st, action)
	some j in ident
	_escalates(id_sts[j], action)
	e := {"action": action, "key_statement": i, "identity_statement": j}
}

_escalates(st, action) if {
	action in st.actions
	not st.condition.grant_for_aws_resource
}

_reachable(key, id_sts, escalations, granted) := set() if {
	count(escalations) == 0
} else := catalog.key_actions - granted if {
	"kms:PutKeyPolicy" in granted
	some e in escalations
	e.action == "kms:PutKeyPolicy"
} else := (_grantable(key, id_sts, escalations) - granted) if {
	"kms:CreateGrant" in granted
} else := set()

# Operations a grant the subject creates may carry (kms:GrantOperations narrows them).
_grantable(key, id_sts, escalations) := {op |
	some e in escalations
	e.action == "kms:CreateGrant"
	st := key.statements[e.key_statement]
	some op in _grant_ops(st)
	_identity_grants_op(id_sts, e, op)
}

# On a bilateral path the identity statement's kms:GrantOperations narrows it too.
_identity_grants_op(_, e, _) if e.identity_statement == null

_identity_grants_op(id_sts, e, op) if {
	e.identity_statement != null
	op in _grant_ops(id_sts[e.identity_statement])
}

_grant_ops(st) := {op | some op in st.condition.grant_operations} & catalog.grant_operations if {
	st.condition.grant_operations != null
} else := catalog.grant_operations

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
