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

import data.kmspolicy.lib.result

findings contains result.finding("KP006", key, path, message, []) if {
	some key in input.keys
	some st in key.statements
	st.effect == "Allow"
	st.principal_mode == "NotPrincipal"
	path := _element_path(st)
	message := concat("", [
		"This Allow uses NotPrincipal: everyone except ", concat(", ", sort([p.raw | some p in st.principals])),
		", in any AWS account, can call ", result.patterns_text(st), " on ", key.id, ".",
	])
}

_element_path(st) := st.principals[0].path if count(st.principals) > 0

_element_path(st) := st.path if count(st.principals) == 0
