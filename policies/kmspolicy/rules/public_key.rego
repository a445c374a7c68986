# METADATA
# title: Anyone can use the key
# description: |
#   A key-policy statement allows the principal "*" (as a string, `AWS: "*"`, or in a
#   list) with no condition that restricts who the caller is (aws:PrincipalAccount,
#   aws:PrincipalOrgID, kms:CallerAccount, aws:PrincipalArn, aws:SourceAccount ...).
#   kms:ViaService alone restricts the path, not the caller.
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

import data.kmspolicy.lib.result

findings contains result.finding("KP005", key, p.path, message, []) if {
	some key in input.keys
	some st in key.statements
	st.effect == "Allow"
	st.principal_mode == "Principal"
	not st.condition.caller_restricted
	some p in st.principals
	p.kind == "any"
	message := concat("", [
		"Principal \"", p.raw, "\" lets anyone, in any AWS account, call ", result.patterns_text(st),
		" on ", key.id, _why(st), ".",
	])
}

_why(st) := "; its condition does not restrict who the caller is" if {
	st.condition.present
} else := ""
