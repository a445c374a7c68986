"""Condition classes the rules still read: a value that admits any account scopes nothing."""

from __future__ import annotations

import pytest

from kmspolicy.bridge.conditions import classify


@pytest.mark.parametrize("condition, scoped", [
    ({"ArnLike": {"aws:SourceArn": "arn:aws:logs:*:*:*"}}, False),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:logs:us-east-1:111122223333:log-group:*"}}, True),
    ({"StringLike": {"aws:SourceAccount": "*"}}, False),
    ({"StringLike": {"aws:SourceAccount": "1111*"}}, False),
    ({"StringEquals": {"aws:SourceAccount": "111122223333"}}, True),
    ({"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::my-bucket"}}, True),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1::topic"}}, False),
])
def test_service_scope(condition, scoped):
    assert classify(condition)["service_scoped"] is scoped


def test_a_wildcard_account_in_a_principal_arn_restricts_no_caller():
    assert classify({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Ops"}})["caller_restricted"] is False
    assert classify({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}})["caller_restricted"] is True
