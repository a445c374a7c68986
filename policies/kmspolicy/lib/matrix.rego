# METADATA
# title: Access matrix with its evidence
# description: |
#   Per key, subject and capability (use, manage, permissions, read): the verdict of
#   data.kmspolicy.lib.access and the statements that decide it, with the JSON pointers
#   of the parts that take part (the principal that names the subject or its account, the
#   action patterns, the condition). `kmspolicy access` reads `matrix`; `kmspolicy explain`
#   calls `explain` for one action or capability. Evidence is chosen here, never recomputed in Python:
#   grants (key-policy statements naming the subject or delegating to its account, and
#   the identity-policy statements completing a delegation), denies and conditional
#   statements narrowing them, escalation paths for `reachable`, the key-policy
#   statements granting the same actions to others ("unrelated"), and delegations that
#   no identity policy of the subject completes ("incomplete").
#   regopy 1.5 workarounds: private helpers carry the `_mx_` prefix because a function
#   named like a function of another package (e.g. access._key_denies) crashes its
#   compiler; the rules' variables have names no function uses, and values are passed
#   as arguments rather than read from rules.
package kmspolicy.lib.matrix

import data.kmspolicy.lib.access
import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog

# matrix[key_id][subject_id][capability] := cell
matrix := {mx_kid: mx_rows |
	some mx_kid
	mx_key := input.keys[mx_kid]
	mx_accs := access.access[mx_kid]
	mx_sets := _mx_action_sets(mx_key.statements)
	mx_rows := _mx_rows(mx_key, mx_accs, mx_sets)
}

# summary[key_id][subject_id][capability] := {"verdict": v, "evidence": {...}}: the
# matrix in short, evidence as "direct:0", "delegation:0", "identity:2" (statement
# indexes in the key or identity policy), "deny:1", "identity-deny:0", and
# "kms:CreateGrant:1" for an escalation path through key statement 1.
summary := {sm_kid: sm_rows |
	some sm_kid
	sm_matrix := matrix[sm_kid]
	sm_rows := {sm_sid: sm_row |
		some sm_sid
		sm_cells := sm_matrix[sm_sid]
		sm_row := {sm_cap: sm_short |
			some sm_cap
			sm_cell := sm_cells[sm_cap]
			sm_short := _mx_short(sm_cell)
		}
	}
}

_mx_short(c) := {"verdict": c.verdict, "evidence": (grants | denies) | paths} if {
	grants := {e | some g in c.grants; e := concat(":", [g.how, format_int(g.index, 10)])}
	denies := {e | some d in c.denies; e := concat(":", [_mx_deny_tag(d.policy), format_int(d.index, 10)])}
	paths := {e | some p in c.escalation; e := concat(":", [p.action, format_int(p.key_statement, 10)])}
}

_mx_deny_tag("key") := "deny"

_mx_deny_tag("identity") := "identity-deny"

# The cell of one key, subject (id) and set of actions; undefined for an unknown key or
# subject. `kmspolicy explain` queries it for one action or one capability.
explain(kid, sid, actions) := c if {
	key := input.keys[kid]
	acc := access.access[kid][sid]
	subject := key.subjects[sid]
	view := _mx_view(key, subject, acc, _mx_action_sets(key.statements))
	c := explained_cell(key, subject, acc, view, actions)
}

_mx_rows(key, accs, key_sets) := {sid: row |
	some sid
	acc := accs[sid]
	subject := key.subjects[sid]
	view := _mx_view(key, subject, acc, key_sets)
	row := _mx_row(key, subject, acc, view)
}

_mx_row(key, subject, acc, view) := {cap: c |
	some cap
	actions := access.classes[cap]
	c := cell(key, subject, acc, view, actions, access.verdict(acc, cap))
}

# The verdict for any set of actions, with the precedence of access.verdict.
verdict_of(acc, actions) := "allowed" if {
	count(acc.allowed & actions) > 0
} else := "conditional" if {
	count(acc.conditional & actions) > 0
} else := "reachable" if {
	count(acc.reachable & actions) > 0
} else := "unknown" if {
	count(acc.unknown & actions) > 0
} else := "denied"

# What every cell of one subject reads, computed once: the action sets of the key and
# identity statements, the actions the subject's identity policies allow on the key
# (any, for a subject standing for identities the template does not define) and those
# the key policy delegates to its account; `_u` = unconditional only.
_mx_view(key, subject, acc, key_sets) := {
	"key_sets": key_sets,
	"identity_sets": identity_sets,
	"identity_u": _mx_identity_side(_mx_unconditional_sets(identity_sets, acc.unconditional.identity), acc.identity, subject.kind),
	"identity_all": _mx_identity_side(identity_sets, acc.identity, subject.kind),
	"delegated_u": _mx_union(_mx_unconditional_sets(key_sets, acc.unconditional.key), acc.delegation),
	"delegated_all": _mx_union(key_sets, acc.delegation),
	"account_statements": _mx_account_statements(key, subject),
} if {
	identity := _mx_identity_statements(subject)
	identity_sets := _mx_action_sets(identity)
}

