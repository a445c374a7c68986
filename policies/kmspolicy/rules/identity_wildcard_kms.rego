# METADATA
# title: An identity policy allows KMS use on every key
# description: |
#   An IAM policy in the template allows use or permission actions (kms:Decrypt,
#   kms:CreateGrant, ...) on Resource "*". Every key whose policy delegates to the
#   account, in this template or elsewhere in the account, then accepts these calls.
# custom:
#   id: KP013
#   severity: medium
#   remediation: |
#     Scope the statement to the keys the workload needs: `Resource: !GetAtt Key.Arn`, or
#     the SAM policy templates `KMSDecryptPolicy`/`KMSEncryptPolicy` with `KeyId`.
#   example: |
#     Policies:
#       - Statement:
#           - Effect: Allow
#             Action: kms:Decrypt
#             Resource: '*'
package kmspolicy.rules.identity_wildcard_kms

import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.result

findings contains result.finding_on("KP013", iid, path, message, []) if {
	some iid
	identity := input.identities[iid]
	some st in identity.statements
	st.effect == "Allow"
	st.resources.any_key
	not _inherited(st)
	risky := {a | some a in st.actions} & (catalog.use_actions | catalog.permissions_actions)
	count(risky) > 0
	path := _where(st)
	message := concat("", [
		identity.label, "'s IAM policy allows ", result.actions_text(risky),
		" on every KMS key: any key that delegates to the account (", _keys_text, ") accepts these calls.",
	])
}

_inherited(st) if st.origin.kind == "group"

_where(st) := st.resources.paths[0] if count(st.resources.paths) > 0

_where(st) := st.path if count(st.resources.paths) == 0

_keys_text := concat(", ", sort([kid | some kid; input.keys[kid]])) if count(input.keys) > 0

_keys_text := "none in this template" if count(input.keys) == 0
