"""Tests for kmspolicy.bridge.load: documents, source maps, errors and limits."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmspolicy.bridge.load import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_NODES,
    LoadedTemplate,
    SourceMap,
    Span,
    TemplateError,
    load_template,
    load_text,
    parse_json_string,
)
from kmspolicy.bridge.load import yaml_events as load_module  # the YAML reader's switches
from kmspolicy.bridge.sourcemap import join_pointer, split_pointer

DATA = Path(__file__).parent / "data" / "load"
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"  # as conftest.CORPUS
STATEMENTS = "/Resources/KmsKey/Properties/KeyPolicy/Statement"

PARSERS = ["libyaml", "python"] if load_module._CParser is not None else ["python"]


@pytest.fixture(params=PARSERS)
def yaml_parser(request, monkeypatch):
    """Run a YAML test with the libyaml parser and with PyYAML's pure-Python one."""
    monkeypatch.setattr(load_module, "USE_LIBYAML", request.param == "libyaml")
    return request.param


def error_of(text: str, file: str = "t.yaml", **limits) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        load_text(text, file, **limits)
    return caught.value


def walk(value, pointer=""):
    """Every (pointer, value, is_member) in a plain document."""
    yield pointer, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from walk(child, join_pointer(pointer, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from walk(child, f"{pointer}/{index}")


# --------------------------------------------------------------------------- documents


def test_short_long_and_json_forms_give_the_same_document(yaml_parser):
    short = load_template(str(DATA / "short_forms.yaml"))
    long = load_template(str(DATA / "long_forms.yaml"))
    as_json = load_template(str(DATA / "template.json"))
    assert short.document == long.document == as_json.document
    assert (short.format, long.format, as_json.format) == ("yaml", "yaml", "json")
    assert "!" not in json.dumps(short.document).replace("Key for", "")  # no tag leaked


def test_short_forms_become_long_forms(yaml_parser):
    doc = load_template(str(DATA / "short_forms.yaml")).document
    conditions = doc["Conditions"]
    assert conditions["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    assert conditions["Both"] == {"Fn::And": [{"Condition": "IsProd"},
                                              {"Condition": "NotProd"}]}
    statements = doc["Resources"]["KmsKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert statements[1]["Principal"]["AWS"] == {"Fn::GetAtt": ["AppRole", "Arn"]}
    assert doc["Outputs"]["Zones"]["Value"] == {
        "Fn::Base64": {"Fn::Join": [",", {"Fn::GetAZs": ""}]}}
    assert doc["Resources"]["Alias"]["Properties"]["AliasName"]["Fn::If"][2] == {
        "Fn::Select": [0, {"Fn::Split": [",", {"Fn::ImportValue": "Names"}]}]}


FN_TAGS = ["Sub", "Join", "If", "Select", "Split", "FindInMap", "ImportValue", "Base64",
           "Cidr", "GetAZs", "Equals", "And", "Or", "Not", "Transform", "Length",
           "ToJsonString"]


@pytest.mark.parametrize("name", FN_TAGS)
def test_every_fn_tag_in_scalar_sequence_and_mapping_form(name, yaml_parser):
    text = (f"S: !{name} text\n"
            f"Q: !{name} [a, 1, !Ref B]\n"
            f"M: !{name}\n  Name: x\n  Parameters: {{K: v}}\n"
            f"E: !{name} ''\n")
    doc = load_text(text, "t.yaml").document
    key = f"Fn::{name}"
    assert doc == {"S": {key: "text"},
                   "Q": {key: ["a", 1, {"Ref": "B"}]},
                   "M": {key: {"Name": "x", "Parameters": {"K": "v"}}},
                   "E": {key: ""}}


def test_ref_condition_and_getatt_forms(yaml_parser):
    doc = load_text("A: !Ref Param\n"
                    "B: !Condition IsProd\n"
                    "C: !GetAtt Role.Arn\n"
                    "D: !GetAtt Stack.Outputs.KeyArn\n"
                    "E: !GetAtt [Role, Arn]\n"
                    "F: !GetAtt 'Role.Arn'\n"
                    "G: !GetAtt [Role, !Ref Attr]\n", "t.yaml").document
    assert doc == {"A": {"Ref": "Param"},
                   "B": {"Condition": "IsProd"},
                   "C": {"Fn::GetAtt": ["Role", "Arn"]},
                   "D": {"Fn::GetAtt": ["Stack", "Outputs.KeyArn"]},
                   "E": {"Fn::GetAtt": ["Role", "Arn"]},
                   "F": {"Fn::GetAtt": ["Role", "Arn"]},
                   "G": {"Fn::GetAtt": ["Role", {"Ref": "Attr"}]}}


def test_scalars_keep_cloudformation_semantics(yaml_parser):
    doc = load_text(
        "Version: 2012-10-17\n"
        "Date: 2010-09-09\n"
        "Stamp: 2001-12-14t21:59:43.10-05:00\n"
        "Words: [yes, no, on, off, Yes, OFF, y, n]\n"
        "Bools: [true, false, True, FALSE]\n"
        "Nulls: [~, null, Null, NULL]\n"
        "Empty:\n"
        "Ints: [0, 42, -7, +3, 123456789012]\n"
        "Account: 012345678901\n"
        "Floats: [1.5, -0.25, 1.0e+3, .5]\n"
        "Strings: [1e3, 1.0e3, 0x1F, 1_000, .inf, .nan, '12', \"true\", 1:30, 1.2.3]\n"
        "Quoted: !!str 12\n"
        "Typed: [!!int '7', !!float '2', !!float 1e3, !!bool 'true', !!null '']\n",
        "t.yaml").document
    assert doc == {
        "Version": "2012-10-17",
        "Date": "2010-09-09",
        "Stamp": "2001-12-14t21:59:43.10-05:00",
        "Words": ["yes", "no", "on", "off", "Yes", "OFF", "y", "n"],
        "Bools": [True, False, True, False],
        "Nulls": [None, None, None, None],
        "Empty": None,
        "Ints": [0, 42, -7, 3, 123456789012],
        "Account": "012345678901",
        "Floats": [1.5, -0.25, 1000.0, 0.5],
        "Strings": ["1e3", "1.0e3", "0x1F", "1_000", ".inf", ".nan", "12", "true", "1:30", "1.2.3"],
        "Quoted": "12",
        "Typed": [7, 2.0, 1000.0, True, None],
    }
    assert type(doc["Ints"][1]) is int and type(doc["Floats"][0]) is float


def test_keys_are_always_their_text(yaml_parser):
    doc = load_text("1: a\ntrue: b\n1.50: c\nnull: d\n'quoted': e\n", "t.yaml").document
    assert list(doc) == ["1", "true", "1.50", "null", "quoted"]


def test_utf8_bom_is_accepted_and_does_not_shift_columns(tmp_path, yaml_parser):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfKey: !Ref Value\n")
    loaded = load_template(str(path))
    assert loaded.document == {"Key": {"Ref": "Value"}}
    assert loaded.source_map.key_span("/Key") == Span(1, 1, 1, 4)
    assert loaded.lines == ["Key: !Ref Value"]


def test_loaded_template_fields(tmp_path):
    path = tmp_path / "crlf.yaml"
    path.write_bytes(b"A: 1\r\nB:\r\n  - x\r\n")
    loaded = load_template(str(path))
    assert isinstance(loaded, LoadedTemplate)
    assert loaded.file == str(path)
    assert loaded.format == "yaml"
    assert loaded.lines == ["A: 1", "B:", "  - x"]
    assert isinstance(loaded.source_map, SourceMap)
    assert loaded.source_map.span("/B/0") == Span(3, 5, 3, 6)


def test_json_detected_by_leading_brace_or_extension():
    assert load_text('  \n{"A": 1}', "template.yaml").format == "json"
    assert load_text('{"A": 1}', "template").format == "json"
    assert load_text("A: 1", "template.template").format == "yaml"
    error = error_of("A: 1\n", "template.json")
    assert (error.line, error.column) == (1, 1)


# --------------------------------------------------------------------------- source map


def test_yaml_spans_of_values_and_keys(yaml_parser):
    loaded = load_template(str(DATA / "short_forms.yaml"))
    smap = loaded.source_map
    assert smap.span(f"{STATEMENTS}/1/Action") == Span(29, 21, 29, 47)
    assert smap.key_span(f"{STATEMENTS}/1/Action") == Span(29, 13, 29, 19)
    assert smap.span(f"{STATEMENTS}/1/Action/1") == Span(29, 35, 29, 46)
    assert smap.key_span(f"{STATEMENTS}/1/Action/1") is None  # list items have no key
    # A block mapping spans from its first key to the end of its last value.
    line_33 = loaded.lines[32]
    assert smap.span(f"{STATEMENTS}/1") == Span(25, 13, 33, len(line_33) + 1)
    assert smap.span(f"{STATEMENTS}/0/Resource") == Span(24, 23, 24, 26)
    assert smap.span("/Resources/KmsKey/Properties/KeyPolicy/Version") == Span(17, 18, 17, 28)
    assert smap.key_span("/Resources/KmsKey") == Span(11, 3, 11, 9)
    assert smap.span("") == Span(1, 1, len(loaded.lines), len(loaded.lines[-1]) + 1)


def test_short_form_tag_spans(yaml_parser):
    loaded = load_template(str(DATA / "short_forms.yaml"))
    smap = loaded.source_map
    aws = f"{STATEMENTS}/0/Principal/AWS"
    line_22 = loaded.lines[21]
    tag_span = Span(22, 20, 22, len(line_22) + 1)
    assert line_22[19:23] == "!Sub"
    assert smap.span(aws) == tag_span
    assert smap.span(f"{aws}/Fn::Sub") == tag_span
    assert smap.key_span(f"{aws}/Fn::Sub") == Span(22, 20, 22, 24)  # the tag itself
    assert smap.key_span(aws) == Span(22, 15, 22, 18)
    getatt = f"{STATEMENTS}/1/Principal/AWS/Fn::GetAtt"
    assert smap.span(getatt) == Span(28, 20, 28, 39)
    assert smap.span(f"{getatt}/0") == Span(28, 28, 28, 35)  # AppRole
    assert smap.span(f"{getatt}/1") == Span(28, 36, 28, 39)  # Arn
    alias_name = "/Resources/Alias/Properties/AliasName"
    assert smap.span(f"{alias_name}/Fn::If/2/Fn::Select/1/Fn::Split/1/Fn::ImportValue") == \
        Span(37, 68, 37, 86)
    assert smap.span(f"{alias_name}/Fn::If/1") == Span(37, 31, 37, 41)


def test_long_form_spans(yaml_parser):
    smap = load_template(str(DATA / "long_forms.yaml")).source_map
    aws = f"{STATEMENTS}/1/Principal/AWS"
    assert smap.span(aws) == Span(35, 17, 35, 43)
    assert smap.key_span(f"{aws}/Fn::GetAtt") == Span(35, 17, 35, 27)
    assert smap.span(f"{aws}/Fn::GetAtt") == Span(35, 29, 35, 43)
    assert smap.span(f"{aws}/Fn::GetAtt/1") == Span(35, 39, 35, 42)


def test_json_spans_of_values_and_keys():
    smap = load_template(str(DATA / "template.json")).source_map
    assert smap.span(f"{STATEMENTS}/1/Action") == Span(74, 25, 77, 16)
    assert smap.key_span(f"{STATEMENTS}/1/Action") == Span(74, 15, 74, 23)
    assert smap.span(f"{STATEMENTS}/1/Action/1") == Span(76, 17, 76, 30)
    assert smap.span(f"{STATEMENTS}/1/Principal/AWS/Fn::GetAtt/0") == Span(69, 21, 69, 30)
    assert smap.key_span(f"{STATEMENTS}/1/Principal/AWS/Fn::GetAtt") == Span(68, 19, 68, 31)
    assert smap.span("/Resources/KmsKey/Properties/EnableKeyRotation") == Span(48, 30, 48, 34)
    assert smap.span("") == Span(1, 1, 161, 2)


@pytest.mark.parametrize("name", ["short_forms.yaml", "long_forms.yaml", "template.json"])
def test_every_node_has_a_span_and_every_member_a_key_span(name):
    loaded = load_template(str(DATA / name))
    for pointer, _ in walk(loaded.document):
        span = loaded.source_map.span(pointer)
        assert span is not None, pointer
        assert (span.line, span.column) <= (span.end_line, span.end_column), pointer
        if pointer and not pointer.rsplit("/", 1)[1].isdigit():
            assert loaded.source_map.key_span(pointer) is not None, pointer


def test_pointer_escaping(yaml_parser):
    text = "Mappings:\n  'a/b':\n    'c~d': !Ref X\n"
    loaded = load_text(text, "t.yaml")
    assert loaded.document == {"Mappings": {"a/b": {"c~d": {"Ref": "X"}}}}
    assert loaded.source_map.span("/Mappings/a~1b/c~0d/Ref") == Span(3, 12, 3, 18)
    assert loaded.source_map.key_span("/Mappings/a~1b") == Span(2, 3, 2, 8)
    assert loaded.source_map.span("/Mappings/a/b") is None
    json_map = load_text('{"a/b": {"c~d": 1}}', "t.json").source_map
    assert json_map.span("/a~1b/c~0d") == Span(1, 17, 1, 18)
    assert split_pointer("/a~1b/c~0d") == ["a/b", "c~d"]


def test_locate_falls_back_to_the_nearest_ancestor(yaml_parser):
    smap = load_template(str(DATA / "short_forms.yaml")).source_map
    exact = f"{STATEMENTS}/1/Action/0"
    assert smap.locate(exact) == (smap.span(exact), exact)
    missing = f"{STATEMENTS}/1/Condition/StringEquals/kms:ViaService/Fn::Join/9/x"
    found = f"{STATEMENTS}/1/Condition/StringEquals/kms:ViaService/Fn::Join"
    assert smap.locate(missing) == (smap.span(found), found)
    assert smap.locate("/NoSuchSection/x") == (smap.span(""), "")
    assert smap.locate("") == (smap.span(""), "")
    with pytest.raises(ValueError):
        smap.locate("Resources/KmsKey")


def test_alias_spans_and_expansion(yaml_parser):
    text = ("Base: &stmt\n"
            "  Effect: Allow\n"
            "  Action: [kms:Decrypt]\n"
            "Copy: *stmt\n"
            "Merged:\n"
            "  <<: *stmt\n"
            "  Effect: Deny\n")
    loaded = load_text(text, "t.yaml")
    assert loaded.document["Copy"] == {"Effect": "Allow", "Action": ["kms:Decrypt"]}
    assert loaded.document["Merged"] == {"Action": ["kms:Decrypt"], "Effect": "Deny"}
    assert loaded.document["Copy"] is not loaded.document["Base"]  # a tree, not a graph
    smap = loaded.source_map
    assert smap.span("/Copy") == Span(4, 7, 4, 12)  # the *stmt token
    assert smap.span("/Copy/Action/0") == Span(3, 12, 3, 23)  # the anchored text
    assert smap.span("/Merged/Effect") == Span(7, 11, 7, 15)  # explicit key wins
    assert smap.span("/Merged/Action") == Span(3, 11, 3, 24)
    assert smap.alias_above("/Copy/Action/0") == ("/Copy", "stmt")
    assert smap.alias_above("/Copy") == ("/Copy", "stmt")
    assert smap.alias_above("/Base/Action/0") is None


# --------------------------------------------------------------------------- errors


def test_template_error_formatting():
    assert str(TemplateError("boom", "t.yaml", 3, 7)) == "t.yaml:3:7: boom"
    assert str(TemplateError("boom", "t.yaml", 3)) == "t.yaml:3: boom"
    assert str(TemplateError("boom", "t.yaml")) == "t.yaml: boom"
    assert str(TemplateError("boom")) == "boom"
    error = TemplateError("boom", "t.yaml", 3, 7)
    assert (error.file, error.line, error.column, error.message) == ("t.yaml", 3, 7, "boom")


@pytest.mark.parametrize("text, got", [
    ("- a\n- b\n", "a list"),
    ("just a string\n", "a string"),
    ("42\n", "a number"),
    ("~\n", "null"),
    ("[1, 2]", "a list"),
])
def test_document_must_be_a_mapping(text, got, yaml_parser):
    error = error_of(text)
    assert error.message == f"template is not a mapping (got {got})"
    assert error.line == 1


def test_json_document_must_be_a_mapping():
    assert error_of("[1]", "t.json").message == "template is not a mapping (got a list)"


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n"])
def test_empty_file(text, yaml_parser):
    assert error_of(text).message.startswith("empty file")


def test_empty_file_from_disk(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_bytes(b"")
    error = error_of_file(path)
    assert str(error) == f"{path}: empty file"


def error_of_file(path: Path, **kwargs) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        load_template(str(path), **kwargs)
    return caught.value


def test_binary_and_non_utf8_files(tmp_path):
    binary = tmp_path / "image.yaml"
    binary.write_bytes(b"A: 1\nB: \x00\x01\x02")
    error = error_of_file(binary)
    assert "binary" in error.message and error.line == 2
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("A: 1\nB: caf\xe9\n".encode("latin-1"))
    error = error_of_file(latin1)
    assert "not UTF-8" in error.message and "0xe9" in error.message
    assert (error.line, error.column) == (2, 7)
    utf16 = tmp_path / "utf16.yaml"
    utf16.write_bytes("A: 1\n".encode("utf-16"))
    assert "UTF-16" in error_of_file(utf16).message
    assert "binary" in error_of("A: \x00\n").message


def test_file_size_limit(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("A: " + "x" * 200 + "\n")
    error = error_of_file(path, max_bytes=100)
    assert "100-byte limit" in error.message and "204 bytes" in error.message
    assert load_template(str(path), max_bytes=204).document == {"A": "x" * 200}
    path.write_text("A: " + "x" * 1_200 + "\n")
    assert "1,204 bytes, larger than the 1,000-byte limit" in \
        error_of_file(path, max_bytes=1_000).message
    assert MAX_BYTES == 5_000_000


def test_unreadable_paths(tmp_path):
    assert "cannot read file" in error_of_file(tmp_path / "missing.yaml").message
    assert "directory" in error_of_file(tmp_path).message


def test_duplicate_keys_yaml(yaml_parser):
    error = error_of("Resources:\n  Key:\n    Type: A\n    Properties: {}\n    Type: B\n")
    assert error.message == "duplicate key 'Type' (first at line 3, again at line 5)"
    assert (error.line, error.column) == (5, 5)
    error = error_of("A: {x: 1, 'x': 2}\n")
    assert "duplicate key 'x'" in error.message and error.line == 1
    error = error_of("1: a\n'1': b\n")  # keys are text, so these collide
    assert "duplicate key '1'" in error.message


def test_duplicate_keys_json():
    error = error_of('{\n  "A": 1,\n  "B": {"C": 1,\n        "C": 2}\n}', "t.json")
    assert error.message == "duplicate key 'C' (first at line 3, again at line 4)"
    assert (error.line, error.column) == (4, 9)


@pytest.mark.parametrize("text, line, column, fragment", [
    ("A: b\n  C: d\n", 2, 4, "mapping values are not allowed"),
    ("A:\n\tB: c\n", 2, 1, "cannot start any token"),
    ("A: [1, 2\nB: 3\n", 2, 2, ""),
    ("A: 'unterminated\n", 2, 1, "quoted scalar"),
    ("A: *missing\n", 1, 4, "undefined alias '*missing'"),
    ("A: 1\n---\nB: 2\n", 2, 1, "more than one YAML document"),
    ("? [a, b]\n: c\n", 1, 3, "mapping key must be a scalar"),
    ("A: b\x07\n", 1, 5, "unacceptable character U+0007"),
    ("A: !!int abc\n", 1, 4, "invalid !!int value"),
    ("A: 1.0e+999\n", 1, 4, "number out of range"),
    ("!Ref X: y\n", 1, 1, "mapping key cannot be an intrinsic function"),
])
def test_yaml_syntax_errors_are_located(text, line, column, fragment, yaml_parser):
    error = error_of(text)
    assert (error.line, error.column) == (line, column), str(error)
    assert fragment in error.message
    assert "\n" not in str(error)
    assert str(error).startswith(f"t.yaml:{line}:{column}: ")


@pytest.mark.parametrize("text, line, column, fragment", [
    ('{"A": [1, 2,]}', 1, 13, "trailing comma before ']'"),
    ('{"A": 1,\n}', 2, 1, "trailing comma before '}'"),
    ('{"A": tru}', 1, 7, "expected a JSON value"),
    ('{"A": "abc', 1, 7, "unterminated string"),
    ('{"A": "a\nb"}', 1, 9, "line break inside a string"),
    ('{"A": "\\q"}', 1, 8, "invalid escape"),
    ('{"A": 01}', 1, 7, "invalid number"),
    ('{"A": NaN}', 1, 7, "expected a JSON value"),
    ('{"A": 1e999}', 1, 7, "number out of range"),
    ('{"A" 1}', 1, 6, "expected ':' after key 'A'"),
    ('{A: 1}', 1, 2, "expected a string key"),
    ('{"A": 1} x', 1, 10, "extra data"),
    ('{"A": 1 "B": 2}', 1, 9, "expected ',' or '}'"),
    ('{\n  "A": [\n    1\n', 4, 1, "expected ',' or ']', found end of input"),
    ('{"A": // comment\n 1}', 1, 7, "expected a JSON value"),
])
def test_json_syntax_errors_are_located(text, line, column, fragment):
    error = error_of(text, "t.json")
    assert (error.line, error.column) == (line, column), str(error)
    assert fragment in error.message
    assert "\n" not in str(error)


# --------------------------------------------------------------------------- safety


@pytest.mark.parametrize("text, shown", [
    ("A: !!python/object/apply:os.system ['echo pwned > {marker}']\n",
     "!!python/object/apply:os.system"),
    ("A: !!python/object/new:os.system ['echo pwned > {marker}']\n",
     "!!python/object/new:os.system"),
    ("A: !!python/name:os.system ''\n", "!!python/name:os.system"),
    ("A: !!python/module:os ''\n", "!!python/module:os"),
    ("%TAG !py! tag:yaml.org,2002:python/\n---\n"
     "A: !py!object/apply:os.system ['echo pwned > {marker}']\n",
     "!!python/object/apply:os.system"),
    ("A: !!binary aGVsbG8=\n", "!!binary"),
    ("A: !!timestamp 2001-12-14\n", "!!timestamp"),
    ("A: !!set {a, b}\n", "!!set"),
])
def test_unsafe_tags_are_refused_without_constructing_anything(
        text, shown, tmp_path, monkeypatch, yaml_parser):
    marker = tmp_path / "pwned"
    calls = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args) or 0)
    error = error_of(text.replace("{marker}", str(marker)))
    assert f"tag '{shown}' is not allowed" in error.message
    assert error.line == text.count("\n", 0, text.index("A:")) + 1
    assert calls == [] and not marker.exists()


def test_unknown_short_form_tag_is_refused(yaml_parser):
    error = error_of("A: 1\nB:\n  C: !Include other.yaml\n")
    assert error.message == "unknown tag '!Include' (not a CloudFormation intrinsic function)"
    assert (error.line, error.column) == (3, 6)


def test_core_tags_on_the_wrong_kind_are_refused(yaml_parser):
    assert "cannot be used on a mapping" in error_of("A: !!str {b: c}\n").message
    assert "cannot be used on a scalar" in error_of("A: !!map x\n").message
    assert load_text("A: !!map {b: !!seq [c]}\n", "t.yaml").document == {"A": {"b": ["c"]}}


# --------------------------------------------------------------------------- limits


def test_limit_constants():
    assert (MAX_NODES, MAX_DEPTH) == (100_000, 100)


def flat_yaml(items: int) -> str:  # root + key + list = 3 nodes, plus the items
    return "A: [" + ", ".join(["1"] * items) + "]\n"


def flat_json(items: int) -> str:
    return '{"A": [' + ", ".join(["1"] * items) + "]}"


def test_node_limit_just_under_and_just_over(yaml_parser):
    assert len(load_text(flat_yaml(47), "t.yaml", max_nodes=50).document["A"]) == 47
    error = error_of(flat_yaml(48), max_nodes=50)
    assert "more than 50 nodes" in error.message and error.line == 1
    assert len(load_text(flat_json(47), "t.json", max_nodes=50).document["A"]) == 47
    assert "more than 50 nodes" in error_of(flat_json(48), "t.json", max_nodes=50).message


def test_default_node_limit_just_under_and_just_over():
    assert len(load_text(flat_yaml(MAX_NODES - 3), "t.yaml").document["A"]) == MAX_NODES - 3
    assert "more than 100,000 nodes" in error_of(flat_yaml(MAX_NODES - 2)).message
    assert len(load_text(flat_json(MAX_NODES - 3), "t.json").document["A"]) == MAX_NODES - 3
    assert "more than 100,000 nodes" in error_of(flat_json(MAX_NODES - 2), "t.json").message


def test_aliases_count_once_per_use(yaml_parser):
    # root 1 + (key X + list of 5) 6 + (key Y + list 1 + two aliases of 5) 12 = 19 nodes
    text = "X: &x [1, 2, 3, 4]\nY: [*x, *x]\n"
    assert load_text(text, "t.yaml", max_nodes=19).document["Y"] == [[1, 2, 3, 4]] * 2
    error = error_of(text, max_nodes=18)
    assert "more than 18 nodes" in error.message and error.line == 2


BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [" + ", ".join([f"*{a}"] * 9) + "]\n"
    for a, b in zip("abcdefgh", "bcdefghi", strict=True))


def test_billion_laughs_fails_fast(yaml_parser):
    error = error_of(BILLION_LAUGHS)
    assert "more than 100,000 nodes" in error.message
    assert error.line is not None and error.line <= 7


def nested_block(levels: int) -> str:
    return "".join("  " * i + "k:\n" for i in range(levels - 1)) + "  " * (levels - 1) + "k: v\n"


def test_depth_limit_just_under_and_just_over(yaml_parser):
    assert load_text("A: " + "[" * 99 + "]" * 99, "t.yaml").document["A"]
    error = error_of("A: " + "[" * 100 + "]" * 100)
    assert "nesting deeper than 100 levels" in error.message
    assert (error.line, error.column) == (1, 103)
    assert load_text(nested_block(100), "t.yaml").document["k"]
    error = error_of(nested_block(101))
    assert "nesting deeper than 100 levels" in error.message and error.line == 101
    assert load_text('{"A": ' + "[" * 99 + "]" * 99 + "}", "t.json").document["A"]
    error = error_of('{"A": ' + "[" * 100 + "]" * 100 + "}", "t.json")
    assert "nesting deeper than 100 levels" in error.message
    assert (error.line, error.column) == (1, 106)


def test_depth_limit_counts_alias_expansion(yaml_parser):
    text = "A: &a " + "[" * 60 + "]" * 60 + "\nB: " + "[" * 40 + "*a" + "]" * 40 + "\n"
    error = error_of(text)
    assert "alias '*a' nests deeper than 100 levels" in error.message and error.line == 2
    assert load_text(text, "t.yaml", max_depth=101).document["A"]


@pytest.mark.parametrize("text, file", [
    ("A: " + "[" * 5000 + "]" * 5000, "t.yaml"),
    ("A: " + "{a: " * 5000 + "1" + "}" * 5000, "t.yaml"),
    ('{"A": ' + "[" * 1_000_000 + "]" * 1_000_000 + "}", "t.json"),
    ('{"A": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}", "t.json"),
])
def test_thousands_of_levels_fail_fast_without_recursion_error(text, file, yaml_parser):
    error = error_of(text, file)  # a RecursionError would not be caught here
    assert "nest" in error.message and error.line == 1
    # fast without a clock: it stops near where a limit is passed (ours at 100 levels,
    # libyaml's own at 1000), long before the end of the text
    assert error.column < len(text) // 4


# --------------------------------------------------------------------------- parse_json_string


def test_parse_json_string():
    policy = parse_json_string('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}')
    assert policy == {"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}
    assert parse_json_string("[1, 2.5, null]") == [1, 2.5, None]
    assert parse_json_string('"\\u00e9\\n"') == "é\n"


def test_parse_json_string_again_gives_an_equal_document_of_its_own():
    text = '{"Statement": [{"Effect": "Allow", "Action": ["kms:Decrypt"], "N": 1.5, "I": 2, "B": true}]}'
    first = parse_json_string(text)
    first["Statement"][0]["Action"].append("kms:Encrypt")
    again = parse_json_string(text)
    assert again == {"Statement": [{"Effect": "Allow", "Action": ["kms:Decrypt"], "N": 1.5, "I": 2, "B": True}]}
    assert [type(again["Statement"][0][k]) for k in ("N", "I", "B")] == [float, int, bool]
    again["Statement"].clear()
    assert parse_json_string(text)["Statement"]
    with pytest.raises(ValueError, match="duplicate key"):
        parse_json_string('{"a": 1, "a": 2}')
    with pytest.raises(ValueError, match="duplicate key"):
        parse_json_string('{"a": 1, "a": 2}')


@pytest.mark.parametrize("text, fragment", [
    ('{"Statement": [}', "line 1, column 16: expected a value, found '}'"),
    ('{\n "a": 1,\n "a": 2}', "line 3, column 2: duplicate key 'a'"),
    ("", "empty JSON text"),
    ("{'a': 1}", "line 1, column 2: expected a string key, found \"'\""),
    (42, "expected a JSON string, got a number"),
])
def test_parse_json_string_errors(text, fragment):
    with pytest.raises(ValueError) as caught:
        parse_json_string(text)
    assert not isinstance(caught.value, TemplateError)
    assert str(caught.value).startswith(fragment)
    assert "\n" not in str(caught.value)


# --------------------------------------------------------------------------- properties

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**15, 10**15)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=25)
templates = st.dictionaries(st.text(max_size=8), json_values, min_size=1, max_size=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(templates)
def test_round_trip_through_json_and_yaml(document):
    for text, file in ((json.dumps(document, indent=1), "t.json"),
                       (yaml.safe_dump(document, sort_keys=False), "t.yaml")):
        loaded = load_text(text, file)
        assert loaded.document == document
        for pointer, _ in walk(document):
            span = loaded.source_map.span(pointer)
            assert span is not None and 1 <= span.line <= len(loaded.lines)


# --------------------------------------------------------------------------- corpus

KNOWN_BROKEN = {
    "Neos21__practice-cloudformation__aws-backup-s3.yaml": "duplicate key 'Effect'",
    "aws-samples__serverless-patterns__cognito-sns-sms-origination-id-sam__template.yaml":
        "duplicate key 'MfaConfiguration'",
    "awslabs__aws-cloudformation-templates__aws__solutions__CloudFrontCustomOriginLambda@Edge"
    "__CloudFront.yaml": "duplicate key 'EC2InstanceSGID'",
    "echristiaans__aws__kms.yaml": "",
    "org-formation__org-formation-cli__examples__templates__cross-account-secret.yml":
        "unknown tag '!Include'",
}


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.is_file() and p.suffix != ".tsv")


needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"{CORPUS} is not present")


