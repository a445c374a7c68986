# METADATA
# title: The policy would be rejected at deployment
# description: |
#   A key-policy or identity-policy statement that IAM or KMS refuses: a condition
#   operator IAM does not know (or `IfExists` on Null), a value of the wrong type for its
#   operator (a non-number in NumericLessThan, an invalid CIDR). CreateKey,
#   PutKeyPolicy or the IAM call fails and the stack does not deploy as written.
# custom:
#   id: KP021
#   severity: high
#   remediation: |
#     Use an operator from the IAM condition operator reference, with values of its type.
#   example: |
#     Condition:
#       StringEqualsIgnoringCase: {aws:PrincipalTag/team: platform}
package kmspolicy.rules.invalid_policy

import data.kmspolicy.lib.result

findings contains result.finding("KP021", key, problem.path, message, []) if {
	some key in input.keys
	some st in key.statements
	some problem in object.get(st.condition, "problems", [])
	message := concat("", ["The key policy of ", key.id, " would be rejected: ", problem.message, "."])
}

findings contains result.finding_on("KP021", iid, problem.path, message, []) if {
	some iid
	identity := input.identities[iid]
	some st in identity.statements
	some problem in object.get(st.condition, "problems", [])
	message := concat("", ["An IAM policy of ", identity.label, " would be rejected: ", problem.message, "."])
}
