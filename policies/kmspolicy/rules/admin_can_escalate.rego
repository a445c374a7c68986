# METADATA
# title: A key administrator can give itself use of the key
# description: |
#   An administrator allowed kms:PutKeyPolicy can rewrite the policy, and one allowed
#   kms:CreateGrant without a kms:GrantIsForAWSResource condition can grant itself any
#   operation; either way "manage but never decrypt" does not hold. The console's default
#   administrator actions (kms:Create*, kms:Put*) include both. One finding per way (each
#   has its own fix, on its own line); the use it gains is what the key type supports.
# custom:
#   id: KP003
#   severity: high
#   remediation: |
#     Remove kms:Create* and kms:Put* from administrator statements (list the management
#     actions one by one), constrain kms:CreateGrant with
#     `Condition: {Bool: {kms:GrantIsForAWSResource: true}}`, and keep kms:PutKeyPolicy
#     only for a break-glass principal and the deployer.
#   example: |
#     Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:user/${KeyAdmin}'}
#     Action: [kms:Create*, kms:Describe*, kms:Enable*, kms:Put*, kms:Disable*]
package kmspolicy.rules.admin_can_escalate

import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.config
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.intent
import data.kmspolicy.lib.result

findings contains result.finding("KP003", key, p.path, message, related) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	some sid in intent.admin_ids[key.id]
	acc := input.keys[key.id].access[sid]
	gained := bits.and(acc.reachable, catalog.use_mask)
	gained != 0
	some e in acc.escalations
	actionmask.has(acc.granted, e.action)
	not _expected_deployer(e, key.subjects[sid])
	some p in _where(key, sid, e)
	message := concat("", [
		key.subjects[sid].label, " administers ", key.id, " (", intent.admin_source(key), ") and is allowed ",
		e.action, " through ", p.pattern, ", so it can give itself ", result.mask_text(gained),
		": ", _how[e.action], ".", _deployer_hint[e.action],
	])
	related := _related(key, e)
}

# The deployer is meant to hold kms:PutKeyPolicy (organization config `deployers`).
_expected_deployer(e, subject) if {
	e.action == "kms:PutKeyPolicy"
	config.matches(subject, config.deployer_patterns)
}

_deployer_hint := {
	"kms:PutKeyPolicy": " If this principal deploys the stack, list it under `deployers` in the kmspolicy config.",
	"kms:CreateGrant": "",
}

_how := {
	"kms:PutKeyPolicy": "it can rewrite the key policy to allow anything",
	"kms:CreateGrant": "a grant it creates for itself needs no other permission",
}

# The pattern that allows the escalation action: in the identity statement for
# bilateral access, else in the key-policy statement.
_where(key, sid, e) := {p |
	some p in key.statements[e.key_statement].patterns
	actionmask.has(actionmask.of(p), e.action)
} if {
	e.identity_statement == null
} else := {p |
	identity := key.subjects[sid].identity
	some p in input.identities[identity].statements[e.identity_statement].patterns
	actionmask.has(actionmask.of(p), e.action)
}

_related(key, e) := [result.related(key.statements[e.key_statement].path, "the key policy delegates to the account here")] if {
	e.identity_statement != null
} else := []
