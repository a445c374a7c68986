# METADATA
# title: A principal could not be resolved
# description: |
#   A key-policy principal is only known at deploy time (a parameter without a value,
#   Fn::ImportValue, an unsupported intrinsic): kmspolicy cannot tell who it is and
#   treats it as possibly anyone, and says what anyone could then do. Reported once per
#   key and unresolved value (one principal, however many statements name it: an
#   administrator and a user given by the same parameter are one principal), with every
#   statement naming it as a related location. Pass the value with --parameter to
#   analyze it.
# custom:
#   id: KP016
#   severity: low
#   remediation: |
#     Run kmspolicy with `--parameter NAME=VALUE` (or `--parameters-file`) so the principal
#     can be resolved, or name the principal literally.
#   example: |
#     Principal: {AWS: !Ref AdminRoleArn}
package kmspolicy.rules.unresolved_principal

import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.result

findings contains result.finding("KP016", key, uses[0].path, message, related) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	some sid in {p.id | some st in key.statements; some p in st.principals; p.kind == "unknown"}
	uses := [p | some st in key.statements; some p in st.principals; p.id == sid]
	statements := [i | some i; st := key.statements[i]; _names(st, sid)]
	message := concat("", [
		"Principal ", uses[0].raw, " cannot be resolved before deployment, so kmspolicy assumes it may be anyone: ",
		_consequences(key, sid), ". Pass its value with --parameter to analyze it.",
	])
	related := [result.related(result.actions_path(key.statements[i]), concat("", [_effect(key.statements[i]), " ", result.patterns_short(key.statements[i]), " to it"])) |
		some i in statements
	]
}

_names(st, sid) if {
	some p in st.principals
	p.id == sid
}

_consequences(key, sid) := concat("", ["then anyone could ", result.capabilities_text(key.id, acc.granted), _escalation(acc)]) if {
	acc := input.keys[key.id].access[sid]
	acc.granted != 0
} else := "only Deny statements name it, so kmspolicy cannot tell whom they stop"

_escalation(acc) := concat("", [", and give themselves ", result.mask_text(gained), " through ", concat(" or ", sort({e.action | some e in acc.escalations}))]) if {
	gained := bits.and(actionmask.minus(acc.reachable, acc.granted), catalog.use_mask)
	gained != 0
	count(acc.escalations) > 0
} else := ""

_effect(st) := "allows" if st.effect == "Allow"

_effect(st) := "denies" if st.effect == "Deny"
