"""Which operations a principal of another account can call on a key.

AWS KMS Developer Guide, "Allowing users in other accounts to use a KMS key":
"Cross-account permission is effective only for the following operations" — the
cryptographic operations, CreateGrant, DescribeKey, GetKeyRotationStatus, GetPublicKey,
ListGrants, RetireGrant and RevokeGrant — "If you give a user in a different account
permission for other operations, those permissions have no effect." An account given by a
parameter counts as another account, as the rules treat it (KP012).
"""

from __future__ import annotations

import re

from .. import catalog

OPERATIONS = tuple(f"kms:{op}" for op in (
    "CreateGrant", "Decrypt", "DeriveSharedSecret", "DescribeKey", "Encrypt", "GenerateDataKey",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext",
    "GenerateMac", "GetKeyRotationStatus", "GetPublicKey", "ListGrants", "ReEncryptFrom",
    "ReEncryptTo", "RetireGrant", "RevokeGrant", "Sign", "Verify", "VerifyMac"))
ACCOUNT_ID = re.compile(r"\d{12}")


def is_external(subject: dict, own_accounts: frozenset[str]) -> bool:
    account = subject.get("account") or ""
    if account == "*" or account.startswith("param:"):
        return True
    return bool(ACCOUNT_ID.fullmatch(account)) and account not in own_accounts


def effective_mask() -> int:
    return catalog.action_mask(OPERATIONS)
