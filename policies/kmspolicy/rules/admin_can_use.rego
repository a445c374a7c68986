# METADATA
# title: A key administrator can use the key
# description: |
#   A principal that administers the key (declared in Metadata.kmspolicy.admins, or
#   inferred because its key-policy statement grants management or permission actions)
#   is also allowed cryptographic use, by a statement naming it or through the account
#   delegation and its IAM policy: it can decrypt what the key protects. Use open to
#   everyone ("*") is KP005's concern.
# custom:
#   id: KP002
#   severity: high
#   remediation: |
#     Give administrators only management actions (no kms:Decrypt, kms:Encrypt,
#     kms:ReEncrypt*, kms:GenerateDataKey*, kms:Sign ...), and give use to the workloads
#     that need it in a separate statement.
#   example: |
#     - Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:user/ops'}
#       Action: [kms:Describe*, kms:Disable*]
#     - Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:user/ops'}
#       Action: [kms:Decrypt, kms:Encrypt]
package kmspolicy.rules.admin_can_use

import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.evidence
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.intent
import data.kmspolicy.lib.result

findings contains result.finding("KP002", key, where[0].path, message, related) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	some sid in intent.admin_ids[key.id]
	acc := input.keys[key.id].access[sid]
	usable_mask := bits.and(acc.granted, catalog.use_mask)
	usable_mask != 0
	where := evidence.patterns(key, acc, key.subjects[sid], usable_mask)
	count(where) > 0
	message := concat("", [
		key.subjects[sid].label, " administers ", key.id, " (", intent.admin_source(key),
		") and is also allowed ", result.mask_text(usable_mask), ", so it can use the key it manages.",
	])
	direct := evidence.direct_patterns(key, acc, key.subjects[sid], usable_mask)

	# The delegating statement matters only when identity-policy patterns give the use.
	delegation := [r |
		count(where) > count(direct)
		some r in evidence.delegation_related(key, acc)
	]
	related := array.concat(_more(where), delegation)
}

_more(where) := [r |
	some i
	p := where[i]
	i > 0
	r := result.related(p.path, concat("", [p.pattern, " allows use"]))
]
