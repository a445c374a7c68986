"""Identity policies cut down to what can apply to a KMS request, without changing a decision.

An `Action` pattern whose service part cannot match `kms` (`s3:Get*`) never matches a KMS
action, so it is dropped, and a statement left with no pattern is dropped; `NotAction`
statements stay whole. This keeps AWS-managed documents such as ReadOnlyAccess (thousands
of actions) from slowing every simulation.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any


def _could_be_kms(pattern: Any) -> bool:
    if not isinstance(pattern, str):
        return True  # not ours to judge: iam-simulate validates it
    service = pattern.split(":", 1)[0].lower() if ":" in pattern else pattern.lower()
    return fnmatchcase("kms", service.replace("?", "[a-z]")) or service == "*"


def for_kms(policy: Any) -> Any:
    if not isinstance(policy, dict) or "Statement" not in policy:
        return policy
    sts = policy["Statement"]
    single = not isinstance(sts, list)
    kept = []
    for st in [sts] if single else sts:
        if not isinstance(st, dict) or "Action" not in st:
            kept.append(st)
            continue
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        mine = [a for a in actions if _could_be_kms(a)]
        if mine:
            kept.append({**st, "Action": mine if len(mine) > 1 else mine[0]})
    if not kept:
        kept = [{"Effect": "Deny", "Action": "oracle:None", "Resource": "*"}]
    return {**policy, "Statement": kept}
