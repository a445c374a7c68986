# METADATA
# title: The policy lockout safety check is bypassed
# description: |
#   BypassPolicyLockoutSafetyCheck: true skips the check that the caller can still change
#   the key policy afterwards; it is how keys become unmanageable.
# custom:
#   id: KP017
#   severity: high
#   remediation: |
#     Remove BypassPolicyLockoutSafetyCheck (it defaults to false).
#   example: |
#     Properties:
#       BypassPolicyLockoutSafetyCheck: true
package kmspolicy.rules.bypass_lockout_check

import data.kmspolicy.lib.ids
import data.kmspolicy.lib.result

findings contains result.finding("KP017", key, key.bypass_path, message, []) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	key.bypass_lockout
	message := concat("", [
		key.id, " sets BypassPolicyLockoutSafetyCheck: AWS will not verify that anyone can change the key policy after deployment.",
	])
}

findings contains result.finding("KP017", key, key.bypass_path, message, []) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	not key.bypass_lockout
	key.bypass_lockout_possible == true
	message := concat("", [
		key.id, " may set BypassPolicyLockoutSafetyCheck: its value is not fixed by the template (a parameter, a merged condition or an unsure reading), and where it is true AWS will not verify that anyone can change the key policy after deployment.",
	])
}
