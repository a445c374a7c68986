# METADATA
# title: Allow with NotPrincipal
# description: |
#   An Allow statement with NotPrincipal allows everyone except the principals listed,
#   including every AWS account and anonymous callers: broad by construction.
# custom:
#   id: KP006
#   severity: high
#   remediation: |
#     Use Principal with the principals that need access instead; keep NotPrincipal for
#     Deny statements.
#   example: |
#     Effect: Allow
#     NotPrincipal: {AWS: arn:aws:iam::111122223333:role/Blocked}
#     Action: kms:Decrypt
package kmspolicy.rules.not_principal_allow

import data.kmspolicy.lib.ids
import data.kmspolicy.lib.result

findings contains result.finding("KP006", key, path, message, []) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	some i
	st := key.statements[i]
	st.effect == "Allow"
	st.principal_mode == "NotPrincipal"
	path := _element_path(st)
	message := concat("", [
		"This Allow uses NotPrincipal: everyone except ", concat(", ", sort([p.raw | some p in st.principals])),
		_reached_text(key, i), " can call ", result.patterns_text(st), " on ", key.id, _condition_note(key, i), ".",
	])
}

# Who the statement reaches, from the evaluated access of the subjects anyone and any
# principal of this account: a stranger of any account, else every principal of this
# account, else only the callers its condition admits.
_reached_text(kmskey, index) := ", in any AWS account," if _reaches_anyone(kmskey, index)

_reached_text(kmskey, index) := " in this account (its condition admits only this account's callers)" if {
	not _reaches_anyone(kmskey, index)
	_reaches_account(kmskey, index)
}

_reached_text(kmskey, index) := " that its condition admits" if {
	not _reaches_anyone(kmskey, index)
	not _reaches_account(kmskey, index)
}

_condition_note(kmskey, index) := " when its condition holds" if _conditional_for_anyone(kmskey, index)

_condition_note(kmskey, index) := "" if not _conditional_for_anyone(kmskey, index)

_conditional_for_anyone(kmskey, index) if {
	_reaches_anyone(kmskey, index)
	index in input.keys[kmskey.id].access["*"].conditional_statements.key
}

_reaches_anyone(kmskey, index) if index in input.keys[kmskey.id].access["*"].direct

# Without a subject for anyone (no statement names "*"), a statement without a condition
# reaches everyone it does not exclude.
_reaches_anyone(kmskey, index) if {
	not input.keys[kmskey.id].access["*"]
	not kmskey.statements[index].condition.present
}

_reaches_account(kmskey, index) if index in input.keys[kmskey.id].access["account:self"].direct

_element_path(st) := st.principals[0].path if count(st.principals) > 0

_element_path(st) := st.path if count(st.principals) == 0
