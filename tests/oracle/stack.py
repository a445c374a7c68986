"""The concrete deployment the referee imagines: one account, region, stack and its names.

Every value a template leaves to CloudFormation (generated physical names, key IDs) is made
up here, deterministically, the way CloudFormation forms it (`<stack>-<LogicalId>-<SUFFIX>`
for IAM names, a UUID for a key ID).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

ACCOUNT = "111122223333"
REGION = "us-east-1"
PARTITION = "aws"
STACK = "oracle-stack"
OTHER_ACCOUNT = "909090909090"  # "anyone": a principal of an account the template does not know


@dataclass(frozen=True)
class Stack:
    account: str = ACCOUNT
    region: str = REGION
    partition: str = PARTITION
    name: str = STACK
    parameters: dict = field(default_factory=dict)

    @property
    def stack_id(self) -> str:
        return (f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:stack/"
                f"{self.name}/{uuid.uuid5(uuid.NAMESPACE_URL, self.name)}")

    def pseudo(self, name: str):
        return {
            "AWS::AccountId": self.account, "AWS::Region": self.region,
            "AWS::Partition": self.partition, "AWS::StackName": self.name,
            "AWS::StackId": self.stack_id, "AWS::URLSuffix": "amazonaws.com",
        }.get(name)

    def suffix(self, logical: str) -> str:
        digest = hashlib.sha256(f"{self.name}/{logical}".encode()).hexdigest().upper()
        return "".join(c for c in digest if c.isalnum())[:12]

    def generated_name(self, logical: str, limit: int = 64) -> str:
        """CloudFormation's name for a resource given none: stack-Logical-SUFFIX, truncated."""
        suffix = self.suffix(logical)
        head = f"{self.name}-{logical}"[: limit - len(suffix) - 1]
        return f"{head}-{suffix}"

    def key_id(self, logical: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.name}/{logical}"))

    def arn(self, service: str, resource: str, region: bool = True, account: str | None = None) -> str:
        return (f"arn:{self.partition}:{service}:{self.region if region else ''}:"
                f"{self.account if account is None else account}:{resource}")
