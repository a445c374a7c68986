# METADATA
# title: The key has no KeyPolicy
# description: |
#   Without a KeyPolicy property AWS applies the default key policy: one statement
#   allowing kms:* to the account principal, so IAM policies in the account decide who
#   can use and manage the key.
# custom:
#   id: KP015
#   severity: medium
#   remediation: |
#     Write the KeyPolicy explicitly, naming administrators and users, and keep the account
#     principal only for the root user (aws:PrincipalArn condition) as break-glass.
#   example: |
#     Type: AWS::KMS::Key
#     Properties:
#       Description: no KeyPolicy
package kmspolicy.rules.missing_key_policy

import data.kmspolicy.lib.ids
import data.kmspolicy.lib.result

findings contains result.finding("KP015", key, key.path, message, []) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	key.default_policy
	message := concat("", [
		key.id, " has no KeyPolicy, so AWS applies the default policy: kms:* for the account principal, ",
		"which lets any IAM role or user of the account whose IAM policy allows it use and manage the key.",
	])
}
