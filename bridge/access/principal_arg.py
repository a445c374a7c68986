"""The subjects of a key as `access` lists them, and the one `--principal` designates."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..intrinsics import IntrinsicError
from ..principals import PrincipalError, from_aws_value
from . import crossaccount
from .errors import AccessError
from .located import Subject
from .model import add_subject

ACCOUNT_ID = re.compile(r"^\d{12}$")
_KIND_ORDER = {"identity": 0, "account": 1, "organization": 2, "any": 3}


def subject_sort_key(subject: dict) -> tuple:
    """Template identities first (by label), then accounts, organizations, everyone, other principals."""
    return (_KIND_ORDER.get(subject["kind"], 4), subject["account"] != "self", subject["label"],
            subject["id"])


def subject_order(subjects: dict) -> list[str]:
    return sorted(subjects, key=lambda sid: subject_sort_key({**subjects[sid], "id": sid}))


def subject_of(key: dict, sid: str, input_doc: dict) -> Subject:
    raw = key["subjects"][sid]
    owner = None
    if raw.get("identity"):
        owner = input_doc["identities"].get(raw["identity"], {}).get("owner")
    external = raw["kind"] != "service" and crossaccount.is_external(raw, frozenset(
        str(a) for a in input_doc.get("accounts") or []))
    return Subject(sid, raw["kind"], raw["label"], raw["account"], raw.get("identity"), owner, external)


# Resolves a principal text as the template's own key policy would be: (text) -> principal
PrincipalParser = Callable[[str], dict]


def resolve_principal(text: str, key: dict, input_doc: dict, parse: PrincipalParser,
                      config: dict | None = None) -> str:
    """The subject id `--principal text` designates, adding one to the key if needed.

    Accepted: `account`, `*`, a subject id or label, a logical ID (a role, user or
    function: a function means its execution role), or a principal ARN / account ID
    (resolved like the normalizer resolves a key policy's principals, so
    `arn:aws:iam::${AWS::AccountId}:user/${KeyUser}` and `!GetAtt`-linked roles match).
    """
    subjects = key["subjects"]
    identities = input_doc["identities"]
    if text == "account":
        return "account:self"
    if text in subjects:
        return text
    for sid, subject in subjects.items():
        if subject["label"] == text and (subject["kind"] != "identity" or subject["identity"] == text
                                         or identities[subject["identity"]]["owner"] == text):
            return sid
    if f"identity:{text}" in subjects:
        return f"identity:{text}"
    owned = [iid for iid, identity in identities.items() if identity.get("owner") == text]
    if owned and f"identity:{owned[0]}" in subjects:
        return f"identity:{owned[0]}"
    if text == "*" or text.startswith("arn:") or ACCOUNT_ID.match(text):
        principal = parse(text)
        if principal["id"] not in subjects:
            add_subject(input_doc, key["id"], {
                "id": principal["id"], "kind": principal["kind"], "account": principal["account"],
                "label": principal["raw"] if principal["kind"] != "account"
                else f"any IAM principal of account {principal['account']}",
                "identity": principal["identity"],
            }, config)
        return principal["id"]
    names = sorted({subject_of(key, sid, input_doc).name for sid in subjects} | {"*"})
    raise AccessError(f"unknown principal '{text}' for key {key['id']} (valid: {', '.join(names)}, "
                      "or a principal ARN)")


def principal_parser(normalizer) -> PrincipalParser:
    """Parses with a normalizer's resolver (parameters, !Sub) and identity links."""
    def parse(text: str) -> dict:
        value: Any = {"Fn::Sub": text} if "${" in text else text
        try:
            alternatives = normalizer.resolver.strings(value)
            return from_aws_value(alternatives[0], "", normalizer.link)
        except (IntrinsicError, PrincipalError, IndexError) as exc:
            raise AccessError(f"--principal {text}: {exc}") from None
    return parse
