# METADATA
# title: Another account can use or manage the key
# description: |
#   The key policy allows a principal of another account (a literal account, one from a
#   parameter, or any account) to use or manage the key, with no condition restricting
#   the caller. Cross-account access still needs that account's own IAM policy, which
#   this template does not control. `*` with a condition that admits only the callers
#   of an account (kms:CallerAccount, aws:PrincipalAccount) names that account. Accounts
#   listed in the organization config `accounts`, and the account a CDK stack's environment
#   names, count as the template's own; a literal account ID not listed there is "not known
#   to be the stack's own" (unless the stack's account is known), and the message says how
#   to declare it. A role or user of another account named in the key policy (CDK's grant
#   to a role of a stack in another account) is reported as its account is. One finding
#   per key and external principal, every statement that reaches it related.
# custom:
#   id: KP012
#   severity: high
#   remediation: |
#     Grant the other account only the actions it needs, and restrict the statement to
#     the expected callers (aws:PrincipalArn, aws:PrincipalOrgID) or to a service path
#     (kms:ViaService with kms:CallerAccount).
#   example: |
#     Principal: {AWS: !Sub 'arn:aws:iam::${PartnerAccount}:root'}
#     Action: [kms:Decrypt, kms:GenerateDataKey*]
package kmspolicy.rules.cross_account_access

import data.kmspolicy.lib.access
import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.accounts
import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.result

# One finding per key and external subject, on the first statement that reaches it; the
# other statements are related, one location each with their granted patterns.
findings contains result.finding("KP012", key, grants[0].principal.path, message, related) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	some sid
	subject := key.subjects[sid]
	_external(subject)
	acc := input.keys[key.id].access[sid]
	grants := [grant |
		some i in numbers.range(0, count(key.statements) - 1)
		_grants_through(acc, i)
		st := key.statements[i]
		st.effect == "Allow"
		st.principal_mode == "Principal"
		_reported(st, access.conditional_for(acc, i))
		granted_mask := bits.and(bits.and(actionmask.of(st), _key_policy_grants(acc)), _capabilities)
		granted_mask != 0
		reaching := [q | some q in st.principals; _reaches(q, subject, st)]
		count(reaching) > 0
		grant := {"index": i, "principal": reaching[0], "mask": granted_mask}
	]
	count(grants) > 0
	granted := actionmask.any_of([grant.mask | some grant in grants])
	message := _message(grants[0].principal, subject, result.mask_text(granted), key, _caller_condition(key, grants))
	related := [result.related(result.actions_path(key.statements[grant.index]), concat("", [_granted_text(key.statements[grant.index], grant.mask), " granted across accounts"])) |
		some grant in grants
	]
}

# What the key policy lets the subject do: for a role or user of another account named in
# it, what that account's unseen IAM policies decide is unknown, not denied (as they decide
# for a whole account named by its root ARN).
_key_policy_grants(acc) := bits.or(acc.granted, acc.unknown)

# The statement's patterns that grant some of `mask`.
_granted_text(st, mask) := result.actions_text({pt.pattern | some pt in st.patterns; actionmask.overlaps(actionmask.of(pt), mask)})

# A principal of another account (or of an account the template does not determine).
_external(subject) if {
	subject.kind in {"account", "role", "user", "assumed-role"}
	not subject.account in {"unknown", ""}
	not accounts.own(subject.account)
}

# Reported when the statement reaches the subject for every request, or only under a
# condition that does not restrict who the caller is (a caller-restricted grant to a
# partner is the intended shape of cross-account access).
_reported(_, false)

_reported(st, true) if not st.condition.caller_restricted

# The principal of the statement that reaches the subject. A statement naming a whole
# account reaches its roles and users too, but that is the account subject's finding:
# a role or user of it is reported for what is given to it by name (or through "*").
_reaches(p, subject, _) if p.id == subject.id

_reaches(p, subject, _) if {
	p.kind == "account"
	subject.kind == "account"
	p.account == subject.account
}

# "*" with a condition that admits the subject; without one it is anyone's (KP005).
_reaches(p, _, st) if {
	p.kind == "any"
	st.condition.present
}

_message(p, subject, actions, key, condition_text) := concat("", [
	"Principal \"*\" with its condition admits ", subject.label, ", ", _account_text(subject.account),
	": it can call ", actions, " on ", key.id, ".",
]) if {
	p.kind == "any"
} else := concat("", [
	p.raw, " belongs to ", _account_text(p.account), ": it can call ", actions, " on ", key.id,
	condition_text, ".", _declare_hint(p.account),
])

# Only what statements without a condition grant has "no condition on the caller"; what
# a conditional statement grants holds whenever its condition does.
_caller_condition(key, grants) := " with no condition on the caller" if {
	_conditioned(key, grants) == 0
} else := " whenever the statement's condition holds" if {
	_unconditioned(key, grants) == 0
} else := concat("", [
	" (", result.mask_text(_unconditioned(key, grants)), " with no condition on the caller, ",
	result.mask_text(actionmask.minus(_conditioned(key, grants), _unconditioned(key, grants))),
	" whenever its statement's condition holds)",
])

_unconditioned(key, grants) := actionmask.any_of([grant.mask | some grant in grants; not key.statements[grant.index].condition.present])

_conditioned(key, grants) := actionmask.any_of([grant.mask | some grant in grants; key.statements[grant.index].condition.present])

_declare_hint(account) := concat("", [
	" If ", account, " is the stack's own account, list it under `accounts` in kmspolicy.yaml.",
]) if {
	_literal(account)
	not input.accounts
} else := ""

_literal(account) if regex.match(`^[0-9]{12}$`, account)

_capabilities := bits.or(bits.or(catalog.use_mask, catalog.manage_mask), catalog.permissions_mask)

_account_text(account) := "any AWS account" if account == "*"

_account_text(account) := concat("", ["the account given by parameter ", trim_prefix(account, "param:"), ", not known to be the stack's own"]) if {
	startswith(account, "param:")
}

_account_text(account) := concat("", ["account ", account, ", not known to be the stack's own"]) if {
	_literal(account)
	not input.accounts
}

_account_text(account) := concat("", ["account ", account, ", not the stack's own (", concat(", ", input.accounts), ")"]) if {
	_literal(account)
	input.accounts
}

_account_text(account) := concat("", ["another account (", account, ")"]) if {
	account != "*"
	not startswith(account, "param:")
	not _literal(account)
}

# The statement indexes of the subject's key-policy grants: named, or through its account.
_grants_through(acc, i) if i in acc.direct

_grants_through(acc, i) if i in acc.delegation
