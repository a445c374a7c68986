"""The KMS rule iam-simulate 0.1.173 does not apply: which operations work across accounts.

AWS KMS Developer Guide, "Allowing users in other accounts to use a KMS key": "Cross-account
permission is effective only for the following operations: ... If you give a user in a
different account permission for other operations, those permissions have no effect. For
example, if you give a principal in a different account kms:ListKeys permission in an IAM
policy, or kms:ScheduleKeyDeletion permission on a KMS key in a key policy, the user's
attempts to call those operations on your resources still fail."

iam-simulate allows e.g. kms:DisableKey or kms:PutKeyPolicy from another account when both
policies allow it (upstream report text in FINDINGS.md). `decide(simulation, decision)`
returns the decision AWS makes: a cross-account request for another operation is
ImplicitlyDenied.
"""

from __future__ import annotations

OPERATIONS = frozenset(f"kms:{op}" for op in (
    "CreateGrant", "Decrypt", "DeriveSharedSecret", "DescribeKey", "Encrypt", "GenerateDataKey",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext",
    "GenerateMac", "GetKeyRotationStatus", "GetPublicKey", "ListGrants", "ReEncryptFrom",
    "ReEncryptTo", "RetireGrant", "RevokeGrant", "Sign", "Verify", "VerifyMac"))


def is_cross_account(simulation: dict) -> bool:
    request = simulation["request"]
    caller = request["contextVariables"].get("aws:PrincipalAccount")
    return caller is not None and caller != request["resource"]["accountId"]


def decide(simulation: dict, decision: str) -> str:
    if decision == "Allowed" and is_cross_account(simulation) \
            and simulation["request"]["action"] not in OPERATIONS:
        return "ImplicitlyDenied"
    return decision
