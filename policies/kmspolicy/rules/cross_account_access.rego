# METADATA
# title: Another account can use or manage the key
# description: |
#   The key policy allows a principal of another account (a literal account, one from a
#   parameter, or any account) to use or manage the key, with no condition restricting
#   the caller. Cross-account access still needs that account's own IAM policy, which
#   this template does not control. Accounts listed in the organization config
#   `accounts` count as the template's own.
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
import data.kmspolicy.lib.result

findings contains result.finding("KP012", key, p.path, message, related) if {
	some key in input.keys
	some st in key.statements
	st.effect == "Allow"
	st.principal_mode == "Principal"
	not st.condition.caller_restricted
	some p in st.principals
	p.kind in {"account", "role", "user", "assumed-role"}
	not p.account in {"unknown", ""}
	not accounts.own(p.account)
	acc := access.masks[key.id][p.id]
	granted_mask := bits.and(bits.and(actionmask.of(st), acc.granted), _capabilities)
	granted_mask != 0
	granted := actionmask.names(granted_mask)
	message := concat("", [
		p.raw, " belongs to ", _account_text(p.account), ": it can call ",
		result.actions_text(granted), " on ", key.id, " with no condition on the caller.",
	])
	related := [result.related(pt.path, concat("", [pt.pattern, " granted across accounts"])) |
		some pt in st.patterns
		actionmask.overlaps(actionmask.of(pt), granted_mask)
	]
}

_capabilities := bits.or(bits.or(catalog.use_mask, catalog.manage_mask), catalog.permissions_mask)

_account_text(account) := "any AWS account" if account == "*"

_account_text(account) := concat("", ["the account given by parameter ", trim_prefix(account, "param:"), " (not this template's own)"]) if {
	startswith(account, "param:")
}

_account_text(account) := concat("", ["another account (", account, ")"]) if {
	account != "*"
	not startswith(account, "param:")
}
