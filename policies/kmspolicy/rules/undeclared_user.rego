# METADATA
# title: A principal that is not an intended user can use the key
# description: |
#   A concrete principal outside the key's intended users can call cryptographic
#   operations: a template identity (named in the key policy, or through the account
#   delegation plus its own IAM policy) or a principal the key policy names. Intended
#   users are declared in Metadata.kmspolicy.users (high) or else inferred (medium).
#   "Any IAM principal of the account" through the account delegation is KP001's
#   decision, and a key without KeyPolicy (the default policy names no one) KP015's.
# custom:
#   id: KP007
#   severity: medium
#   remediation: |
#     Name the workloads that need the key in the key policy (or restrict the account
#     statement with aws:PrincipalArn), declare them in Metadata.kmspolicy.users, and
#     remove use actions from statements meant for others. Declare `root: delegate` if
#     leaving use to IAM policies is intended.
#   example: |
#     Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:root'}
#     Action: kms:*
package kmspolicy.rules.undeclared_user

import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.evidence
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.intent
import data.kmspolicy.lib.result

# Template identities and principals named in the key policy.
findings contains result.finding_with_severity("KP007", key, where[0].path, message, related, _severity(key)) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	not key.default_policy
	users := intent.user_ids[key.id]
	admins := intent.admin_ids[key.id]
	some sid
	subject := key.subjects[sid]
	subject.kind in {"identity", "role", "user", "assumed-role", "federated", "canonical-user"}
	not sid in users
	not sid in admins
	acc := input.keys[key.id].access[sid]
	usable_mask := bits.and(acc.granted, catalog.use_mask)
	usable_mask != 0
	where := evidence.patterns(key, acc, subject, usable_mask)
	count(where) > 0
	direct := evidence.direct_patterns(key, acc, subject, usable_mask)
	message := concat("", [
		subject.label, " can call ", result.mask_text(usable_mask), " on ", key.id,
		_how(count(where) > count(direct)), " but is not one of its ", intent.user_source(key), " users.",
	])
	related := array.concat(
		[r | count(where) > count(direct); some r in evidence.delegation_related(key, acc)],
		[r | some i; p := where[i]; i > 0; r := result.related(p.path, concat("", [p.pattern, " allows use"]))],
	)
}

_how(true) := " through the account delegation and its own IAM policy"

_how(false) := ""

_severity(key) := "high" if count(key.intent.users) > 0

_severity(key) := "medium" if count(key.intent.users) == 0
