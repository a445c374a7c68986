# METADATA
# title: A principal that is not an intended user can use the key
# description: |
#   Someone outside the key's intended users can call cryptographic operations: a
#   template identity (named in the key policy, or through the account delegation plus its
#   own IAM policy), any IAM principal of the account when the key delegates use to the
#   account, or a principal the key policy names. Intended users are declared in
#   Metadata.kmspolicy.users (high) or else inferred (medium).
# custom:
#   id: KP007
#   severity: high
#   remediation: |
#     Name the workloads that need the key in the key policy (or restrict the account
#     statement with aws:PrincipalArn), declare them in Metadata.kmspolicy.users, and
#     remove use actions from statements meant for others. Declare `root: delegate` if
#     leaving use to IAM policies is intended.
#   example: |
#     Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:root'}
#     Action: kms:*
package kmspolicy.rules.undeclared_user

import data.kmspolicy.lib.access
import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.accounts
import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.config
import data.kmspolicy.lib.evidence
import data.kmspolicy.lib.intent
import data.kmspolicy.lib.result

# Template identities and principals named in the key policy.
findings contains result.finding_with_severity("KP007", key, where[0].path, message, related, _severity(key)) if {
	some key in input.keys
	users := intent.user_ids[key.id]
	admins := intent.admin_ids[key.id]
	some sid
	subject := key.subjects[sid]
	subject.kind in {"identity", "role", "user", "assumed-role", "federated", "canonical-user"}
	not sid in users
	not sid in admins
	acc := access.masks[key.id][sid]
	usable_mask := bits.and(acc.granted, catalog.use_mask)
	usable_mask != 0
	where := evidence.patterns(key, acc, subject, usable_mask)
	count(where) > 0
	direct := evidence.direct_patterns(key, acc, subject, usable_mask)
	usable := actionmask.names(usable_mask)
	message := concat("", [
		subject.label, " can call ", result.actions_text(usable), " on ", key.id,
		_how(count(where) > count(direct)), " but is not one of its ", intent.user_source(key), " users.",
	])
	related := array.concat(
		[r | count(where) > count(direct); some r in evidence.delegation_related(key, acc)],
		[r | some i; p := where[i]; i > 0; r := result.related(p.path, concat("", [p.pattern, " allows use"]))],
	)
}

# Any IAM principal of the account, when the key delegates use to it.
findings contains result.finding_with_severity("KP007", key, where[0].path, message, related, _severity(key)) if {
	some key in input.keys
	not key.intent.root == "delegate"
	not config.delegation_allowed
	acc := access.masks[key.id]["account:self"]
	usable_mask := bits.and(acc.granted, catalog.use_mask)
	delegating := [st |
		some i in acc.delegation
		st := key.statements[i]
		not st.condition.root_only
		actionmask.overlaps(actionmask.of(st), usable_mask)
	]
	count(delegating) > 0
	where := [p | some st in delegating; some p in st.patterns; actionmask.overlaps(actionmask.of(p), usable_mask)]
	count(where) > 0
	usable := actionmask.names(usable_mask)
	message := concat("", [
		"Any IAM role or user of this account whose IAM policy allows it can call ",
		result.actions_text(usable), " on ", key.id,
		": the key policy delegates use to the account, so IAM policies outside this template decide who uses the key.",
	])
	related := [r |
		some st in delegating
		some p in st.principals
		p.kind == "account"
		accounts.own(p.account)
		r := result.related(p.path, "the account principal (every IAM principal of the account, not the root user)")
	]
}

_how(true) := " through the account delegation and its own IAM policy"

_how(false) := ""

_severity(key) := "high" if count(key.intent.users) > 0

_severity(key) := "medium" if count(key.intent.users) == 0
