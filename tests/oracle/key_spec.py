"""The KMS rule iam-simulate does not model: a key performs only its key type's operations.

AWS KMS Developer Guide, "Key spec reference" and "Key usage": a symmetric encryption key
(SYMMETRIC_DEFAULT) encrypts, decrypts, generates data keys and data key pairs and
re-encrypts; an RSA or SM2 key with KeyUsage ENCRYPT_DECRYPT encrypts, decrypts and
re-encrypts; SIGN_VERIFY keys sign and verify; HMAC keys (GENERATE_VERIFY_MAC) generate and
verify MACs; KEY_AGREEMENT keys derive shared secrets; GetPublicKey works only on
asymmetric keys. Any other cryptographic operation on the key fails
(UnsupportedOperationException, InvalidKeyUsageException), whatever the policies allow.
`decide(action, spec, usage, decision)`: such a request does not succeed.
"""

from __future__ import annotations

CRYPTOGRAPHIC = frozenset(f"kms:{op}" for op in (
    "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo", "Sign", "Verify", "GenerateMac",
    "VerifyMac", "DeriveSharedSecret"))
_ENCRYPTION = frozenset({"kms:Decrypt", "kms:Encrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo"})
_BY_USAGE = {
    "ENCRYPT_DECRYPT": _ENCRYPTION,
    "SIGN_VERIFY": frozenset({"kms:Sign", "kms:Verify"}),
    "GENERATE_VERIFY_MAC": frozenset({"kms:GenerateMac", "kms:VerifyMac"}),
    "KEY_AGREEMENT": frozenset({"kms:DeriveSharedSecret"}),
}
_SYMMETRIC = _ENCRYPTION | {"kms:GenerateDataKey", "kms:GenerateDataKeyPair",
                            "kms:GenerateDataKeyPairWithoutPlaintext", "kms:GenerateDataKeyWithoutPlaintext"}


def supported(spec: str, usage: str) -> frozenset[str]:
    if spec == "SYMMETRIC_DEFAULT":
        return _SYMMETRIC
    if spec.startswith("HMAC_"):
        return _BY_USAGE["GENERATE_VERIFY_MAC"]
    return _BY_USAGE.get(usage, frozenset())


def decide(action: str, spec: str, usage: str, decision: str) -> str:
    if decision != "Allowed":
        return decision
    if action in CRYPTOGRAPHIC and action not in supported(spec, usage):
        return "ImplicitlyDenied"
    if action == "kms:GetPublicKey" and (spec == "SYMMETRIC_DEFAULT" or spec.startswith("HMAC_")):
        return "ImplicitlyDenied"
    return decision
