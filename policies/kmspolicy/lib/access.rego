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

_key_access(key) := {access_sid: _subject_access(key, access_subject) |
	some access_sid
	access_subject := key.subjects[access_sid]
}

# --- which statements apply to a subject --------------------------------------------

# The key-policy statement names the subject itself (or everyone).
names_directly(st, s) if {
	st.principal_mode == "Principal"
	some p in st.principals
	_is_subject(p, s)
}

names_directly(st, s) if {
	st.principal_mode == "NotPrincipal"
	not _excluded(st, s)
}

_is_subject(p, _) if p.kind == "any"

_is_subject(p, s) if p.id == s.id

_excluded(st, s) if {
	some p in st.principals
	p.id == s.id
}

_excluded(st, s) if {
	some p in st.principals
	p.kind == "account"
	p.account == s.account
}

# NotPrincipal "*": everyone but everyone.
_excluded(st, _) if {
	some p in st.principals
	p.kind == "any"
}

# The key-policy statement delegates to the subject's account, so the subject's own
# IAM policies decide (bilateral access).
delegates_to(st, s) if {
	st.principal_mode == "Principal"
	_delegation_reaches(st, s)
	some p in st.principals
	p.kind == "account"
	p.account == s.account
}

# A statement restricted to the root user (aws:PrincipalArn = the :root ARN) reaches
# the account's root user, never its roles and users.
_delegation_reaches(_, s) if s.kind == "account"

_delegation_reaches(st, s) if {
	s.kind == "identity"
	not st.condition.root_only
}

# A Deny to an account applies to every principal of that account.
_deny_applies(st, s) if names_directly(st, s)

_deny_applies(st, s) if {
	st.principal_mode == "Principal"
	some p in st.principals
	p.kind == "account"
	p.account == s.account
}

_identity_statements(s) := input.identities[s.identity].statements if {
	s.kind == "identity"
} else := []

_covers(st, kid) if kid in st.resources.keys

# --- statement indexes by role ----------------------------------------------------

_direct(key, s) := [i |
	some i
	st := key.statements[i]
	st.effect == "Allow"
	names_directly(st, s)
]

_delegation(key, s) := [i |
	some i
	st := key.statements[i]
	st.effect == "Allow"
	delegates_to(st, s)
]

_key_denies(key, s) := [i |
	some i
	st := key.statements[i]
	st.effect == "Deny"
	_deny_applies(st, s)
]

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

_subject_access(key, s) := result if {
	direct := _direct(key, s)
	delegation := _delegation(key, s)
	ident := _identity_allows(key, s)
	key_denies := _key_denies(key, s)
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

	result := {
		"allowed": allowed,
		"conditional": conditional,
		"denied": allowed_any & deny_u,
		"reachable": _reachable(key, s, granted),
		"direct": direct,
		"delegation": delegation,
		"identity": ident,
		"denies": key_denies,
		"identity_denies": id_denies,
	}
}

# --- escalation (KMS-SEMANTICS.md §4) ---------------------------------------------

# Every way the subject can call PutKeyPolicy or CreateGrant, with the statements
# (and action patterns) that allow it.
escalation_paths(key, s) := {e |
	some i in _direct(key, s)
	st := key.statements[i]
	some action in {"kms:PutKeyPolicy", "kms:CreateGrant"}
	_escalates(st, action)
	e := {"action": action, "key_statement": i, "identity_statement": null}
} | {e |
	some i in _delegation(key, s)
	st := key.statements[i]
	some action in {"kms:PutKeyPolicy", "kms:CreateGrant"}
	_escalates(st, action)
	some j in _identity_allows(key, s)
	_escalates(_identity_statements(s)[j], action)
	e := {"action": action, "key_statement": i, "identity_statement": j}
}

_escalates(st, action) if {
	action in st.actions
	not st.condition.grant_for_aws_resource
}

_reachable(key, s, granted) := set() if {
	count(escalation_paths(key, s)) == 0
} else := catalog.key_actions - granted if {
	"kms:PutKeyPolicy" in granted
	some e in escalation_paths(key, s)
	e.action == "kms:PutKeyPolicy"
} else := (_grantable(key, s) - granted) if {
	"kms:CreateGrant" in granted
} else := set()

# Operations a grant the subject creates may carry (kms:GrantOperations narrows them).
_grantable(key, s) := {op |
	some e in escalation_paths(key, s)
	e.action == "kms:CreateGrant"
	st := key.statements[e.key_statement]
	some op in _grant_ops(st)
	_identity_grants_op(s, e, op)
}

# On a bilateral path the identity statement's kms:GrantOperations narrows it too.
_identity_grants_op(_, e, _) if e.identity_statement == null

_identity_grants_op(s, e, op) if {
	e.identity_statement != null
	op in _grant_ops(_identity_statements(s)[e.identity_statement])
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
