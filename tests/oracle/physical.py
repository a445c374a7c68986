"""Ref and GetAtt of the resources the referee models, with CloudFormation's names.

Names come from the resource's name property or, when none is given, the name
CloudFormation generates (stack.generated_name). An attribute of any other resource type
is NotConcrete: the referee does not guess an ARN format.
"""

from __future__ import annotations

from typing import Any

from .resolve import NotConcrete, Resolver


def _name(r: Resolver, logical: str, prop: str | None, limit: int = 64) -> str:
    props = r.properties(logical)
    if prop and prop in props:
        return r.text(props[prop]).strip()
    return r.stack.generated_name(logical, limit)


def _path(r: Resolver, logical: str) -> str:
    return r.text(r.properties(logical).get("Path", "/"))


def _iam(kind: str, prop: str, limit: int = 64):
    def attribute(r: Resolver, logical: str, attribute: str) -> Any:
        name = _name(r, logical, prop, limit)
        if attribute == "Ref":
            return name
        if attribute == "Arn":
            return r.stack.arn("iam", f"{kind}{_path(r, logical)}{name}", region=False)
        if attribute == "RoleId" or attribute == "UserId" or attribute == "GroupId":
            return "AROA" + r.stack.suffix(logical)
        raise NotConcrete(f"GetAtt {logical}.{attribute}")
    return attribute


def _managed_policy(r: Resolver, logical: str, attribute: str) -> Any:
    if attribute in ("Ref", "PolicyArn"):
        name = _name(r, logical, "ManagedPolicyName", 128)
        return r.stack.arn("iam", f"policy{_path(r, logical)}{name}", region=False)
    raise NotConcrete(f"GetAtt {logical}.{attribute}")


def _key(r: Resolver, logical: str, attribute: str) -> Any:
    kid = r.stack.key_id(logical)
    if attribute in ("Ref", "KeyId"):
        return kid
    if attribute == "Arn":
        return r.stack.arn("kms", f"key/{kid}")
    raise NotConcrete(f"GetAtt {logical}.{attribute}")


def _alias(r: Resolver, logical: str, attribute: str) -> Any:
    if attribute == "Ref":
        return r.text(r.properties(logical).get("AliasName"))
    raise NotConcrete(f"GetAtt {logical}.{attribute}")


def _function(r: Resolver, logical: str, attribute: str) -> Any:
    name = _name(r, logical, "FunctionName")
    if attribute == "Ref":
        return name
    if attribute == "Arn":
        return r.stack.arn("lambda", f"function:{name}")
    raise NotConcrete(f"GetAtt {logical}.{attribute}")


def _bucket(r: Resolver, logical: str, attribute: str) -> Any:
    name = _name(r, logical, "BucketName", 63).lower()
    if attribute == "Ref":
        return name
    if attribute == "Arn":
        return f"arn:{r.stack.partition}:s3:::{name}"
    raise NotConcrete(f"GetAtt {logical}.{attribute}")


def _topic(r: Resolver, logical: str, attribute: str) -> Any:
    name = _name(r, logical, "TopicName", 256)
    if attribute in ("Ref", "TopicArn"):
        return r.stack.arn("sns", name)
    if attribute == "TopicName":
        return name
    raise NotConcrete(f"GetAtt {logical}.{attribute}")


def _queue(r: Resolver, logical: str, attribute: str) -> Any:
    name = _name(r, logical, "QueueName", 80)
    if attribute == "Arn":
        return r.stack.arn("sqs", name)
    if attribute == "QueueName":
        return name
    if attribute == "Ref":
        return f"https://sqs.{r.stack.region}.amazonaws.com/{r.stack.account}/{name}"
    raise NotConcrete(f"GetAtt {logical}.{attribute}")


def _log_group(r: Resolver, logical: str, attribute: str) -> Any:
    name = _name(r, logical, "LogGroupName", 512)
    if attribute == "Ref":
        return name
    if attribute == "Arn":
        return r.stack.arn("logs", f"log-group:{name}:*")
    raise NotConcrete(f"GetAtt {logical}.{attribute}")


_TYPES = {
    "AWS::IAM::Role": _iam("role", "RoleName"),
    "AWS::IAM::User": _iam("user", "UserName"),
    "AWS::IAM::Group": _iam("group", "GroupName", 128),
    "AWS::IAM::ManagedPolicy": _managed_policy,
    "AWS::KMS::Key": _key,
    "AWS::KMS::ReplicaKey": _key,
    "AWS::KMS::Alias": _alias,
    "AWS::Lambda::Function": _function,
    "AWS::Serverless::Function": _function,
    "AWS::S3::Bucket": _bucket,
    "AWS::SNS::Topic": _topic,
    "AWS::SQS::Queue": _queue,
    "AWS::Logs::LogGroup": _log_group,
}


def attribute_of(r: Resolver, logical: str, attribute: str) -> Any:
    rtype = r.resources[logical].get("Type")
    handler = _TYPES.get(rtype)
    if handler is None:
        if attribute == "Ref":
            return r.stack.generated_name(logical)
        raise NotConcrete(f"GetAtt {logical}.{attribute} of a {rtype}")
    return handler(r, logical, attribute)
