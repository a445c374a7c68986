"""Scenarios (bridge/scenarios.py), one variant of a template (variant.py), Fn::ForEach
(foreach.py), and the normalizer reading flags and key properties per scenario."""

from __future__ import annotations

import copy

import pytest

from kmspolicy.bridge import foreach, scenarios, variant
from kmspolicy.bridge.load import TemplateError, load_template
from kmspolicy.bridge.normalize import normalize
from kmspolicy.bridge.template_checks import HidingScans, hidden_problems

from .conftest import corpus_templates, example_templates


def truths(plan: scenarios.Plan) -> list[dict]:
    return [s.truth() for s in plan.scenarios]


def test_no_conditions_is_one_merged_analysis():
    assert scenarios.plan({"Resources": {}}) == scenarios.Plan()


def test_allowed_values_enumerate_and_dependent_conditions_stay_consistent():
    doc = {
        "Parameters": {"Env": {"Type": "String", "AllowedValues": ["dev", "test", "prod"]}},
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "IsDev": {"Fn::Equals": ["dev", {"Ref": "Env"}]},
            "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
            "ProdOrDev": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "IsDev"}]},
        },
        "Resources": {},
    }
    plan = scenarios.plan(doc)
    assert truths(plan) == [  # ordered with the Conditions true first, by name
        {"IsDev": True, "IsProd": False, "NotProd": True, "ProdOrDev": True},
        {"IsDev": False, "IsProd": True, "NotProd": False, "ProdOrDev": True},
        {"IsDev": False, "IsProd": False, "NotProd": True, "ProdOrDev": False},
    ]
    # each scenario fixes the one value of Env that gives it
    assert [dict(s.parameters) for s in plan.scenarios] == [{"Env": "dev"}, {"Env": "prod"},
                                                            {"Env": "test"}]


