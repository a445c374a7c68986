# METADATA
# title: A non-administrator can create unconstrained grants
# description: |
#   A principal that is not an administrator can call kms:CreateGrant with neither
#   kms:GrantIsForAWSResource nor kms:GrantOperations constraining it, so it can grant
#   any operation on the key to anyone, itself included; a `ForAnyValue:` GrantOperations
#   condition does not constrain it (one matching operation is enough). AWS services and their
#   service-linked roles are not reported, nor unresolved principals (KP016 says what
#   anyone could do with them).
# custom:
#   id: KP014
#   severity: medium
#   remediation: |
#     Add `Condition: {Bool: {kms:GrantIsForAWSResource: true}}` when the grants are for
#     AWS services (EBS, RDS, ...), or limit them with
#     `ForAllValues:StringEquals: {kms:GrantOperations: [Decrypt]}`.
#   example: |
#     Principal: {AWS: !GetAtt AppRole.Arn}
#     Action: [kms:Decrypt, kms:CreateGrant]
package kmspolicy.rules.unconstrained_create_grant

import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.intent
import data.kmspolicy.lib.result

# One finding per principal, on the first statement that lets it; the others are related.
findings contains result.finding("KP014", key, primary.path, message, related) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	admins := intent.admin_ids[key.id]
	some sid
	subject := key.subjects[sid]
	subject.kind in {"identity", "role", "user", "assumed-role", "federated", "canonical-user"}
	not sid in admins
	not intent.service_linked(subject)
	acc := input.keys[key.id].access[sid]
	actionmask.has(acc.granted, "kms:CreateGrant")
	routes := _routes(key, subject, acc)
	some primary in routes
	not _after_another(primary, routes)
	message := concat("", [
		subject.label, " can call kms:CreateGrant on ", key.id, " through ", primary.pattern,
		primary.text, ": it can grant any operation, to itself too.",
	])
	others := sort([r.path | some r in routes; r.path != primary.path])
	related := [result.related(other_path, concat("", ["also through ", r.pattern, r.text])) |
		some other_path in others
		some r in routes
		r.path == other_path
	]
}

# The patterns (with their statement's wording) through which the subject may create a
# grant its statement does not limit.
_routes(key, subject, acc) := {{"path": p.path, "pattern": p.pattern, "text": _unconstrained_text(key.statements[e.key_statement])} |
	some e in acc.escalations
	e.action == "kms:CreateGrant"
	key.statements[e.key_statement].condition.grant_operations == null
	some p in _patterns(key, subject, e)
}

_after_another(route, all_routes) if {
	some other in all_routes
	other.path < route.path
}

_patterns(key, _, e) := {p |
	some p in key.statements[e.key_statement].patterns
	actionmask.has(actionmask.of(p), "kms:CreateGrant")
} if e.identity_statement == null

_patterns(_, subject, e) := {p |
	st := input.identities[subject.identity].statements[e.identity_statement]
	st.condition.grant_operations == null
	some p in st.patterns
	actionmask.has(actionmask.of(p), "kms:CreateGrant")
} if e.identity_statement != null

# A kms:GrantOperations condition the bridge did not read as a limit (ForAnyValue is met
# as soon as one of the grant's operations matches) is still a condition: say so.
_unconstrained_text(st) := " with a kms:GrantOperations condition that does not limit the operations a grant carries (ForAnyValue is met as soon as one of them matches)" if {
	"kms:grantoperations" in st.condition.keys
} else := " with no kms:GrantIsForAWSResource or kms:GrantOperations condition"
