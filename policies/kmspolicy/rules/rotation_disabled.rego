# METADATA
# title: Automatic key rotation is not enabled
# description: |
#   A symmetric encryption key (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT) with
#   AWS-generated material in AWS KMS does not set EnableKeyRotation: true. Asymmetric,
#   HMAC, imported-material (Origin EXTERNAL) and custom-key-store keys cannot rotate
#   automatically and are never reported. The organization config can turn this off
#   (`require_rotation: false`).
# custom:
#   id: KP011
#   severity: medium
#   remediation: |
#     Set `EnableKeyRotation: true` (optionally `RotationPeriodInDays`).
#   example: |
#     Type: AWS::KMS::Key
#     Properties:
#       EnableKeyRotation: false
package kmspolicy.rules.rotation_disabled

import data.kmspolicy.lib.config
import data.kmspolicy.lib.ids
import data.kmspolicy.lib.result

findings contains result.finding("KP011", key, _where(key), message, []) if {
	config.rotation_required
	some key_id in ids.keys
	key := input.keys[key_id]
	key.type == "AWS::KMS::Key"
	key.key_spec == "SYMMETRIC_DEFAULT"
	key.key_usage == "ENCRYPT_DECRYPT"
	key.origin == "AWS_KMS"
	not key.custom_key_store
	_not_rotating(key)
	message := concat("", [key.id, _state(key), ": its key material never changes, although this symmetric key with AWS-generated material supports automatic rotation."])
}

_not_rotating(key) if key.rotation == false

_not_rotating(key) if {
	key.rotation == null
	key.rotation_path == null
}

_not_rotating(key) if {
	key.rotation == null
	key.rotation_possibly_off == true
}

_state(key) := " sets EnableKeyRotation to false" if {
	key.rotation == false
} else := " may set EnableKeyRotation to false (its value is not fixed by the template: a parameter, a merged condition or an unsure reading)" if {
	key.rotation_possibly_off == true
} else := " does not enable automatic rotation"

_where(key) := key.rotation_path if key.rotation_path != null

_where(key) := key.path if key.rotation_path == null
