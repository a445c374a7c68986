# METADATA
# title: Key deletion window shorter than ACME's minimum
# description: |
#   ACME requires a waiting period of at least data.acme.kms.min_pending_window_days
#   days (30 when unset) between ScheduleKeyDeletion and the deletion of a KMS key, so
#   that a mistaken or malicious deletion is noticed and cancelled in time. A key whose
#   PendingWindowInDays is shorter breaks that rule.
# custom:
#   id: ORG001
#   severity: medium
#   remediation: |
#     Remove PendingWindowInDays (AWS then waits 30 days) or set it to at least ACME's
#     minimum.
package kmspolicy.rules.acme_deletion_window

import data.kmspolicy.lib.result

default _minimum := 30

_minimum := data.acme.kms.min_pending_window_days

findings contains result.finding("ORG001", key, path, message, []) if {
	some key in input.keys
	is_number(key.pending_window)
	key.pending_window < _minimum
	path := concat("", [key.path, "/Properties/PendingWindowInDays"])
	message := concat("", [
		key.id, " can be deleted ", format_int(key.pending_window, 10),
		" days after ScheduleKeyDeletion; ACME requires at least ",
		format_int(_minimum, 10), " days.",
	])
}
