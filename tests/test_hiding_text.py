"""A template whose text cannot hold a key that hides part of it (Fn::Transform, its
!Transform tag, Fn::ForEach) is not walked for one (LoadedTemplate.may_hide); every way
of writing such a key keeps the walk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmspolicy.bridge.load import load_template, load_text
from kmspolicy.bridge.pipeline import Analyzer, PolicySet
from kmspolicy.bridge.template_checks import HidingScans, hidden_problems

from .conftest import CORPUS, EXAMPLES, ROOT

KEY = "  Key: {Type: AWS::KMS::Key}\n"
BUCKET = "Resources:\n" + KEY + "  B:\n    Type: AWS::S3::Bucket\n    Properties:\n"
TRANSFORM = "Fn::Transform"


@pytest.mark.parametrize("text", [
    BUCKET + "      Fn::Transform: {Name: M}\n",
    BUCKET + "      X: !Transform {Name: M}\n",
    BUCKET + "      X: !<!Transform> {Name: M}\n",
    BUCKET + "      X: !Tr%61nsform {Name: M}\n",
    BUCKET + '      "Fn::\\x54ransform": {Name: M}\n',
    BUCKET + '      "Fn::\\u0054ransform": {Name: M}\n',
    BUCKET + '      "Fn::\\U00000054ransform": {Name: M}\n',
    BUCKET + '      ? "Fn::Trans\\\n        form"\n      : {Name: M}\n',
    "Transform: AWS::LanguageExtensions\nParameters: {L: {Type: CommaDelimitedList}}\nResources:\n" + KEY
    + "  Fn::ForEach::Q: [N, !Ref L, {'Q${N}': {Type: AWS::SQS::Queue}}]\n",
])
def test_every_way_of_writing_a_hiding_key_is_walked_and_reported(tmp_path, text):
    template = load_text(text, "t.yaml")
    assert template.may_hide
    problems = hidden_problems(template.document, HidingScans(nothing_hides=not template.may_hide))
    assert problems and problems == hidden_problems(template.document)
    path = tmp_path / "t.yaml"
    path.write_text(text)
    report = Analyzer(PolicySet.builtin()).analyze(str(path))
    assert any("not analysed" in e.message for e in report.errors)


def test_json_escapes_keep_the_walk():
    text = json.dumps({"Resources": {"Key": {"Type": "AWS::KMS::Key"}, "B": {
        "Type": "AWS::S3::Bucket", "Properties": {TRANSFORM: {"Name": "M"}}}}}).replace("Transform", "\\u0054ransform")
    template = load_text(text, "t.json")
    assert TRANSFORM in template.document["Resources"]["B"]["Properties"] and template.may_hide


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(st.lists(st.sampled_from(["plain", "x", "u", "U"]), min_size=len(TRANSFORM), max_size=len(TRANSFORM)),
       st.booleans())
def test_a_key_spelled_with_any_escapes_keeps_the_walk(forms, as_json):
    def spelled(ch: str, form: str) -> str:
        if form == "plain" or (as_json and form != "u"):
            return ch
        return {"x": f"\\x{ord(ch):02x}", "u": f"\\u{ord(ch):04x}", "U": f"\\U{ord(ch):08x}"}[form]
    key = "".join(spelled(ch, form) for ch, form in zip(TRANSFORM, forms, strict=True))
    if as_json:
        text = f'{{"Resources": {{"B": {{"Type": "AWS::S3::Bucket", "Properties": {{"{key}": {{}}}}}}}}}}'
    else:
        text = f'Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      "{key}": {{}}\n'
    template = load_text(text, "t.json" if as_json else "t.yaml")
    assert TRANSFORM in template.document["Resources"]["B"]["Properties"]
    assert template.may_hide


def test_a_template_whose_text_holds_none_has_nothing_the_walk_would_find():
    paths = [p for folder in (EXAMPLES, ROOT / "tests" / "data", CORPUS) for p in sorted(folder.rglob("*"))
             if p.suffix in (".yaml", ".yml", ".json", ".template")]
    unwalked = 0
    for path in paths:
        try:
            template = load_template(str(path))
        except Exception:  # the bad fixtures
            continue
        if not isinstance(template.document, dict):
            continue
        shortcut = hidden_problems(template.document, HidingScans(nothing_hides=not template.may_hide))
        assert shortcut == hidden_problems(template.document), path
        unwalked += not template.may_hide
    assert unwalked > len(paths) // 2


def test_a_template_without_hiding_text_is_not_walked(monkeypatch):
    from kmspolicy.bridge import template_checks

    walked = []
    monkeypatch.setattr(template_checks, "may_hide_any", lambda node: walked.append(1) or False)
    template = load_text(Path(EXAMPLES / "seed" / "template.yaml").read_text(), "t.yaml")
    assert not template.may_hide
    hidden_problems(template.document, HidingScans(nothing_hides=True))
    assert walked == []
