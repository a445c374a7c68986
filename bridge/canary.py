"""A template every working rule set reports on: a key anyone can use and manage.

An engine that answers it with no finding (an OPA server serving rules that never fire,
data standing in for them, an entrypoint that was replaced) is not trusted with real
templates: its empty answers would read as "clean".
"""

from __future__ import annotations

from .normalize import normalize

CANARY = {"Resources": {"CanaryKey": {"Type": "AWS::KMS::Key", "Properties": {
    "KeyPolicy": {"Version": "2012-10-17", "Statement": [
        {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}}}}}


def canary_input(config: dict | None = None) -> dict:
    """The rules' input for the canary template under `config`."""
    return normalize(CANARY, "kmspolicy-canary.json", {}, config or {}).input
