# METADATA
# title: The deployer cannot pass the lockout safety check
# description: |
#   CloudFormation creates the key as the deploying role or user, and CreateKey fails the
#   policy lockout safety check unless the new policy lets that caller call
#   kms:PutKeyPolicy. Here only the root user (or principals that are not deployers, per
#   the organization config `deployers`) can reach it.
# custom:
#   id: KP019
#   severity: medium
#   remediation: |
#     Allow kms:PutKeyPolicy to the role that deploys the stack (list its pattern under
#     `deployers` in the kmspolicy config), or keep an unrestricted account statement.
#   example: |
#     # kms:* only for the root user (aws:PrincipalArn ...:root); no deployer named
package kmspolicy.rules.deploy_lockout_check

import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.accounts
import data.kmspolicy.lib.config
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.result

findings contains result.finding("KP019", key, _where(key), message, []) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	key.policy_complete
	not key.bypass_lockout
	putters := _putters(key)
	count(putters) > 0
	not _delegates_put_to_iam(key)
	not _everyone_may_put(key)
	not _deployer_can_put(key, putters)
	message := concat("", [
		"Only ", _who(putters, key), " can call kms:PutKeyPolicy on ", key.id,
		": CloudFormation deploys as a role or user, so creating the key fails the policy lockout safety check unless the deployer is allowed it.",
	])
}

_putters(key) := {sid |
	some sid
	acc := input.keys[key.id].access[sid]
	actionmask.has(acc.granted, "kms:PutKeyPolicy")
}

# An account statement without the root-user-only condition: the deployer's IAM policy decides.
_delegates_put_to_iam(key) if {
	some st in key.statements
	st.effect == "Allow"
	st.principal_mode == "Principal"
	actionmask.has(actionmask.of(st), "kms:PutKeyPolicy")
	not st.condition.root_only
	some p in st.principals
	p.kind == "account"
	accounts.own(p.account)
}

# A statement naming everyone ("*", NotPrincipal) that lets the account's principals call
# kms:PutKeyPolicy (no IAM policy needed): the deployer is one of them.
_everyone_may_put(key) if {
	own := input.keys[key.id].access["account:self"]
	actionmask.has(own.granted, "kms:PutKeyPolicy")
	some i in own.direct
	statement := key.statements[i]
	actionmask.has(actionmask.of(statement), "kms:PutKeyPolicy")
	not statement.condition.root_only
}

_deployer_can_put(key, putters) if {
	count(config.deployer_patterns) > 0
	some sid in putters
	config.matches(key.subjects[sid], config.deployer_patterns)
}

# Without configured deployers only root-user-only access is known not to be a deployer.
_deployer_can_put(_, putters) if {
	count(config.deployer_patterns) == 0
	some sid in putters
	sid != "account:self"
}

_who(putters, _) := "the root user" if putters == {"account:self"}

_who(putters, key) := concat(", ", sort([label | some sid in putters; label := key.subjects[sid].label])) if {
	putters != {"account:self"}
}

_where(key) := key.policy_path if key.policy_path != null

_where(key) := key.path if key.policy_path == null
