# METADATA
# title: Every principal of the account can use the key without an IAM permission
# description: |
#   A key-policy statement allows the principal "*" with a condition that admits the
#   callers of this account (kms:CallerAccount or aws:PrincipalAccount equal to its
#   account ID, say). That is not account delegation: the key policy itself names every
#   role and user of the account, so each of them can use the key without any IAM policy
#   allowing it, and IAM policies cannot narrow who does (only an explicit Deny can).
#   A statement whose condition also limits the path (kms:ViaService: the pattern of
#   AWS managed keys, usable only through that service) is not reported. One finding per
#   key, every admitting statement's condition related. A "*" scoped to an organization
#   (aws:PrincipalOrgID) admits them all if the account is in it: reported as such when
#   the config's `organization` does not say (and as certain, or not at all, when it does).
# custom:
#   id: KP020
#   severity: high
#   remediation: |
#     Name the principals that need the key (or restrict "*" with aws:PrincipalArn to
#     them), or use the account principal (`arn:aws:iam::<account>:root`) so that IAM
#     policies decide who uses the key.
#   example: |
#     Principal: {AWS: '*'}
#     Action: [kms:Decrypt, kms:Encrypt]
#     Condition:
#       StringEquals: {kms:CallerAccount: !Ref AWS::AccountId}
package kmspolicy.rules.account_wide_without_iam

import data.kmspolicy.lib.access
import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.result

# One finding per key, on the first such statement; the others' conditions are related.
findings contains result.finding("KP020", key, admitting[0].principal.path, message, related) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	acc := input.keys[key.id].access["account:self"]
	admitting := _admitting_regardless(key, acc)
	count(admitting) > 0
	usable := actionmask.any_of([entry.mask | some entry in admitting])
	message := concat("", [
		"Principal \"*\" with its condition admits every IAM principal of this account: each can call ",
		result.mask_text(usable), " on ", key.id,
		" without any IAM policy allowing it.",
	])
	related := [result.related(condition_path, "the condition that admits the whole account") |
		some entry in admitting
		condition_path := key.statements[entry.index].condition.path
		condition_path != null
	]
}

# "*" scoped to an organization (aws:PrincipalOrgID) when the config does not say whether
# this account is in it: if it is, the statement admits every principal of the account.
# Reported when no statement admits them regardless (the finding above).
findings contains result.finding("KP020", key, star.path, message, related) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	acc := input.keys[key.id].access["account:self"]
	count(_admitting_regardless(key, acc)) == 0
	some entry in acc.in_organization
	admitting := [i |
		some i in acc.direct
		access.conditional_for(acc, i)
		_star(key, i)
		bits.and(entry.unconditional[i], catalog.use_mask) != 0
	]
	count(admitting) > 0
	star := _star(key, admitting[0])
	usable := actionmask.any_of([bits.and(entry.unconditional[i], catalog.use_mask) | some i in admitting])
	message := concat("", [
		"Principal \"*\" with its condition admits every IAM principal of this account if the account is in ",
		"organization ", entry.organization, ": each can then call ", result.mask_text(usable),
		" on ", key.id, " without any IAM policy allowing it (set `organization` in the config to decide).",
	])
	related := [result.related(condition_path, "the condition that admits the organization") |
		some i in admitting
		condition_path := key.statements[i].condition.path
		condition_path != null
	]
}

# The statements naming "*" that give every principal of the account some use, whatever
# its requests.
_admitting_regardless(key, acc) := [entry |
	some i in acc.direct
	not access.conditional_for(acc, i)
	usable_mask := bits.and(bits.and(acc.granted, actionmask.of(key.statements[i])), catalog.use_mask)
	usable_mask != 0
	entry := {"index": i, "principal": _star(key, i), "mask": usable_mask}
]

# The "*" of key statement i, an Allow to it that does not admit anyone at all.
_star(key, i) := star if {
	st := key.statements[i]
	st.effect == "Allow"
	st.principal_mode == "Principal"
	not _public(key, i)
	star := [p | some p in st.principals; p.kind == "any"][0]
}

# Anyone at all is admitted: KP005 reports that.
_public(key, i) if i in input.keys[key.id].access["*"].direct