@needs_corpus
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name[:60])
def test_corpus_file_loads_or_fails_with_a_line(path):
    try:
        loaded = load_template(str(path))
    except TemplateError as error:
        assert error.line is not None and error.column is not None, str(error)
        assert path.name in KNOWN_BROKEN, f"unexpected failure: {error}"
        assert KNOWN_BROKEN[path.name] in error.message
        return
    assert path.name not in KNOWN_BROKEN
    assert isinstance(loaded.document.get("Resources"), dict)
    for pointer, _ in walk(loaded.document):
        assert loaded.source_map.span(pointer) is not None, pointer


@needs_corpus
def test_corpus_loads_or_fails_with_a_located_template_error():
    files = corpus_files()
    assert len(files) >= 60
    for path in files:
        try:
            load_template(str(path))
        except TemplateError as exc:  # anything else fails the test
            assert exc.line is not None, (path.name, exc.message)


@needs_corpus
@pytest.mark.skipif(len(PARSERS) < 2, reason="libyaml is not available")
def test_libyaml_and_python_parsers_agree_on_the_corpus(monkeypatch):
    for path in corpus_files():
        results = []
        for use_libyaml in (True, False):
            monkeypatch.setattr(load_module, "USE_LIBYAML", use_libyaml)
            try:
                loaded = load_template(str(path))
                results.append((loaded.document, loaded.source_map._values,
                                loaded.source_map._keys))
            except TemplateError as error:
                results.append((error.line, error.column))
        assert results[0] == results[1], path.name


def test_max_depth_parameter_is_capped_below_the_recursion_limit(yaml_parser):
    inner = "[" * 120 + "]" * 120
    text = f"A: &a {inner}\nB: " + "[" * 128 + "*a" + "]" * 128 + "\n"  # 1 + 128 + 120 levels
    assert load_text(text, "t.yaml", max_depth=250).document["B"]
    assert "nests deeper than 248 levels" in error_of(text, max_depth=248).message
    with pytest.raises(ValueError):
        load_text("A: 1\n", "t.yaml", max_depth=251)
