# METADATA
# title: The policy is invalid as written
# description: |
#   An element of a key policy that AWS KMS rejects, so CreateKey or PutKeyPolicy fails
#   and the stack does not deploy: a principal KMS refuses (a wildcard inside an ARN such
#   as arn:aws:iam::*:root or role/*, an account ID that is not 12 digits, an IAM group,
#   a malformed ARN or service name), an Effect other than Allow or Deny, a statement
#   without Effect, Action, Principal or Resource, a Resource other than "*", a Version
#   other than 2012-10-17 or 2008-10-17, a policy over 32 KB, a condition operator IAM
#   does not know (or IfExists on Null), a condition value of the wrong type. Also a kms
#   action name that matches no KMS action: KMS may accept it, but it has no effect. An
#   identity policy's condition that IAM rejects is reported the same way. Values known
#   only at deployment are judged on what they are sure to contain. Each check and its
#   source: docs/invalid-policies.md.
# custom:
#   id: KP021
#   severity: high
#   remediation: |
#     Fix the element the finding points at: name principals by their exact ARN (match
#     groups of principals with a condition on aws:PrincipalArn), use Resource "*" in key
#     policies, spell actions and condition operators as the KMS and IAM references do.
#   example: |
#     Principal:
#       AWS: arn:aws:iam::*:root
package kmspolicy.rules.invalid_policy

import data.kmspolicy.lib.ids
import data.kmspolicy.lib.result

findings contains result.finding("KP021", key, problem.path, message, []) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	some problem in object.get(key, "invalid", [])
	problem.outcome == "rejected"
	message := concat("", ["The key policy of ", key.id, " would be rejected: ", problem.message, "."])
}

# An action name that matches nothing deploys, but the statement does less than it says.
findings contains result.finding_with_severity("KP021", key, problem.path, message, [], "medium") if {
	some key_id in ids.keys
	key := input.keys[key_id]
	some problem in object.get(key, "invalid", [])
	problem.outcome == "ignored"
	message := concat("", ["In the key policy of ", key.id, ", ", problem.message, "."])
}

findings contains result.finding("KP021", key, problem.path, message, []) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	some st in key.statements
	some problem in object.get(st.condition, "problems", [])
	message := concat("", ["The key policy of ", key.id, " would be rejected: ", problem.message, "."])
}

findings contains result.finding_on("KP021", iid, problem.path, message, []) if {
	some iid in ids.identities
	identity := input.identities[iid]
	some st in identity.statements
	some problem in object.get(st.condition, "problems", [])
	message := concat("", ["An IAM policy of ", identity.label, " would be rejected: ", problem.message, "."])
}
