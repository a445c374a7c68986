# METADATA
# title: A key user can manage the key
# description: |
#   A principal meant to use the key (declared in Metadata.kmspolicy.users, or inferred
#   from use grants and references) can also reach management or permission actions:
#   it can change the key's state or who may use it. Destructive actions
#   (ScheduleKeyDeletion, DisableKey, DeleteImportedKeyMaterial, crypto-shredding) make
#   it high. Grants limited by kms:GrantIsForAWSResource (the console's attachment
#   statement) are how users let AWS services work, and are not reported.
# custom:
#   id: KP004
#   severity: medium
#   remediation: |
#     Give users only the cryptographic actions they call (kms:Encrypt, kms:Decrypt,
#     kms:GenerateDataKey*, ...) and kms:DescribeKey; leave management to administrators.
#   example: |
#     Principal: {AWS: !GetAtt AppFunctionRole.Arn}
#     Action: kms:*
package kmspolicy.rules.user_can_manage

import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.evidence
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.intent
import data.kmspolicy.lib.result

destructive := {"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:DeleteImportedKeyMaterial"}

findings contains result.finding_with_severity("KP004", key, where[0].path, message, related, severity) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	admins := intent.admin_ids[key.id]
	some sid in intent.intended_user_ids[key.id]
	not sid in admins
	acc := input.keys[key.id].access[sid]
	managing := bits.and(acc.granted, bits.or(catalog.manage_mask, catalog.permissions_mask))
	managing != 0
	reach := {a |
		some a in actionmask.names(managing)
		_granted_plainly(a, key, acc, key.subjects[sid])
	}
	count(reach) > 0
	where := evidence.patterns(key, acc, key.subjects[sid], actionmask.of_names(reach))
	count(where) > 0
	severity := _severity(reach)
	message := concat("", [
		key.subjects[sid].label, " uses ", key.id, " (", intent.user_source(key), ") and can also call ",
		result.actions_text(reach), _destructive_note(reach), ".",
	])
	related := [r |
		count(where) > 1
		some i
		p := where[i]
		i > 0
		r := result.related(p.path, concat("", [p.pattern, " allows management"]))
	]
}

# Granted by a statement not limited to grants for AWS resources (the console's
# "Allow attachment of persistent resources" statement is how users let EBS, RDS ... work).
_granted_plainly(a, key, acc, _) if {
	some i in acc.direct
	st := key.statements[i]
	actionmask.has(actionmask.of(st), a)
	not st.condition.grant_for_aws_resource
}

_granted_plainly(a, key, acc, subject) if {
	some i in acc.delegation
	st := key.statements[i]
	actionmask.has(actionmask.of(st), a)
	not st.condition.grant_for_aws_resource
	some j in acc.identity
	identity_statement := input.identities[subject.identity].statements[j]
	actionmask.has(actionmask.of(identity_statement), a)
	not identity_statement.condition.grant_for_aws_resource
}

_severity(reach) := "high" if count(reach & destructive) > 0

_severity(reach) := "medium" if count(reach & destructive) == 0

_destructive_note(reach) := concat("", [", including ", result.actions_text(reach & destructive), ", which can make data encrypted under the key unrecoverable"]) if {
	count(reach & destructive) > 0
}

_destructive_note(reach) := "" if count(reach & destructive) == 0
