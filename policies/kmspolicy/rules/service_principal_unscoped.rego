# METADATA
# title: A service principal can use the key for anyone
# description: |
#   A key-policy statement lets an AWS service principal use the key with no
#   aws:SourceAccount, aws:SourceArn, kms:ViaService or kms:EncryptionContext condition:
#   the service may use it on behalf of resources in other accounts (confused deputy).
# custom:
#   id: KP018
#   severity: medium
#   remediation: |
#     Add `Condition: {StringEquals: {aws:SourceAccount: !Ref AWS::AccountId}}` (or
#     aws:SourceArn / kms:EncryptionContext scoped to your resources).
#   example: |
#     Principal: {Service: logs.amazonaws.com}
#     Action: [kms:Encrypt, kms:Decrypt, kms:GenerateDataKey*]
package kmspolicy.rules.service_principal_unscoped

import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.result

findings contains result.finding("KP018", key, p.path, message, []) if {
	some key in input.keys
	some st in key.statements
	st.effect == "Allow"
	st.principal_mode == "Principal"
	not st.condition.service_scoped
	not st.condition.encryption_context
	some p in st.principals
	p.kind == "service"
	usable := {a | some a in st.actions} & catalog.use_actions
	count(usable) > 0
	message := concat("", [
		"Service ", p.name, " can call ", result.actions_text(usable), " on ", key.id,
		" for any caller: no aws:SourceAccount, aws:SourceArn, kms:ViaService or kms:EncryptionContext condition scopes it.",
	])
}
