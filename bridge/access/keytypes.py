"""Which cryptographic operations a key can perform, by KeySpec and KeyUsage.

AWS KMS Developer Guide, "Key spec reference" and "Key usage": symmetric encryption keys
encrypt, decrypt, generate data keys (and data key pairs) and re-encrypt; RSA and SM2
ENCRYPT_DECRYPT keys encrypt, decrypt and re-encrypt; SIGN_VERIFY keys sign and verify;
HMAC keys generate and verify MACs; KEY_AGREEMENT keys derive shared secrets; only
asymmetric keys have a public key (GetPublicKey). Every other (management, permission,
read) action applies to every key.
"""

from __future__ import annotations

from functools import lru_cache

from .. import catalog

SYMMETRIC = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyPair",
             "kms:GenerateDataKeyPairWithoutPlaintext", "kms:GenerateDataKeyWithoutPlaintext",
             "kms:ReEncryptFrom", "kms:ReEncryptTo")
ASYMMETRIC_ENCRYPTION = ("kms:Decrypt", "kms:Encrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo")
SIGNING = ("kms:Sign", "kms:Verify")
MAC = ("kms:GenerateMac", "kms:VerifyMac")
AGREEMENT = ("kms:DeriveSharedSecret",)


def use_actions(key_spec: str | None, key_usage: str | None) -> tuple[str, ...] | None:
    """The use actions a key of this spec and usage supports; None when not determined."""
    if key_spec is None:
        return None
    if key_spec == "SYMMETRIC_DEFAULT":
        return SYMMETRIC
    if key_spec.startswith("HMAC_"):
        return MAC
    if key_usage is None:
        return None
    return {"ENCRYPT_DECRYPT": ASYMMETRIC_ENCRYPTION, "SIGN_VERIFY": SIGNING,
            "KEY_AGREEMENT": AGREEMENT, "GENERATE_VERIFY_MAC": MAC}.get(key_usage)


def supported_mask(key: dict) -> int:
    """The key actions that can succeed on this key (every key action when not determined)."""
    return _supported(key.get("key_spec"), key.get("key_usage"))


@lru_cache(maxsize=256)
def _supported(spec: str | None, usage: str | None) -> int:
    every = catalog.action_mask(catalog.key_action_bits())
    actions = use_actions(spec, usage)
    if actions is None:
        return every
    mask = (every & ~catalog.class_mask("use")) | catalog.action_mask(actions)
    if spec == "SYMMETRIC_DEFAULT" or spec.startswith("HMAC_"):
        mask &= ~catalog.action_mask(["kms:GetPublicKey"])
    return mask
