# METADATA
# title: No principal can change the key policy
# description: |
#   No principal (named, through the account delegation, or "*") can reach
#   kms:PutKeyPolicy, so nobody can ever change the policy again; recovering the key
#   needs AWS Support. Removing the account statement without giving PutKeyPolicy to an
#   administrator or the deployer causes exactly this.
# custom:
#   id: KP010
#   severity: high
#   remediation: |
#     Allow kms:PutKeyPolicy to a break-glass administrator and to the role that deploys
#     the stack (or keep the account principal restricted to the root user with an
#     aws:PrincipalArn condition).
#   example: |
#     Statement:
#       - Principal: {AWS: !GetAtt WorkerRole.Arn}
#         Action: [kms:Encrypt, kms:Decrypt]
package kmspolicy.rules.lockout

import data.kmspolicy.lib.accounts
import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.result

findings contains result.finding("KP010", key, _where(key), message, []) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	key.policy_complete
	count(key.statements) > 0
	not _someone_can_change(key)
	message := _lockout_message(key, _literal_holders(key))
}

_lockout_message(key, holders) := concat("", [
	"No principal can call kms:PutKeyPolicy on ", key.id,
	": once deployed its policy can never be changed, and recovering the key needs AWS Support.",
]) if count(holders) == 0

# A literal account granted kms:PutKeyPolicy that the config does not list may be the
# stack's own (then the key is manageable): the message says what is known.
_lockout_message(key, holders) := concat("", [
	"No principal known to be of the stack's account can call kms:PutKeyPolicy on ", key.id,
	": only ", concat(", ", sort(holders)), " is granted it, which is not known to be the stack's own account ",
	"(list it under `accounts` in kmspolicy.yaml if it is); otherwise, once deployed, its policy can never be changed, ",
	"and recovering the key needs AWS Support.",
]) if count(holders) > 0

_literal_holders(key) := {p.account |
	some st in key.statements
	st.effect == "Allow"
	st.principal_mode == "Principal"
	actionmask.has(actionmask.of(st), "kms:PutKeyPolicy")
	some p in st.principals
	regex.match(`^[0-9]{12}$`, p.account)
	not accounts.own(p.account)
}

_someone_can_change(key) if {
	some acc in input.keys[key.id].access
	actionmask.has(acc.granted, "kms:PutKeyPolicy")
}

_where(key) := key.policy_path if {
	key.policy_path != null
} else := key.path