_mx_action_sets(sts) := [s |
	some st in sts
	s := {a | some a in st.actions}
]

# Per statement, the actions it gives the subject for every request (its condition
# holds for all of them).
_mx_unconditional_sets(sets, masks) := [s |
	some i
	set := sets[i]
	s := set & actionmask.names(masks[i])
]

_mx_union(sets, idx) := {a |
	some i in idx
	some a in sets[i]
}

# What the subject's identity policies allow on the key: a template identity's own;
# for the account, whatever IAM policies of its principals may allow; for a principal
# the template does not define, nothing known (its delegated actions are "unknown").
_mx_identity_side(sets, idx, "identity") := _mx_union(sets, idx)

_mx_identity_side(_, _, "account") := catalog.key_actions

_mx_identity_side(_, _, kind) := set() if not kind in {"identity", "account"}

_mx_identity_statements(subject) := input.identities[subject.identity].statements if {
	subject.kind == "identity"
} else := []

# Allow statements naming the subject's account (for a principal the template does not
# define, its IAM policies there are outside the template).
_mx_account_statements(key, subject) := [i |
	some i
	st := key.statements[i]
	st.effect == "Allow"
	st.principal_mode == "Principal"
	some p in st.principals
	p.kind == "account"
	p.account == subject.account
]

# One cell: the verdict for `actions` and what decides it. `decided` are the actions
# of `actions` that have this verdict (for "denied": those explicitly denied).
cell(key, subject, acc, view, actions, verdict) := {
	"verdict": verdict,
	"actions": sort([a | some a in decided]),
	"grants": _mx_grants(key, subject, acc, view, decided, verdict),
	"denies": array.concat(_mx_key_denies(key, subject, acc, view, actions), _mx_identity_denies(subject, acc, view, actions)),
	"escalation": _mx_escalation(key, subject, acc, decided, verdict),
} if {
	decided := actions & acc[verdict]
}

# A cell with the statements that play no part for the subject (`kmspolicy explain`).
explained_cell(key, subject, acc, view, actions) := object.union(cell(key, subject, acc, view, actions, verdict_of(acc, actions)), {
	"unrelated": _mx_unrelated(key, acc, view, actions),
	"incomplete": _mx_incomplete(key, subject, acc, view, actions),
})

# --- grants -----------------------------------------------------------------------

_mx_grants(_, _, _, _, decided, _) := [] if count(decided) == 0

_mx_grants(key, subject, acc, view, decided, verdict) := array.concat(
	_mx_key_grants(key, subject, acc, view, decided, verdict == "allowed"),
	_mx_identity_grants(subject, acc, view, decided, verdict == "allowed"),
) if {
	count(decided) > 0
	verdict != "unknown"
}

# An unknown verdict: the key policy delegates to the subject's account and what the
# subject's IAM policies allow is not in view.
_mx_grants(key, subject, acc, view, decided, "unknown") := [g |
	some i in acc.delegation
	st := key.statements[i]
	given := view.key_sets[i] & decided
	count(given) > 0
	g := _mx_grant("key", "delegation", st, given, _mx_account_pointers(st, subject))
] if {
	count(decided) > 0
}

# The abstract account subject is "named" by the account principal that delegates to
# it: that statement is shown once, as the delegation.
_mx_key_grants(key, subject, acc, view, decided, unconditional_only) := array.concat(
	[g |
		some i in acc.direct
		not _mx_delegation_to_account_subject(subject, acc, i)
		st := key.statements[i]
		given := _mx_given(view.key_sets[i], decided, acc.unconditional.key[i], unconditional_only)
		count(given) > 0
		g := _mx_grant("key", "direct", st, given, _mx_naming_pointers(st, subject))
	],
	[g |
		some i in acc.delegation
		st := key.statements[i]
		own := _mx_given(view.key_sets[i], decided, acc.unconditional.key[i], unconditional_only)
		given := own & _mx_pick(view.identity_u, view.identity_all, unconditional_only)
		count(given) > 0
		g := _mx_grant("key", "delegation", st, given, _mx_account_pointers(st, subject))
	],
)

_mx_delegation_to_account_subject(subject, acc, i) if {
	subject.kind == "account"
	i in acc.delegation
}

_mx_identity_grants(subject, acc, view, decided, unconditional_only) := [g |
	sts := _mx_identity_statements(subject)
	delegated := _mx_pick(view.delegated_u, view.delegated_all, unconditional_only)
	some j in acc.identity
	st := sts[j]
	given := _mx_given(view.identity_sets[j], decided, acc.unconditional.identity[j], unconditional_only) & delegated
	count(given) > 0
	g := _mx_grant("identity", "identity", st, given, [])
]

_mx_grant(policy, how, st, given, principals) := {
	"policy": policy,
	"how": how,
	"index": st.index,
	"actions": sort([a | some a in given]),
	"principals": principals,
	"patterns": _mx_pattern_pointers(st, given),
	"condition": st.condition.path,
}

