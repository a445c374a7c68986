# METADATA
# title: Organization guardrails with their defaults
# description: |
#   data.kmspolicy.config as the bridge loads it from --config or a bundle's data.json
#   (schema bridge/schema/config-v1.json); every setting has a default here.
package kmspolicy.lib.config

default admin_patterns := []

admin_patterns := data.kmspolicy.config.admins

default deployer_patterns := []

deployer_patterns := data.kmspolicy.config.deployers

default delegation_allowed := false

delegation_allowed := data.kmspolicy.config.allow_account_delegation

default rotation_required := true

rotation_required := data.kmspolicy.config.require_rotation

# The subject matches one of the principal patterns (ARN globs, logical IDs).
matches(subject, patterns) if {
	some pattern in patterns
	some name in [subject.label, subject.id, object.get(subject, "identity", "")]
	is_string(name)
	glob.match(pattern, [], name)
}
