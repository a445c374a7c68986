# METADATA
# title: A key administrator that is not a platform role
# description: |
#   At ACME only IAM roles under the path /platform/ administer KMS keys. A principal that
#   can manage a key (declared in the key's Metadata or inferred from the key policy) and
#   is an IAM user, or a role with another path, breaks that rule. Template identities are
#   judged on their raw Path, roles named by ARN on the path in the ARN; a Path known only
#   at deployment is taken as given.
# custom:
#   id: ORG102
#   severity: medium
#   remediation: |
#     Administer the key from a role under /platform/, or move the role there (Path).
package kmspolicy.rules.acme_platform_admins

import data.kmspolicy.lib.intent
import data.kmspolicy.lib.result

_prefix := "/platform/"

findings contains result.finding("ORG102", key, _where(key, sid), message, []) if {
	some kid, key in input.keys
	some sid in intent.admin_ids[kid]
	subject := key.subjects[sid]
	reason := _not_platform_role(subject)
	message := concat("", [subject.label, " administers ", key.id, " but ", reason, "; ACME allows only roles under ", _prefix, "."])
}

# A template identity: its raw type and Path.
_not_platform_role(subject) := "is an IAM user" if {
	subject.kind == "identity"
	input.identities[subject.identity].raw.type == "AWS::IAM::User"
}

_not_platform_role(subject) := concat("", ["has the path ", path]) if {
	subject.kind == "identity"
	raw := input.identities[subject.identity].raw
	raw.type == "AWS::IAM::Role"
	is_string(raw.path)
	path := raw.path
	not startswith(path, _prefix)
}

# A principal named by ARN: the path inside it.
_not_platform_role(subject) := "is an IAM user" if subject.kind == "user"

_not_platform_role(subject) := "its ARN has another path" if {
	subject.kind == "role"
	parts := split(subject.label, ":role/")
	count(parts) == 2
	not contains(parts[1], "${") # a path known only at deployment
	not startswith(concat("", ["/", parts[1]]), _prefix)
}

# Where the key policy names the administrator (the first place), else the intent block.
_where(key, sid) := _first(sort([p.path | some st in key.statements; some p in st.principals; p.id == sid]), key)

_first(paths, _) := paths[0] if count(paths) > 0

_first(paths, key) := key.intent.path if {
	count(paths) == 0
	key.intent.path != null
}

_first(paths, key) := key.path if {
	count(paths) == 0
	key.intent.path == null
}
