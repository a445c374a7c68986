# METADATA
# title: The key policy grants to IAM users
# description: |
#   A key-policy statement names IAM users, whose long-term access keys are what
#   leaks. When the template's own workloads (functions, roles) get their access to the
#   key elsewhere, the statement also plays no part in what they can do.
# custom:
#   id: KP009
#   severity: low
#   remediation: |
#     Grant to roles (assumed with short-lived credentials) instead of IAM users, and name
#     the roles your workloads run as.
#   example: |
#     Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:user/${KeyUser}'}
package kmspolicy.rules.iam_user_principal

import data.kmspolicy.lib.access
import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.result

findings contains result.finding("KP009", key, p.path, message, []) if {
	some key in input.keys
	some st in key.statements
	st.effect == "Allow"
	st.principal_mode == "Principal"
	some p in st.principals
	_is_iam_user(p)
	message := concat("", [
		p.raw, " is an IAM user: the statement gives ", result.patterns_text(st),
		" to long-term credentials.", _workloads_note(key, st),
	])
}

_is_iam_user(p) if p.kind == "user"

_is_iam_user(p) if {
	p.identity != null
	input.identities[p.identity].kind == "user"
}

# Template workloads that can use the key without this statement.
_workloads_note(key, st) := concat("", [
	" The template's own workloads (", concat(", ", sort(others)),
	") get their access elsewhere; this statement plays no part for them.",
]) if {
	others := {label |
		some sid
		subject := key.subjects[sid]
		subject.kind == "identity"
		identity := input.identities[subject.identity]
		identity.owner != null
		acc := access.masks[key.id][sid]
		bits.and(acc.granted, catalog.use_mask) != 0
		not st.index in acc.direct
		label := subject.label
	}
	count(others) > 0
} else := ""
