# METADATA
# title: Where in the template an access decision comes from
# description: |
#   The action patterns (with their JSON pointers) that give a subject some of the given
#   actions (a mask, lib/actionmask.rego), key-policy statements first, in template order. Callers pass the subject's
#   access object `acc` (from data.kmspolicy.lib.access.masks) rather than having these
#   functions read that rule: regopy 1.5 mixes up variables when a function evaluates a
#   rule whose body uses the same names.
package kmspolicy.lib.evidence

import data.kmspolicy.lib.actionmask

# Patterns of the key-policy statements naming the subject itself (not through "*"),
# then, for delegated access, those of its identity-policy statements.
patterns(key, acc, subject, actions) := array.concat(direct_patterns(key, acc, subject, actions), _identity_patterns(acc, subject, actions))

direct_patterns(key, acc, subject, actions) := [p |
	some i in acc.direct
	st := key.statements[i]
	_names_subject(st, subject)
	some p in st.patterns
	_matches(p, actions)
]

_names_subject(st, subject) if {
	st.principal_mode == "Principal"
	some q in st.principals
	q.id == subject.id
} else := true if st.principal_mode == "NotPrincipal"

_identity_patterns(acc, subject, actions) := [p |
	count(acc.delegation) > 0
	sts := input.identities[subject.identity].statements
	some j in acc.identity
	some p in sts[j].patterns
	_matches(p, actions)
]

_matches(p, actions) if bits.and(actionmask.of(p), actions) != 0

# The delegating key-policy statements, as related locations. (The head is a plain
# variable: regopy 1.5 returns nothing when the head indexes with the loop variable.)
delegation_related(key, acc) := [r |
	some i in acc.delegation
	r := {"path": key.statements[i].path, "message": "the key policy delegates to the account here"}
]