def test_a_given_value_fixes_the_condition_a_default_does_not():
    """A Default is what a deployment giving no value gets; any deployment may give one,
    so both variants are deployable. A value given (--parameter, a file) fixes it."""
    doc = {"Parameters": {"Env": {"Type": "String", "Default": "dev"}},
           "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}, "Resources": {}}
    plan = scenarios.plan(doc)
    assert truths(plan) == [{"IsProd": True}, {"IsProd": False}]
    # the IsProd=false scenario keeps the Default ("dev" is another value than "prod")
    assert [dict(s.parameters) for s in plan.scenarios] == [{"Env": "prod"}, {}]
    assert truths(scenarios.plan(doc, {"Env": "prod"})) == [{"IsProd": True}]


def test_a_scenario_that_rules_out_the_default_leaves_the_parameter_unknown():
    doc = {"Parameters": {"Env": {"Type": "String", "Default": "prod"}},
           "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}, "Resources": {}}
    plan = scenarios.plan(doc)
    # IsProd=false: Env is some other value than its Default, so `!Ref Env` is unknown there
    assert [dict(s.parameters) for s in plan.scenarios] == [{"Env": "prod"}, {"Env": None}]


def test_a_default_in_some_scenario_is_reported_there(tmp_path):
    """Principal "*" only when a parameter (defaulting to prod) is dev: public in a
    deployable variant, reported with it."""
    doc = {"Parameters": {"Env": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "prod"}},
           "Conditions": {"IsDev": {"Fn::Equals": [{"Ref": "Env"}, "dev"]}},
           "Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [
               {"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}},
                "Action": "kms:*", "Resource": "*"},
               {"Effect": "Allow", "Principal": {"AWS": {"Fn::If": ["IsDev", "*", {"Fn::Sub":
                "arn:aws:iam::${AWS::AccountId}:role/app"}]}}, "Action": "kms:Decrypt", "Resource": "*"}]}}}}}
    import json

    from click.testing import CliRunner

    from kmspolicy.cli.main import main
    template = tmp_path / "template.json"
    template.write_text(json.dumps(doc), encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", "--format", "json", str(template)])
    findings = json.loads(result.output)["findings"]
    messages = {f["rule"]: f["message"] for f in findings}
    assert messages["KP005"].endswith("(only when IsDev is true)")
    # one decision, one finding: the delegation reaches other actions in each variant
    assert [f["rule"] for f in findings].count("KP001") == 1
    assert "(only when IsDev is true) When IsDev is false: " in messages["KP001"]
    pinned = CliRunner().invoke(main, ["eval", "--format", "json", "--parameter", "Env=prod", str(template)])
    assert "KP005" not in {f["rule"] for f in json.loads(pinned.output)["findings"]}


def test_free_parameter_and_pseudo_parameter_may_be_either():
    doc = {"Parameters": {"Name": {"Type": "String"}},
           "Conditions": {"Named": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Name"}, ""]}]},
                          "East": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
                          "Both": {"Fn::And": [{"Condition": "Named"}, {"Condition": "East"}]}},
           "Resources": {}}
    plan = scenarios.plan(doc)
    assert len(plan.scenarios) == 4
    assert all(t["Both"] == (t["Named"] and t["East"]) for t in truths(plan))


def test_two_free_parameters_compared_is_a_free_truth():
    doc = {"Parameters": {"A": {"Type": "String"}, "B": {"Type": "String"}},
           "Conditions": {"Same": {"Fn::Equals": [{"Ref": "A"}, {"Ref": "B"}]}}, "Resources": {}}
    assert sorted(t["Same"] for t in truths(scenarios.plan(doc))) == [False, True]


def test_beyond_the_cap_the_plan_is_merged_with_a_note():
    n = 7
    doc = {"Parameters": {f"P{i}": {"Type": "String"} for i in range(n)},
           "Conditions": {f"C{i}": {"Fn::Equals": [{"Ref": f"P{i}"}, "x"]} for i in range(n)},
           "Resources": {}}
    plan = scenarios.plan(doc)
    assert plan.scenarios == [] and "more than 64 scenarios" in plan.note
    doc["Conditions"].pop("C6")
    assert len(scenarios.plan(doc).scenarios) == 64 and scenarios.plan(doc).note is None


@pytest.mark.parametrize("conditions, where, message", [
    ({"A": {"Condition": "B"}, "B": {"Condition": "A"}}, "/Conditions/", "depends on itself"),
    ({"A": {"Fn::Equals": ["x"]}}, "/Conditions/A", "Fn::Equals takes two values"),
    ({"A": {"Fn::If": ["B", "x", "y"]}}, "/Conditions/A", "Fn::If cannot be used in a condition"),
    ({"A": {"Condition": "Missing"}}, "/Conditions/A", "is not defined"),
])
def test_bad_conditions_are_located_problems(conditions, where, message):
    plan = scenarios.plan({"Conditions": conditions, "Resources": {}})
    (pointer, text), = plan.problems
    assert pointer.startswith(where) and message in text and plan.scenarios == []


def test_an_undefined_condition_in_fn_if_or_on_a_resource_is_a_problem():
    doc = {"Conditions": {"A": {"Fn::Equals": ["x", "x"]}},
           "Resources": {"K": {"Type": "AWS::KMS::Key", "Condition": "B"}}}
    assert scenarios.plan(doc).problems[0][0] == "/Resources/K/Condition"
    doc["Resources"]["K"] = {"Type": "AWS::KMS::Key",
                             "Properties": {"Description": {"Fn::If": ["C", "a", "b"]}}}
    assert scenarios.plan(doc).problems[0][0] == "/Resources/K/Properties/Description"


def _scenarios(*rows: dict) -> list[scenarios.Scenario]:
    return [scenarios.Scenario(tuple(sorted(r.items()))) for r in rows]


def test_compiled_conditions_give_what_evaluating_each_combination_gives():
    """The planner evaluates the first combination step by step and the others compiled."""
    doc = {
        "Parameters": {"Env": {"Type": "String", "AllowedValues": ["dev", "prod", "test"]},
                       "Free": {"Type": "String"}, "Other": {"Type": "String"}},
        "Conditions": {
            "Later": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Not": [{"Condition": "FreeIsA"}]}]},
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "FreeIsA": {"Fn::Equals": ["a", {"Ref": "Free"}]},
            "SameFree": {"Fn::Equals": [{"Ref": "Free"}, {"Ref": "Free"}]},
            "TwoFree": {"Fn::Equals": [{"Ref": "Free"}, {"Ref": "Other"}]},
            "Region": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
            "Any": {"Fn::Or": [{"Condition": "Later"}, {"Condition": "TwoFree"},
                               {"Fn::And": [{"Condition": "Region"}, {"Condition": "SameFree"}]}]},
        },
        "Resources": {},
    }
    planner = scenarios._Planner(doc, doc["Conditions"], {})
    domains = planner._domains()
    envs = [dict(zip((n for n, _ in domains), values, strict=True)) for values in
            scenarios.product(*(v for _, v in domains))]
    first = scenarios._Evaluation(planner, envs[0])
    first.all()
    compiled = scenarios._Compiled(planner, list(first.done))
    assert len(envs) == 24
    for env in envs:
        assert compiled.all(env) == scenarios._Evaluation(planner, env).all()
    assert len({tuple(compiled.all(env).values()) for env in envs}) > 4


def test_describe_is_the_shortest_true_description():
    s = _scenarios({"A": True, "B": True}, {"A": True, "B": False},
                   {"A": False, "B": True}, {"A": False, "B": False})
    assert scenarios.describe({0, 1}, s) == "only when A is true"
    assert scenarios.describe({2}, s) == "only when A is false and B is true"
    assert scenarios.describe({0, 3}, s) == ("only when A is true and B is true, "
                                             "or when A is false and B is false")


def test_describe_ignores_conditions_that_never_vary():
    s = _scenarios({"A": True, "Fixed": True}, {"A": False, "Fixed": True})
    assert scenarios.describe({1}, s) == "only when A is false"


def test_choose_picks_branches_drops_novalue_and_conditional_resources():
    doc = {"Resources": {
        "K": {"Type": "AWS::KMS::Key", "Properties": {
            "EnableKeyRotation": {"Fn::If": ["C", True, {"Ref": "AWS::NoValue"}]},
            "KeyPolicy": {"Statement": [{"Fn::If": ["C", {"Sid": "a"}, {"Ref": "AWS::NoValue"}]},
                                        {"Sid": "b", "Action": {"Fn::If": ["C", "x", "y"]}}]}}},
        "Only": {"Type": "AWS::KMS::Key", "Condition": "C"}}}
    off, remap = variant.choose(doc, {"C": False})
    assert off["Resources"] == {"K": {"Type": "AWS::KMS::Key", "Properties": {
        "KeyPolicy": {"Statement": [{"Sid": "b", "Action": "y"}]}}}}
    # pointers into the variant lead back to the file's own nodes
    assert remap.pointer("/Resources/K/Properties/KeyPolicy/Statement/0/Action") == \
        "/Resources/K/Properties/KeyPolicy/Statement/1/Action/Fn::If/2"
    assert remap.pointer("/Resources/K/Properties/KeyPolicy/Statement/0/Sid") == \
        "/Resources/K/Properties/KeyPolicy/Statement/1/Sid"
    on, remap = variant.choose(doc, {"C": True})
    assert set(on["Resources"]) == {"K", "Only"}
    assert remap.pointer("/Resources/K/Properties/KeyPolicy/Statement/0/Sid") == \
        "/Resources/K/Properties/KeyPolicy/Statement/0/Fn::If/1/Sid"


def test_foreach_expands_literal_and_known_list_collections():
    body = {"Type": "AWS::KMS::Key", "Properties": {"Description": {"Fn::Sub": "key ${T}"},
                                                    "Alias": {"Ref": "T"}}}
    doc = {"Parameters": {"Ts": {"Type": "CommaDelimitedList", "Default": "a-1, b"}},
           "Resources": {"Fn::ForEach::Keys": ["T", {"Ref": "Ts"}, {"Key&{T}": body}]}}
    expanded, remap = foreach.expand(doc)
    assert expanded["Resources"] == {
        "Keya1": {"Type": "AWS::KMS::Key", "Properties": {"Description": {"Fn::Sub": "key a-1"},
                                                          "Alias": "a-1"}},
        "Keyb": {"Type": "AWS::KMS::Key", "Properties": {"Description": {"Fn::Sub": "key b"},
                                                         "Alias": "b"}}}
    assert remap.pointer("/Resources/Keyb/Properties") == "/Resources/Fn::ForEach::Keys/2/Key&{T}/Properties"


def test_foreach_over_an_undetermined_collection_stays_and_is_an_error():
    doc = {"Parameters": {"Ts": {"Type": "CommaDelimitedList"}},
           "Resources": {"Fn::ForEach::Keys": ["T", {"Ref": "Ts"}, {"Key${T}": {"Type": "AWS::KMS::Key"}}]}}
    expanded, _ = foreach.expand(doc)
    assert expanded == doc
    (pointer, message), = hidden_problems(doc)
    assert pointer == "/Resources/Fn::ForEach::Keys" and "not analysed" in message
    assert foreach.expand(doc, {"Ts": "x"})[0]["Resources"] == {"Keyx": {"Type": "AWS::KMS::Key"}}


def test_nested_stack_is_an_error_only_when_given_a_key():
    stack = {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://x"}}
    assert hidden_problems({"Resources": {"S": stack}}) == []
    key = {"Type": "AWS::KMS::Key"}
    assert hidden_problems({"Resources": {"S": stack, "K": key}}) == []
    given = dict(stack, Properties={"Parameters": {"Key": {"Fn::Sub": "${K.Arn}"}}})
    (pointer, message), = hidden_problems({"Resources": {"S": given, "K": key}})
    assert pointer == "/Resources/S" and "is given K" in message


def test_variants_sharing_scans_find_what_each_finds_alone():
    """The variants of a template share the scans of the parts they share; a part an Fn::If
    chose differently is scanned as it is in each."""
    hidden = {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}}
    doc = {"Conditions": {"C": {"Fn::Equals": [{"Ref": "P"}, "x"]}},
           "Parameters": {"P": {"Type": "String"}},
           "Outputs": {"O": {"Value": hidden}},
           "Resources": {"Key": {"Type": "AWS::KMS::Key",
                                 "Properties": {"Description": {"Fn::If": ["C", hidden, "plain"]}}},
                         "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}}}}
    scans = HidingScans()
    for truth in ({"C": True}, {"C": False}, {"C": True}):
        chosen, _ = variant.choose(doc, truth)
        assert hidden_problems(chosen, scans) == hidden_problems(chosen)
    assert [p for p, _ in hidden_problems(variant.choose(doc, {"C": False})[0], scans)] == \
        ["/Outputs/O/Value/Fn::Transform"]


@pytest.mark.parametrize("transform, expected", [
    ("AWS::Serverless-2016-10-31", []),
    (["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"], []),
    ("Mine", [("/Transform", "Transform Mine rewrites the template at deploy")]),
    ([{"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}],
     [("/Transform/0", "Transform AWS::Include inserts a template snippet from s3://b/k")]),
])
def test_transforms(transform, expected):
    got = hidden_problems({"Transform": transform, "Resources": {}})
    assert len(got) == len(expected)
    assert [(p, m[:len(e)]) for (p, m), (_, e) in zip(got, expected, strict=True)] == expected


def _key(props: dict, params: dict | None = None, conditions: dict | None = None,
         scenario=None) -> dict:
    doc = {"Parameters": params or {}, "Conditions": conditions or {},
           "Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": props}}}
    return normalize(doc, "t.yaml", scenario=scenario).input["keys"]["K"]


@pytest.mark.parametrize("value, rotation, possibly_off", [
    (True, True, False), ("no", False, False), ("Off", False, False), ("yes", True, False),
    ("ON", True, False), ("n", None, True), ({"Ref": "Free"}, None, True),
    ({"Ref": "Fixed"}, True, False), ({"Fn::If": ["C", True, False]}, None, True),
])
def test_rotation_readings(value, rotation, possibly_off):
    params = {"Free": {"Type": "String"}, "Fixed": {"Type": "String", "Default": "true"}}
    key = _key({"EnableKeyRotation": value}, params)
    assert key["rotation"] is rotation
    assert key.get("rotation_possibly_off", False) is possibly_off


@pytest.mark.parametrize("value, bypass, possible", [
    (True, True, False), ("no", False, False), ("on", True, False), ("y", False, True),
    ({"Ref": "Free"}, False, True), ({"Fn::If": ["C", True, False]}, False, True),
    ({"Fn::If": ["C", False, "off"]}, False, False),
])
def test_bypass_readings(value, bypass, possible):
    key = _key({"BypassPolicyLockoutSafetyCheck": value}, {"Free": {"Type": "String"}})
    assert key["bypass_lockout"] is bypass
    assert key.get("bypass_lockout_possible", False) is possible


def test_flags_and_key_spec_per_scenario():
    params = {"Env": {"Type": "String", "AllowedValues": ["dev", "prod"]}}
    conditions = {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}
    props = {"BypassPolicyLockoutSafetyCheck": {"Fn::If": ["IsProd", False, True]},
             "KeySpec": {"Fn::If": ["IsProd", "SYMMETRIC_DEFAULT", "HMAC_256"]}}
    doc = {"Parameters": params, "Conditions": conditions, "Resources": {}}
    prod, dev = scenarios.plan(doc).scenarios
    assert _key(props, params, conditions, prod)["bypass_lockout"] is False
    assert _key(props, params, conditions, dev)["bypass_lockout"] is True
    assert _key(props, params, conditions, dev)["key_spec"] == "HMAC_256"
    assert _key(props, params, conditions)["key_spec"] is None  # merged: undetermined
    assert _key({"KeySpec": {"Fn::FindInMap": ["M", "a", "b"]}})["key_spec"] is None
    assert _key({})["key_spec"] == "SYMMETRIC_DEFAULT"


def test_properties_given_by_an_intrinsic_are_never_the_default_policy():
    doc = {"Resources": {"K": {"Type": "AWS::KMS::Key",
                               "Properties": {"Fn::If": ["C", {}, {"KeyPolicy": {}}]}}}}
    result = normalize(doc, "t.yaml")
    assert result.input["keys"] == {}
    assert result.problems == [("/Resources/K/Properties",
                                "Properties of 'K' are given by Fn::If, which cannot be read "
                                "here: the resource is not analysed")]


def test_scenario_pointers_in_the_input_are_the_files():
    conditions = {"C": {"Fn::Equals": ["a", "a"]}}
    props = {"KeyPolicy": {"Fn::If": ["C", {"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}]},
        {"Ref": "AWS::NoValue"}]}}
    only, = scenarios.plan({"Conditions": conditions, "Resources": {}}).scenarios
    key = _key(props, conditions=conditions, scenario=only)
    assert key["policy_path"] == "/Resources/K/Properties/KeyPolicy/Fn::If/1"
    assert key["statements"][0]["path"] == "/Resources/K/Properties/KeyPolicy/Fn::If/1/Statement/0"


def test_an_error_in_some_scenarios_names_them(tmp_path):
    from kmspolicy.bridge.pipeline import Analyzer, PolicySet

    template = tmp_path / "t.yaml"
    template.write_text(
        "Parameters:\n  Env: {Type: String, AllowedValues: [dev, prod]}\n"
        "Conditions:\n  IsProd: !Equals [!Ref Env, prod]\n"
        "Resources:\n  K:\n    Type: AWS::KMS::Key\n"
        "    Properties: !If [IsProd, {EnableKeyRotation: true}, !FindInMap [M, a, b]]\n")
    report = Analyzer(PolicySet.builtin()).analyze(str(template))
    assert report.status == "error"
    assert [(e.line, e.message) for e in report.errors] == [
        (8, "Properties of 'K' are given by Fn::FindInMap, which cannot be read here: the "
            "resource is not analysed (only when IsProd is false)")]
    # the prod variant is analysed: default key policy (KP015 alone says so), only there
    assert {(f.rule, f.message.endswith("(only when IsProd is true)")) for f in report.findings} \
        == {("KP015", True)}


def test_properties_from_an_include_is_one_error_naming_the_include():
    doc = {"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {"Fn::Transform": {
        "Name": "AWS::Include", "Parameters": {"Location": "s3://b/k.yaml"}}}}}}
    assert normalize(doc, "t.yaml").problems == [(
        "/Resources/K/Properties", "Properties of 'K': Fn::Transform AWS::Include inserts a "
        "template snippet from s3://b/k.yaml at deploy: what it includes is not analysed")]


