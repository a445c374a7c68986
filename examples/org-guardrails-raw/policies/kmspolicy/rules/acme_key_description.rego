# METADATA
# title: A KMS key without a Description
# description: |
#   ACME's inventory names the owner and the data of every key from its Description. A
#   key without one (or with an empty one) breaks that rule. A Description known only at
#   deployment (a parameter without a value) is taken as given.
# custom:
#   id: ORG101
#   severity: low
#   remediation: |
#     Add a Description saying what the key protects and who owns it.
package kmspolicy.rules.acme_key_description

import data.kmspolicy.lib.result

findings contains result.finding("ORG101", key, key.path, message, []) if {
	some key in input.keys
	raw := object.get(key, "raw", {})
	object.get(raw, "description", null) == null
	message := concat("", [key.id, " has no Description; ACME requires one on every KMS key."])
}

findings contains result.finding("ORG101", key, path, message, []) if {
	some key in input.keys
	raw := object.get(key, "raw", {})
	trim_space(object.get(raw, "description", "-")) == ""
	path := concat("", [key.path, "/Properties/Description"])
	message := concat("", [key.id, " has an empty Description; ACME requires one on every KMS key."])
}
