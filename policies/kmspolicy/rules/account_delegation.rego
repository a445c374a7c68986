# METADATA
# title: Key policy delegates to the whole account, not the root user
# description: |
#   A key-policy principal `arn:aws:iam::<account>:root` (or a bare account ID) names the
#   account, not its root user. It gives nobody access by itself; it lets IAM policies in
#   that account grant the key's actions, so every role and user whose IAM policy allows
#   them can use the key, now or later. A key without KeyPolicy is KP015's concern.
# custom:
#   id: KP001
#   severity: medium
#   remediation: |
#     Name the principals that need the key in the key policy instead, or keep the account
#     principal only for the root user by adding
#     `Condition: {ArnEquals: {aws:PrincipalArn: arn:aws:iam::<account>:root}}`.
#     Declare `root: delegate` in the key's Metadata.kmspolicy if delegation is intended
#     (or `allow_account_delegation: true` in the organization config).
#   example: |
#     Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:root'}
#     Action: kms:*
package kmspolicy.rules.account_delegation

import data.kmspolicy.lib.accounts
import data.kmspolicy.lib.config
import data.kmspolicy.lib.result

findings contains result.finding("KP001", key, p.path, message, related) if {
	some key in input.keys
	not key.intent.root == "delegate"
	not config.delegation_allowed
	not key.default_policy
	some st in key.statements
	st.effect == "Allow"
	st.principal_mode == "Principal"
	not st.condition.root_only
	some p in st.principals
	p.kind == "account"
	accounts.own(p.account)
	message := concat("", [
		p.raw, " is the whole account, not the root user: any IAM role or user in the account ",
		"whose IAM policy allows it can call ", result.patterns_text(st), " on ", key.id,
		_conditional(st), ".",
	])
	related := [result.related(pt.path, concat("", ["grants ", pt.pattern, " to the account"])) | some pt in st.patterns]
}

_conditional(st) := " (when its condition holds)" if {
	st.condition.present
} else := ""