# The actions of a statement (`set`) among `decided`; for an allowed cell only those it
# gives the subject unconditionally (`unconditional`: their mask).
_mx_given(set, decided, _, false) := set & decided

_mx_given(set, decided, unconditional, true) := (set & decided) & actionmask.names(unconditional)

_mx_pick(unconditional, _, true) := unconditional

_mx_pick(_, all, false) := all

# --- pointers ---------------------------------------------------------------------

_mx_naming_pointers(st, subject) := [p.path |
	st.principal_mode == "Principal"
	some p in st.principals
	_mx_names(p, subject)
] if {
	st.principal_mode == "Principal"
} else := [concat("", [st.path, "/NotPrincipal"])]

_mx_names(p, _) if p.kind == "any"

_mx_names(p, subject) if p.id == subject.id

_mx_account_pointers(st, subject) := [p.path |
	some p in st.principals
	p.kind == "account"
	p.account == subject.account
]

_mx_pattern_pointers(st, actions) := sort([pp |
	some p in st.patterns
	count({a | some a in p.actions} & actions) > 0
	pp := p.path
]) if {
	st.action_mode == "Action"
} else := [concat("", [st.path, "/NotAction"])]

# --- narrowing --------------------------------------------------------------------

_mx_key_denies(key, subject, acc, view, actions) := [d |
	some i in acc.denies
	st := key.statements[i]
	given := view.key_sets[i] & actions
	count(given) > 0
	d := _mx_grant("key", "deny", st, given, _mx_deny_pointers(st, subject))
]

_mx_identity_denies(subject, acc, view, actions) := [d |
	sts := _mx_identity_statements(subject)
	some j in acc.identity_denies
	st := sts[j]
	given := view.identity_sets[j] & actions
	count(given) > 0
	d := _mx_grant("identity", "deny", st, given, [])
]

_mx_deny_pointers(st, subject) := array.concat(_mx_naming_pointers(st, subject), _mx_account_pointers(st, subject)) if {
	st.principal_mode == "Principal"
} else := _mx_naming_pointers(st, subject)

# --- escalation (KMS-SEMANTICS.md §4) ---------------------------------------------

_mx_escalation(key, subject, acc, decided, "reachable") := [e |
	granted := acc.allowed | acc.conditional
	some path in access.escalation_paths(key, subject)
	path.action in granted
	st := key.statements[path.key_statement]
	gains := _mx_gains(st, subject, path, decided)
	count(gains) > 0
	e := {
		"action": path.action,
		"key_statement": path.key_statement,
		"identity_statement": path.identity_statement,
		"patterns": _mx_escalation_patterns(key, subject, path),
		"gains": sort([a | some a in gains]),
	}
]

_mx_escalation(_, _, _, _, verdict) := [] if verdict != "reachable"

# What the path gives: anything through PutKeyPolicy; through CreateGrant, the grant
# operations both the key statement and (on a bilateral path) the identity statement allow.
_mx_gains(_, _, path, decided) := decided if path.action == "kms:PutKeyPolicy"

_mx_gains(st, subject, path, decided) := (decided & access._grant_ops(st)) & _mx_identity_grant_ops(subject, path) if {
	path.action == "kms:CreateGrant"
}

_mx_identity_grant_ops(_, path) := catalog.grant_operations if path.identity_statement == null

_mx_identity_grant_ops(subject, path) := access._grant_ops(_mx_identity_statements(subject)[path.identity_statement]) if {
	path.identity_statement != null
}

# Where the escalation action is allowed: the identity statement's patterns for a
# bilateral path, else the key statement's.
_mx_escalation_patterns(key, subject, path) := _mx_pattern_pointers(key.statements[path.key_statement], {path.action}) if {
	path.identity_statement == null
} else := _mx_pattern_pointers(_mx_identity_statements(subject)[path.identity_statement], {path.action})

# --- statements that play no part ---------------------------------------------------

# Key-policy Allow statements giving some of `actions` only to other principals.
_mx_unrelated(key, acc, view, actions) := [u |
	some i
	st := key.statements[i]
	st.effect == "Allow"
	not i in acc.direct
	not i in acc.delegation
	not i in view.account_statements
	given := view.key_sets[i] & actions
	count(given) > 0
	u := {"index": i, "actions": sort([a | some a in given])}
]

# Statements delegating some of `actions` to the subject's account that do not reach
# it: for a template identity, none of its identity policies allows any of them on the
# key; for a principal the template does not define, its IAM policies are not in view.
_mx_incomplete(key, subject, acc, view, actions) := [u |
	some i in view.account_statements
	given := view.key_sets[i] & actions
	count(given) > 0
	count(given & view.identity_all) == 0
	u := {"index": i, "actions": sort([a | some a in given])}
] if {
	subject.kind == "identity"
} else := [u |
	subject.kind != "account"
	some i in view.account_statements
	not i in acc.delegation
	given := view.key_sets[i] & actions
	count(given) > 0
	u := {"index": i, "actions": sort([a | some a in given])}
]
