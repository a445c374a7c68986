# METADATA
# title: Key policy delegates to the whole account, not the root user
# description: |
#   A key-policy principal `arn:aws:iam::<account>:root` (or a bare account ID) names the
#   account, not its root user. It gives nobody access by itself; it lets IAM policies in
#   that account grant the key's actions, so every role and user whose IAM policy allows
#   them can use the key, now or later. Reported once per key and account, on the
#   statement that delegates the most, with every delegating statement as a related
#   location; the message states what the account's principals can do after any Deny.
#   Medium, high when the key declares its users and the delegation also lets others use
#   it. A statement whose condition admits only principals the template singles out (its
#   identities by their ARNs or the names CloudFormation gives them, e.g. `ArnLike
#   aws:PrincipalArn role/${AWS::StackName}-FnRole-*`) delegates to nobody else and is not
#   reported. A key without KeyPolicy is KP015's concern.
# custom:
#   id: KP001
#   severity: medium
#   remediation: |
#     Name the principals that need the key in the key policy instead, or keep the account
#     principal only for the root user by adding
#     `Condition: {ArnEquals: {aws:PrincipalArn: arn:aws:iam::<account>:root}}`.
#     Declare `root: delegate` in the key's Metadata.kmspolicy if delegation is intended
#     (or `allow_account_delegation: true` in the organization config).
#   example: |
#     Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:root'}
#     Action: kms:*
package kmspolicy.rules.account_delegation

import data.kmspolicy.lib.access
import data.kmspolicy.lib.accounts
import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.config
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.result

# One finding per key and delegated account, on the statement that delegates the most;
# every other delegating statement is a related location.
findings contains result.finding_with_severity("KP001", key, primary.principal.path, message, related, _severity(key, acc)) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	not key.intent.root == "delegate"
	not config.delegation_allowed
	not key.default_policy
	some sid in _delegating_ids(key)
	acc := input.keys[key.id].access[sid]
	delegations := _delegations(key, sid, acc)
	count(delegations) > 0
	primary := _primary(delegations)
	message := concat("", [
		primary.principal.raw, " is the whole account, not the root user: ", _consequences(key, acc, delegations),
		_when(key.statements[primary.index]), ".",
	])
	related := array.concat(
		[_grants_related(key.statements[primary.index], "grants ")],
		[_grants_related(key.statements[d.index], "also grants ") | some d in delegations; d.index != primary.index],
	)
}

# The own accounts the key policy delegates to (the `sid`s _delegations may find something for).
_delegating_ids(key) := {p.id |
	some st in key.statements
	st.effect == "Allow"
	st.principal_mode == "Principal"
	not st.condition.root_only
	some p in st.principals
	p.kind == "account"
	accounts.own(p.account)
}

# The Allow statements delegating to own account `sid`, with the account principal, that
# reach some of its principals (a condition naming only the template's identities, by their
# ARNs or CloudFormation's names for them, reaches none of the others).
_delegations(key, sid, acc) := [{"index": i, "principal": p, "size": count(actionmask.sorted_names(actionmask.of(st)))} |
	some i
	st := key.statements[i]
	st.effect == "Allow"
	st.principal_mode == "Principal"
	not st.condition.root_only
	some p in st.principals
	p.kind == "account"
	accounts.own(p.account)
	p.id == sid
	i in acc.delegation
]

_primary(candidates) := ranked[0] if {
	ranked := [chosen |
		some chosen in candidates
		not _outranked(chosen, candidates)
	]
}

_outranked(candidate, candidates) if {
	some other in candidates
	other.size > candidate.size
}

_outranked(candidate, candidates) if {
	some other in candidates
	other.size == candidate.size
	other.index < candidate.index
}

# What every IAM principal of the account can do through the delegation, from its
# evaluated access: a Deny in the key policy narrows it, and what a statement naming
# them through "*" already gives needs no IAM policy (said apart).
_consequences(key, acc, delegations) := concat("", [
	_through_iam(key, actionmask.minus(delegated, without_iam)),
	_without_iam_note(without_iam), _denied_note(key, acc),
]) if {
	delegated := bits.and(acc.granted, actionmask.any_of([actionmask.of(key.statements[d.index]) | some d in delegations]))
	without_iam := bits.and(delegated, actionmask.any_of([actionmask.of(key.statements[i]) |
		some i in acc.direct
		not access.conditional_for(acc, i)
	]))
}

_through_iam(key, mask) := concat("", [
	"any IAM role or user in the account whose IAM policy allows it can ", result.capabilities_text(key.id, mask),
]) if {
	mask != 0
} else := concat("", ["the delegation adds nothing on ", key.id, " that its principals do not already have"])

_without_iam_note(0) := ""

_without_iam_note(mask) := concat("", ["; every one of them can call ", result.mask_text(mask), " without any IAM policy, through a statement naming \"*\""]) if mask != 0

_some_of(mask, class) if bits.and(mask, class) != 0

_denied_note(key, acc) := concat("", [
	"; the explicit Deny", _plural(acc.denies), " keep", _verb_s(acc.denies), " ",
	result.mask_text(bits.and(acc.denied, catalog.key_mask)),
	" from them", _exempt_note(key, acc),
]) if {
	bits.and(acc.denied, catalog.key_mask) != 0
} else := ""

_plural(denies) := "s" if count(denies) > 1

_plural(denies) := "" if count(denies) <= 1

_verb_s(denies) := "" if count(denies) > 1

_verb_s(denies) := "s" if count(denies) <= 1

# A Deny that holds only under its condition spares the principals the condition exempts.
_exempt_note(key, acc) := " (except the principals its condition exempts)" if {
	some i in acc.denies
	key.statements[i].condition.present
} else := ""

_grants_related(st, verb) := result.related(result.actions_path(st), concat("", [verb, result.patterns_short(st), " to the account", _conditional(st)]))

_when(st) := ", when the statement's condition holds" if {
	st.condition.present
} else := ""

_conditional(st) := " (when its condition holds)" if {
	st.condition.present
} else := ""

# Use left to IAM policies when the owner declared who the users are is the high case.
_severity(key, acc) := "high" if {
	count(key.intent.users) > 0
	_some_of(acc.granted, catalog.use_mask)
} else := "medium"
