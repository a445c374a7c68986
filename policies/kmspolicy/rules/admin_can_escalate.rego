# METADATA
# title: A key administrator can give itself use of the key
# description: |
#   An administrator allowed kms:PutKeyPolicy can rewrite the policy, and one allowed
#   kms:CreateGrant without a kms:GrantIsForAWSResource condition can grant itself any
#   operation; either way "manage but never decrypt" does not hold. The console's default
#   administrator actions (kms:Create*, kms:Put*) include both. One finding per
#   administrator, naming every way; the use it gains is what the key type supports.
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

import data.kmspolicy.lib.access
import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.config
import data.kmspolicy.lib.intent
import data.kmspolicy.lib.result

# One finding per administrator, however many ways it has: the first way is the finding's
# location, the others and any delegating statement are related.
findings contains result.finding("KP003", key, ways[0].pattern.path, message, related) if {
	some key in input.keys
	some sid in intent.admin_ids[key.id]
	acc := access.masks[key.id][sid]
	gained := bits.and(acc.reachable, catalog.use_mask)
	gained != 0
	ways := [way |
		some escalation_action in sort({esc_action | some listed in acc.escalations; esc_action := listed.action})
		some esc in acc.escalations
		esc.action == escalation_action
		actionmask.has(acc.granted, esc.action)
		not _expected_deployer(esc, key.subjects[sid])
		some pat in _where(key, sid, esc)
		way := {"action": esc.action, "pattern": pat, "escalation": esc}
	]
	count(ways) > 0
	actions := {way.action | some way in ways}
	message := concat("", [
		key.subjects[sid].label, " administers ", key.id, " (", intent.admin_source(key), ") and is allowed ",
		concat(" and ", [concat("", [way.action, " through ", way.pattern.pattern]) | some way in ways]),
		", so it can give itself ", result.actions_text(actionmask.names(gained)),
		": ", concat("; ", [_how[action] | some action in sort(actions)]), ".", _hint(actions),
	])
	related := array.concat(
		[result.related(ways[i].pattern.path, concat("", [ways[i].pattern.pattern, " allows ", ways[i].action])) | some i; ways[i]; i > 0],
		[result.related(delegating_path, "the key policy delegates to the account here") |
			some delegating_path in _delegating_paths(key, acc, actions)
		],
	)
}

_hint(actions) := " If this principal deploys the stack, list it under `deployers` in the kmspolicy config." if {
	"kms:PutKeyPolicy" in actions
} else := ""

# The deployer is meant to hold kms:PutKeyPolicy (organization config `deployers`).
_expected_deployer(e, subject) if {
	e.action == "kms:PutKeyPolicy"
	config.matches(subject, config.deployer_patterns)
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

# The delegating key-policy statements of the escalations that go through identity
# policies. (The head is a plain variable: regopy 1.5 returns nothing when the head
# indexes with the loop variable.)
_delegating_paths(key, acc, actions) := sort({statement_path |
	some listed in acc.escalations
	listed.action in actions
	listed.identity_statement != null
	statement_path := key.statements[listed.key_statement].path
})
