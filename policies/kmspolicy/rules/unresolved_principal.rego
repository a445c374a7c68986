# METADATA
# title: A principal could not be resolved
# description: |
#   A key-policy principal is only known at deploy time (a parameter without a value,
#   Fn::ImportValue, an unsupported intrinsic): kmspolicy cannot tell who it is and
#   treats it as possibly anyone. Pass the value with --parameter to analyze it.
# custom:
#   id: KP016
#   severity: low
#   remediation: |
#     Run kmspolicy with `--parameter NAME=VALUE` (or `--parameters-file`) so the principal
#     can be resolved, or name the principal literally.
#   example: |
#     Principal: {AWS: !Ref AdminRoleArn}
package kmspolicy.rules.unresolved_principal

import data.kmspolicy.lib.result

findings contains result.finding("KP016", key, p.path, message, []) if {
	some key in input.keys
	some st in key.statements
	some p in st.principals
	p.kind == "unknown"
	message := concat("", [
		"Principal ", p.raw, " cannot be resolved before deployment, so kmspolicy assumes it may be anyone: ",
		"the statement ", _effect(st), " ", result.patterns_text(st), " to it. Pass its value with --parameter to analyze it.",
	])
}

_effect(st) := "allows" if st.effect == "Allow"

_effect(st) := "denies" if st.effect == "Deny"
