# METADATA
# title: A service principal can use the key for anyone
# description: |
#   A key-policy statement lets an AWS service principal use the key (or manage it, or
#   change who may: PutKeyPolicy, CreateGrant, ScheduleKeyDeletion) on behalf of
#   resources in any account (confused deputy); reading the key's metadata is left out. Read from the service subject's evaluated
#   access: reported where the statement gives it use for every request it makes, and
#   where its condition holds only for some requests but may hold when the service acts
#   for a resource of an account the template never names (the subject's `for_strangers`
#   access): a wildcard aws:SourceArn such as `arn:aws:logs:*:*:*`, an encryption context
#   `aws:logs:arn` with any account, or a condition on something else (kms:ViaService, a
#   custom context key) limits neither the source account nor the resource. A Deny that
#   keeps the use from the service leaves nothing to report. `Principal: "*"` takes in
#   service principals too: a `*` statement whose condition only a service's requests
#   pass (`ArnLike aws:SourceArn arn:aws:logs:*:*:*`) is reported here, from the `*`
#   subject's `for_strangers` access; one that anyone passes is KP005's.
# custom:
#   id: KP018
#   severity: medium
#   remediation: |
#     Add `Condition: {StringEquals: {aws:SourceAccount: !Ref AWS::AccountId}}` (or
#     aws:SourceArn / kms:EncryptionContext scoped to your resources).
#   example: |
#     Principal: {Service: logs.amazonaws.com}
#     Action: [kms:Encrypt, kms:Decrypt, kms:GenerateDataKey*]
package kmspolicy.rules.service_principal_unscoped

import data.kmspolicy.lib.access
import data.kmspolicy.lib.actionmask
import data.kmspolicy.lib.catalog
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.result

# One finding per statement and wording: the services it names alike (GuardDuty's regional
# principals, say) are listed in one message.
findings contains result.finding("KP018", key, services[0].path, message, related) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	some i
	st := key.statements[i]
	st.effect == "Allow"
	st.principal_mode == "Principal"
	reported := _unscoped_services(key, st, i)
	some group in {[entry.usable, entry.why] | some entry in reported}
	services := [entry.principal | some entry in reported; [entry.usable, entry.why] == group]
	message := concat("", [
		_services_text(services), " can call ", result.mask_text(group[0]), " on ", key.id,
		" for any caller: ", group[1], ".",
	])
	related := [result.related(other.path, concat("", ["also ", other.name])) |
		some n
		other := services[n]
		n > 0
	]
}

# The services statement `st` (number `i`) lets use the key for a stranger's resources,
# each with what it may use and why its condition does not scope it.
_unscoped_services(key, st, i) := [{"principal": p, "usable": usable, "why": why} |
	some p in st.principals
	p.kind == "service"
	acc := input.keys[key.id].access[p.id]
	i in acc.direct
	i in acc.for_strangers.direct
	usable := bits.and(bits.and(bits.and(acc.granted, acc.for_strangers.granted), actionmask.of(st)), _acting_mask)
	usable != 0
	why := _unscoped(st, access.conditional_for(acc, i))
]

# What a service may do for a stranger that matters: use the key, manage it or change who
# may (reading its metadata aside).
_acting_mask := bits.or(catalog.use_mask, bits.or(catalog.manage_mask, catalog.permissions_mask))

_services_text(services) := concat("", ["Service ", services[0].name]) if count(services) == 1

_services_text(services) := concat("", ["Services ", services[0].name, " and ", services[1].name]) if count(services) == 2

_services_text(services) := concat("", [
	"Services ", services[0].name, ", ", services[1].name, " and ", format_int(count(services) - 2, 10), " more",
]) if count(services) > 2

# "*" takes in AWS service principals as well: a statement no IAM principal of another
# account passes may still let a service act for anyone's resources (a statement anyone
# passes is KP005's).
findings contains result.finding("KP018", key, p.path, message, []) if {
	some key_id in ids.keys
	key := input.keys[key_id]
	acc := input.keys[key.id].access["*"]
	some i in acc.for_strangers.direct
	st := key.statements[i]
	st.effect == "Allow"
	st.principal_mode == "Principal"
	some p in st.principals
	p.kind == "any"
	mask := actionmask.of(st)
	count([1 | i in acc.direct; bits.and(acc.granted, mask) != 0]) == 0
	usable := bits.and(bits.and(acc.for_strangers.granted, mask), _acting_mask)
	usable != 0
	message := concat("", [
		"Principal \"", p.raw, "\" lets AWS services call ", result.mask_text(usable),
		" on ", key.id, " for resources of any account: its condition admits a service's requests and does not ",
		"limit the source account or resource to your own (aws:SourceAccount, an aws:SourceArn or an aws: ",
		"encryption-context value naming your account or resource).",
	])
}

# The service is admitted for every request it makes.
_unscoped(st, false) := "no aws:SourceAccount, aws:SourceArn, kms:ViaService or kms:EncryptionContext condition scopes it" if {
	not st.condition.present
}

_unscoped(st, false) := "its condition holds for every request the service makes, so it scopes nothing" if {
	st.condition.present
}

# The service is admitted for some requests, and its condition may hold where it acts for
# another account's resources.
_unscoped(_, true) := "its condition does not limit the source account or resource to your own (aws:SourceAccount, an aws:SourceArn or an aws: encryption-context value naming your account or resource), so it may hold when the service acts for another account's resources"

