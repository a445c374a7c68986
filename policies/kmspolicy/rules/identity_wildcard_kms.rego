# METADATA
# title: An identity policy allows KMS use on every key
# description: |
#   An IAM policy in the template allows use or permission actions (kms:Decrypt,
#   kms:CreateGrant, ...) on Resource "*". Every key whose policy delegates to the
#   account, in this template or elsewhere in the account, then accepts these calls. One
#   finding per identity; the keys of this template that accept the calls (by the
#   evaluated access: a key its NotResource excludes does not) are related locations.
#   The finding is on the identity: a suppression in the identity's
#   Metadata.kmspolicy.suppress, or in that of every key it lists, accepts it.
# custom:
#   id: KP013
#   severity: medium
#   suppress_on: identity
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

import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.result

# One finding per identity, on its first such statement; its other statements and every
# key of this template that accepts the calls (by the evaluated access) are related.
findings contains result.finding_on("KP013", iid, _where(wildcards[0].statement), message, related) if {
	some iid in ids.identities
	identity := input.identities[iid]
	wildcards := [entry |
		some j
		st := identity.statements[j]
		st.effect == "Allow"
		st.resources.any_key
		not _inherited(st)
		risky_mask := actionmask.minus(bits.and(actionmask.of(st), _risky_actions), _denied_everywhere(identity))
		risky_mask != 0
		risky := actionmask.names(risky_mask)
		entry := {"index": j, "statement": st, "risky": risky}
	]
	count(wildcards) > 0
	risky_all := {action | some flagged in wildcards; some action in flagged.risky}
	accepting := _accepting_keys(iid, {flagged_index | some flagged_entry in wildcards; flagged_index := flagged_entry.index})
	message := concat("", [
		identity.label, "'s IAM policy allows ", result.actions_text(risky_all),
		" on every KMS key", _excluded_text(wildcards), ": any key that delegates to the account accepts ", _accepted_text(identity), " (", _keys_text(accepting), ").",
	])
	related := array.concat(
		[result.related(location, concat("", ["also allows ", result.actions_text(_risky_at(wildcards, location)), " on every key"])) |
			some location in sort({_where(flagged.statement) | some flagged in wildcards})
			location != _where(wildcards[0].statement)
		],
		[result.related(input.keys[kid].path, concat("", [kid, " accepts these calls"])) | some kid in sort(accepting)],
	)
}

_inherited(st) if st.origin.kind == "group"

_risky_actions := bits.or(catalog.use_mask, catalog.permissions_mask)

_accepted_text(identity) := "those its permissions boundary also allows" if {
	object.get(identity, "boundary", null) != null
} else := "these calls"

# The actions the identity's own policies deny on every key, for every request.
_denied_everywhere(identity) := actionmask.any_of([actionmask.of(st) |
	some st in identity.statements
	st.effect == "Deny"
	st.resources.any_key
	not st.condition.present
])

# The risky actions of the flagged statements found at one location (an AWS managed
# policy's statements all point to its ARN).
_risky_at(wildcards, location) := {action |
	some flagged in wildcards
	_where(flagged.statement) == location
	some action in flagged.risky
}

_where(st) := st.resources.paths[0] if count(st.resources.paths) > 0

_where(st) := st.path if count(st.resources.paths) == 0

# The keys of this template that let the identity make some of these calls through one
# of the flagged statements (a key a NotResource excludes, or whose policy does not
# delegate, is not among them).
_accepting_keys(identity_id, flagged) := {accepting_kid |
	subject_id := concat("", ["identity:", identity_id])
	some accepting_kid
	grants := input.keys[accepting_kid].access[subject_id]
	bits.and(grants.granted, bits.or(catalog.use_mask, catalog.permissions_mask)) != 0
	count(flagged & {j | some j in grants.identity}) > 0
}

_excluded_text(wildcards) := " but those its NotResource excludes" if {
	some flagged in wildcards
	flagged.statement.resources.mode == "NotResource"
} else := ""

_keys_text(accepting) := concat("", ["in this template: ", concat(", ", sort(accepting))]) if count(accepting) > 0

_keys_text(accepting) := "no key of this template accepts them from it" if count(accepting) == 0
