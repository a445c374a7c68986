# METADATA
# title: The key policy grants to IAM users
# description: |
#   A key-policy statement names IAM users, whose long-term access keys are what
#   leaks. When the template's own workloads (functions, roles) get their access to the
#   key elsewhere, the statement also plays no part in what they can do. An IAM user the
#   key's Metadata.kmspolicy declares as an administrator or user is the owner's stated,
#   reviewable choice and is not reported.
# custom:
#   id: KP009
#   severity: low
#   remediation: |
#     Grant to roles (assumed with short-lived credentials) instead of IAM users, and name
#     the roles your workloads run as.
#   example: |
#     Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:user/${KeyUser}'}
package kmspolicy.rules.iam_user_principal

import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.result

# One finding per key and IAM user, on its first statement; the others are related.
findings contains result.finding("KP009", key, uses[0].principal.path, message, related) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	some uid in {p.id | some st in key.statements; _grants(st); some p in st.principals; _is_iam_user(p)}
	not _declared(key, uid)
	uses := [use |
		some i
		st := key.statements[i]
		_grants(st)
		named := [p | some p in st.principals; p.id == uid]
		count(named) > 0
		use := {"index": i, "principal": named[0]}
	]
	statements := {use.index | some use in uses}
	message := concat("", [
		uses[0].principal.raw, " is an IAM user: the statement gives ", result.patterns_text(key.statements[uses[0].index]),
		_more_text(count(statements)), " to long-term credentials.", _workloads_note(key, statements),
	])
	related := [result.related(result.actions_path(key.statements[use.index]), concat("", ["also gives ", result.patterns_short(key.statements[use.index]), " to it"])) |
		some j
		use := uses[j]
		j > 0
	]
}

_grants(st) if {
	st.effect == "Allow"
	st.principal_mode == "Principal"
}

_more_text(n) := "" if n == 1

_more_text(n) := concat("", [" (and more in ", format_int(n - 1, 10), " other statement", _statements_plural(n - 1), ")"]) if n > 1

_statements_plural(1) := ""

_statements_plural(n) := "s" if n > 1

_is_iam_user(p) if p.kind == "user"

_declared(key, sid) if sid in key.intent.admins

_declared(key, sid) if sid in key.intent.users

_is_iam_user(p) if {
	p.identity != null
	input.identities[p.identity].kind == "user"
}

# Template workloads that can use the key without these statements.
_workloads_note(key, statements) := concat("", [
	" The template's own workloads (", concat(", ", sort(others)),
	") get their access elsewhere; ", _these(count(statements)), " no part for them.",
]) if {
	others := {label |
		some sid
		subject := key.subjects[sid]
		subject.kind == "identity"
		identity := input.identities[subject.identity]
		identity.owner != null
		acc := input.keys[key.id].access[sid]
		bits.and(acc.granted, catalog.use_mask) != 0
		count(statements & {i | some i in acc.direct}) == 0
		label := subject.label
	}
	count(others) > 0
} else := ""

_these(1) := "this statement plays"

_these(n) := "these statements play" if n > 1