def test_a_loop_in_outputs_is_not_an_error_a_loop_in_properties_is():
    loop = ["T", {"Ref": "Ts"}, {"Out${T}": {"Value": "x"}}]
    assert hidden_problems({"Resources": {}, "Outputs": {"Fn::ForEach::O": loop}}) == []
    doc = {"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {"Fn::ForEach::P": loop}}}}
    assert [p for p, _ in hidden_problems(doc)] == ["/Resources/K/Properties/Fn::ForEach::P"]


def _with_conditions(paths):
    out = []
    for path in paths:
        try:
            document = load_template(str(path)).document
        except TemplateError:
            continue
        if isinstance(document, dict) and isinstance(document.get("Resources"), dict) and \
                scenarios.plan(document).scenarios:
            out.append(path)
    return out


@pytest.mark.parametrize("path", _with_conditions(example_templates() + corpus_templates()),
                         ids=lambda p: p.name[:60])
def test_normalizing_a_variant_changes_neither_the_document_nor_what_other_variants_share(path):
    """The variants share the resources no Condition changes, and `choose` keeps them."""
    document = load_template(str(path)).document
    before = copy.deepcopy(document)
    truths = [s.truth() for s in scenarios.plan(document).scenarios]
    chosen = [copy.deepcopy(variant.choose(document, truth)) for truth in truths]
    for scenario in scenarios.plan(document).scenarios:
        normalize(document, str(path), {}, scenario=scenario)
    assert document == before
    for truth, (view, remap) in zip(truths, chosen, strict=True):
        again, again_remap = variant.choose(document, truth)
        assert again == view
        assert again_remap.prefixes == remap.prefixes
