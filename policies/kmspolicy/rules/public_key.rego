# METADATA
# title: Anyone can use the key
# description: |
#   A key-policy statement allows the principal "*" (as a string, `AWS: "*"`, or in a
#   list) and its condition, evaluated for a stranger (a principal of an account the
#   template and config never name, in no organization they name), does not exclude
#   them: no condition, or one that restricts something else than who the caller is
#   (kms:ViaService restricts the path; kms:EncryptionContext is chosen by the caller),
#   or one a caller without the key passes (…IfExists, negated operators, wildcards).
# custom:
#   id: KP005
#   severity: critical
#   remediation: |
#     Name the principals that need the key, or restrict the statement to your callers
#     with a condition such as `StringEquals: {kms:CallerAccount: <account>}` or
#     `StringEquals: {aws:PrincipalOrgID: <org id>}`.
#   example: |
#     Principal: {AWS: '*'}
#     Action: kms:Decrypt
package kmspolicy.rules.public_key

import data.kmspolicy.lib.access
import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.result

findings contains result.finding("KP005", key, p.path, message, []) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	acc := input.keys[key.id].access["*"]
	some i in acc.direct
	st := key.statements[i]
	st.effect == "Allow"
	st.principal_mode == "Principal"
	bits.and(acc.granted, actionmask.of(st)) != 0
	some p in st.principals
	p.kind == "any"
	message := concat("", [
		"Principal \"", p.raw, "\" lets anyone, in any AWS account, call ", result.patterns_text(st),
		" on ", key.id, _why(st, access.conditional_for(acc, i)), _escalation(acc, i), ".",
	])
}

# What a caller gives itself with what the statement allows (a grant or a new key policy).
_escalation(acc, i) := concat("", [
	"; through ", concat(" and ", sort({e.action | some e in acc.escalations; e.key_statement == i})),
	" they can also give themselves ", result.mask_text(acc.reachable),
]) if {
	acc.reachable != 0
	some e in acc.escalations
	e.key_statement == i
} else := ""

_why(_, true) := "; its condition admits some callers of other accounts"

_why(st, false) := "; its condition admits callers of any account" if st.condition.present

_why(st, false) := "" if not st.condition.present
