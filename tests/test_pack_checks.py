"""Rule packs are checked before they run (bridge/pack_checks.py), against a capabilities
catalog probed on both engines (tools/gen_capabilities.py).

The table-driven part runs every probe of the catalog on both engines (in a child process:
OPA's Go runtime stays out of the test process) and requires that each one either gives
OPA's result on the embedded engine (as a pack runs there: embedded_compat), or is
refused by the pack checks or by the embedded engine with a located error (or fails on
the embedded engine: an error, never an answer). The differences no pack check catches
are strict xfails (KNOWN_SILENT): fixed, they fail until removed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmspolicy.bridge.bundle import BundleError, load_bundle, policy_set
from kmspolicy.bridge.embedded_compat import for_embedded
from kmspolicy.bridge.engines import EngineError
from kmspolicy.bridge.engines.embedded import EmbeddedEngine
from kmspolicy.bridge.pack_checks import (
    PackError,
    capabilities,
    check_packs,
    check_sources,
    compile_with_opa,
    opa_error_line,
)
from kmspolicy.bridge.pipeline import PolicySet
from kmspolicy.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "tools" / "gen_capabilities.py"
SEED = ROOT / "examples" / "seed" / "template.yaml"
PACK_FILE = "kmspolicy/rules/acme.rego"
HEADER = "# METADATA\n# title: acme\n# custom:\n#   id: ORG009\n#   severity: low\npackage kmspolicy.rules.acme\n\n"
HEADER_LINES = HEADER.count("\n")

opa = pytest.importorskip("opa_bindings", reason="the checks compile with OPA's own compiler")


def builtin_modules() -> dict[str, str]:
    return dict(PolicySet.builtin().modules)


def pack(body: str) -> dict[str, str]:
    return {PACK_FILE: HEADER + body + "\n"}


def check(body: str, engine: str = "embedded", allowed=frozenset()) -> None:
    modules = pack(body)
    check_sources(modules, {**builtin_modules(), **modules}, engine=engine, allowed=allowed)


def evaluate_on_both(items: list[dict]) -> list[tuple[dict, dict]]:
    child = subprocess.run([sys.executable, str(GENERATOR), "--evaluate"], input=json.dumps(items),
                           capture_output=True, text=True, check=True)
    return [tuple(pair) for pair in json.loads(child.stdout)]


# --- the catalog ----------------------------------------------------------------------------

def test_capabilities_catalog_is_current():
    """`make catalogs` regenerates it by probing both engines; a new regopy or OPA, or a
    changed probe, makes this fail until it is regenerated."""
    child = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True,
                           text=True)
    assert child.returncode == 0, child.stderr


def test_catalog_covers_every_builtin_of_opa():
    catalog = capabilities()
    assert catalog["source"]["opa"].startswith("v1.20.")
    assert len(catalog["builtins"]) > 190
    statuses = {entry["status"] for entry in catalog["builtins"].values()}
    assert statuses <= {"supported", "undefined", "divergent", "unverified", "unsupported",
                        "not-in-rego-v1", "environment"}
    for name in ("http.send", "net.lookup_ip_addr", "opa.runtime"):
        assert catalog["builtins"][name]["status"] == "environment"
    for name in ("time.parse_rfc3339_ns", "net.cidr_contains", "strings.render_template"):
        assert catalog["builtins"][name]["status"] == "undefined", name


# --- every probe: OPA's answer on the embedded engine, or refused ---------------------------

def _builtin_cases():
    import importlib.util

    spec = importlib.util.spec_from_file_location("capability_probes",
                                                  ROOT / "tools" / "capability_probes.py")
    probes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probes)
    return probes


PROBES = _builtin_cases()


def _probe_rule(expression: str) -> str:
    return f"probe_value := {expression}"


def test_every_builtin_probe_agrees_or_is_refused():
    items, bodies = [], []
    for name, expressions in sorted(PROBES.BUILTIN_PROBES.items()):
        if name.startswith("rego.metadata."):
            continue  # probed through a METADATA-annotated rule, not an expression
        for expression in expressions:
            items.append({"query": f"x := {expression}"})
            bodies.append(_probe_rule(expression))
    silently_different = []
    for item, body, (on_opa, on_embedded) in zip(items, bodies, evaluate_on_both(items), strict=True):
        try:
            check(body)
        except PackError as exc:
            assert str(exc).startswith(f"{PACK_FILE}:{HEADER_LINES + 1}: "), str(exc)
            assert "embedded engine" in str(exc), str(exc)
            continue
        if on_opa != on_embedded:
            silently_different.append(f"{item['query']}: OPA {on_opa}, embedded {on_embedded}")
    assert silently_different == []


def _idiom_modules(spec: dict) -> dict[str, str]:
    """The idiom as pack modules: its own module, or its query as a rule of the pack."""
    if "module" in spec:
        return {"probe.rego": spec["module"]}
    query = spec["query"]
    if query.startswith("x := ") and "; " not in query:
        return pack(_probe_rule(query.removeprefix("x := ")))
    return pack(f"probe_value := x if {{\n\t{query.replace('; ', chr(10) + chr(9))}\n}}")


KNOWN_SILENT: dict[str, str] = {}  # none: every idiom gives OPA's answer or is refused
DATA = {"kmspolicy": {"config": {}}}


def _as_pack_runs(modules: dict[str, str], query: str, input_doc: dict | None, calls):
    """The query's value on the embedded engine as a pack runs there (its calls rewritten,
    inputs with escaped strings refused): ("value", v), ("undefined", None) or
    ("refused", message)."""
    everything = {**builtin_modules(), **modules}
    engine = EmbeddedEngine(for_embedded(everything, set(modules)), DATA, query=query,
                            escape_sensitive=calls)
    try:
        return "value", engine.evaluate(input_doc or {})
    except EngineError as exc:
        if str(exc).endswith("is undefined"):
            return "undefined", None
        return "refused", str(exc)


@pytest.mark.parametrize("idiom", [
    pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_SILENT[name], strict=True))
    if name in KNOWN_SILENT else name for name in sorted(PROBES.IDIOMS)])
def test_every_idiom_agrees_or_is_refused(idiom):
    spec = PROBES.IDIOMS[idiom]
    modules = _idiom_modules(spec)
    item = {key: spec[key] for key in ("module", "query", "input") if key in spec}
    (on_opa, on_embedded), = evaluate_on_both([item])
    try:
        calls = check_packs(modules, {**builtin_modules(), **modules}, DATA)
    except PackError as exc:
        assert str(exc).startswith(f"{next(iter(modules))}:"), str(exc)
        assert "embedded engine" in str(exc)
        return
    if "module" in spec:
        if on_opa != on_embedded and "error" in on_embedded:
            return  # an error, never an answer
        assert on_opa == on_embedded, f"{spec['query']} is silently different"
        return
    if "value" not in on_opa:  # OPA refuses it too; the embedded engine must not answer
        assert on_opa == on_embedded or "error" in on_embedded, spec["query"]
        return
    try:
        kind, value = _as_pack_runs(modules, "data.kmspolicy.rules.acme.probe_value",
                                    spec.get("input"), calls)
    except EngineError as exc:  # refused by the embedded engine's compiler, located
        assert str(exc).startswith(f"{PACK_FILE}:"), str(exc)
        return
    if kind == "refused":
        assert str(value).startswith(f"{PACK_FILE}:") and "embedded engine" in value, value
        return
    assert (kind, value) == ("value", on_opa["value"]), f"{spec['query']} is silently different"


def test_with_around_a_function_call_is_refused_in_rule_modules():
    body = "f(v) := v + 1\n\nr := f(input.a)\n\nprobe_value := r with input as {\"a\": 1}"
    with pytest.raises(PackError, match=rf"^{PACK_FILE}:\d+: `with` is refused .* crashes it"):
        check(body)


def test_sprintf_verbs_other_than_the_verified_ones_are_refused():
    check('m := sprintf("%v and %v", ["a", 1])')
    for verb in ("%s", "%d", "%q"):
        with pytest.raises(PackError, match=f"sprintf verb {verb} is evaluated differently"):
            check(f'm := sprintf("x {verb}", [1])')
    with pytest.raises(PackError, match="format must be a string literal"):
        check('f := "%v"\n\nm := sprintf(f, [1])')


def test_concat_and_sort_take_arrays_and_sets():
    """sort() and concat() of a set are computed as OPA does (embedded_compat.py, idioms
    sort-set-index and concat-set); an array from the input or a variable is no set."""
    check("s := sort([v | some v in {3, 1}])[0]")
    check('c := concat(",", sort({"b", "a"}))')
    check("s := sort({3, 1})[0]")
    check('names := {"b", "a"}\n\nc := concat(",", names)')
    check('c := concat(",", input.names)')
    check('c := concat(",", array.concat(["a"], split(input.a, ":")))')


def test_strings_in_comments_and_literals_do_not_count_as_calls():
    check('# net.cidr_contains("a", "b") in a comment\nm := "http.send(x) in a string"')


def test_the_checks_of_the_embedded_engine_do_not_apply_to_opa_engines():
    check('v := net.cidr_contains("10.0.0.0/8", "10.1.1.1")', engine="opa-server")
    with pytest.raises(PackError, match="net.cidr_contains is silently undefined"):
        check('v := net.cidr_contains("10.0.0.0/8", "10.1.1.1")')


@pytest.mark.parametrize("call", ['http.send({"method": "get", "url": "https://x.example"})',
                                  'net.lookup_ip_addr("x.example")', "opa.runtime()"])
def test_network_and_environment_builtins_need_to_be_allowed(call):
    name = call.split("(")[0]
    for engine in ("embedded", "opa-server"):
        with pytest.raises(PackError, match=rf"^{PACK_FILE}:{HEADER_LINES + 1}: {name} reaches "
                                            rf"the network .* --allow-builtin {name}"):
            check(f"v := {call}", engine=engine)
    check(f"v := {call}", engine="opa-server", allowed=frozenset({name}))


def test_user_functions_named_like_nothing_builtin_are_not_checked():
    check("twice(v) := v * 2\n\nr := twice(2)")


# --- OPA's compiler ---------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "expected"), [
    ("findings[f] { f := 1 }", "rego_parse_error: `if` keyword is required"),
    ('r := object.get(data, ["kmspolicy"], 1)', "rego_recursion_error"),
    ('findings contains f if { f := 1 + "a" }', "rego_type_error: plus: invalid argument"),
    ("findings contains f if { f := no.such_function(1) }", "rego_type_error: undefined function"),
])
def test_opa_compiler_errors_are_located(body, expected):
    modules = {**builtin_modules(), **pack(body)}
    with pytest.raises(PackError) as caught:
        compile_with_opa(modules, {})
    message = str(caught.value)
    assert message.startswith(f"{PACK_FILE}:{HEADER_LINES + 1}: "), message
    assert expected in message
    assert "\n" not in message


def test_opa_error_report_with_several_errors_is_one_line():
    report = ("2 errors occurred:\nx.rego:3: rego_parse_error: first\n\thave: a\n"
              "x.rego:9: rego_parse_error: second")
    assert opa_error_line(report) == "x.rego:3: rego_parse_error: first have: a (and 1 more)"


def test_nested_rule_packages_are_refused():
    body = "findings contains 1 if false"
    modules = {PACK_FILE: HEADER.replace("kmspolicy.rules.acme", "kmspolicy.rules.acme.nested") + body}
    with pytest.raises(PackError, match=rf"^{PACK_FILE}:6: package kmspolicy.rules.acme.nested is "
                                        "nested: .* name it kmspolicy.rules.acme_nested"):
        check_sources(modules, {**builtin_modules(), **modules})


# --- bundles ----------------------------------------------------------------------------------

def write_pack(root: Path, body: str, manifest: dict | None = None, data: dict | None = None) -> Path:
    rules = root / "kmspolicy" / "rules"
    rules.mkdir(parents=True, exist_ok=True)
    (rules / "acme.rego").write_text(HEADER + body + "\n")
    if manifest is not None:
        (root / ".manifest").write_text(json.dumps(manifest))
    if data is not None:
        (root / "data.json").write_text(json.dumps(data))
    return root


@pytest.mark.parametrize("data", [{"kmspolicy": {"main": {"findings": []}}},
                                  {"kmspolicy": {"rules": {"lockout": {"findings": []}}}}])
def test_data_under_the_builtin_packages_is_refused(tmp_path, data):
    path = write_pack(tmp_path, "findings contains 1 if false", data=data)
    with pytest.raises(BundleError, match="data at kmspolicy/(main|rules) is refused"):
        policy_set([load_bundle(str(path))])


def test_replacing_a_builtin_module_must_be_declared(tmp_path):
    path = write_pack(tmp_path, "findings contains 1 if false")
    main_rego = (ROOT / "policies" / "kmspolicy" / "main.rego").read_text()
    (tmp_path / "kmspolicy" / "main.rego").write_text(main_rego.replace("some name\n", "false\n\tsome name\n"))
    with pytest.raises(BundleError, match="kmspolicy/main.rego differs from the built-in module"):
        policy_set([load_bundle(str(path))])
    (tmp_path / ".manifest").write_text(json.dumps(
        {"roots": ["kmspolicy"], "metadata": {"kmspolicy_replaces": ["kmspolicy/main.rego"]}}))
    policies = policy_set([load_bundle(str(path))])
    assert policies.replaced == [(str(path), "kmspolicy/main.rego")]

    runner = CliRunner()
    result = runner.invoke(main, ["eval", "--jobs", "1", "--timeout", "0", "--bundle", str(path), str(SEED)])
    assert "replaces the built-in module kmspolicy/main.rego" in result.stderr
    inspected = runner.invoke(main, ["bundle", "inspect", str(path)])
    assert "replaces the built-in module kmspolicy/main.rego" in inspected.output


def test_a_module_added_to_a_builtin_package_is_refused(tmp_path):
    path = write_pack(tmp_path, "findings contains 1 if false")
    (tmp_path / "kmspolicy" / "extra.rego").write_text("package kmspolicy.main\n\nfindings := set()\n")
    with pytest.raises(BundleError, match="package kmspolicy.main is a built-in package"):
        policy_set([load_bundle(str(path))])


def test_eval_refuses_a_pack_with_one_located_line(tmp_path):
    path = write_pack(tmp_path, "findings contains f if {\n\tx := opa.runtime()\n\tf := x.env\n}")
    result = CliRunner().invoke(main, ["eval", "--bundle", str(path), str(SEED)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"kmspolicy: error: {PACK_FILE}:{HEADER_LINES + 2}: opa.runtime "
                                     "reaches the network or the process environment and is "
                                     "refused in rule packs; allow it with --allow-builtin "
                                     "opa.runtime if the pack must use it")


def test_kmspolicy_test_checks_the_pack(tmp_path):
    path = write_pack(tmp_path, 'findings contains f if {\n\tf := net.cidr_contains("10.0.0.0/8", "10.0.0.1")\n}')
    result = CliRunner().invoke(main, ["test", str(path)])
    assert result.exit_code == 2
    assert f"{PACK_FILE}:{HEADER_LINES + 2}: net.cidr_contains is silently undefined" in result.stderr


def test_built_bundles_load_in_opa(tmp_path):
    runner = CliRunner()
    out = tmp_path / "guardrails.tar.gz"
    org = ROOT / "examples" / "org-bundle"
    result = runner.invoke(main, ["bundle", "build", "-o", str(out), "--policies", str(org / "policies"),
                                  "--config", str(org / "org.yaml")])
    assert result.exit_code == 0, result.output
    built = load_bundle(str(out))
    compile_with_opa(built.rule_modules(), built.data)  # raises if OPA 1.20 refuses it
    assert [p.name for p in tmp_path.iterdir()] == ["guardrails.tar.gz"]  # no temporary left


# --- errors of the embedded engine ------------------------------------------------------------

def test_regopy_syntax_errors_are_located():
    modules = {**builtin_modules(), PACK_FILE: HEADER + 'findings contains f if {\n\tf := {"a": 1\n}\n'}
    with pytest.raises(EngineError, match=rf"^{PACK_FILE}:{HEADER_LINES + 1}: this is unclosed"):
        EmbeddedEngine(modules, {})


def test_a_result_that_is_not_json_names_the_rule():
    modules = {**builtin_modules(),
               PACK_FILE: HEADER + 'findings contains f if {\n\tf := strings.split_n("a:b", ":", 2)\n}\n'}
    engine = EmbeddedEngine(modules, {"kmspolicy": {"config": {}}})
    with pytest.raises(EngineError, match=rf"^{PACK_FILE}:6: the embedded engine \(regopy\) produced "
                                          "a result for kmspolicy.rules.acme.findings that is not valid JSON"):
        engine.evaluate({"keys": {}})


def test_kmspolicy_test_does_not_suggest_a_debug_option_it_lacks():
    child = subprocess.run([sys.executable, "-c", "import sys; sys.argv = ['kmspolicy', 'test', '--x']; "
                            "from kmspolicy.cli.main import entrypoint; entrypoint()"],
                           capture_output=True, text=True)
    assert "--debug" not in child.stderr


def test_check_packs_without_packs_runs_nothing():
    check_packs({}, builtin_modules(), {})  # no compile, no child process


@pytest.mark.parametrize(("body", "expected"), [
    ("import data.acme.kms\n\nr := 1", r":8: rego_compile_error \(strict\): import data.acme.kms unused"),
    ("import data.acme.kms\nimport data.acme.kms\n\nr := kms.x", r":9: .*duplicate of line 8"),
    ("r if {\n\tinput := 1\n}", r":9: .*input is a reserved name"),
    ("r if {\n\tunused_local := 1\n\ttrue\n}", r":9: .*assigned var unused_local unused"),
])
def test_strict_mode_checks_opa_bindings_do_not_run(body, expected):
    with pytest.raises(PackError, match=rf"^{PACK_FILE}{expected}"):
        check(body)


def test_strict_checks_accept_used_imports_and_locals():
    check("import data.acme.kms as settings\n\nr := v if {\n\tv := settings.x\n}")


def test_a_function_with_two_outputs_is_an_error_on_both_engines_not_a_silent_answer():
    body = ("f(_) := 1\n\nf(_) := 2\n\nfindings contains {\"rule\": \"ORG009\", \"resource\": \"K\", "
            "\"path\": \"/Resources/K\", \"message\": \"m\"} if f(0) == 1")
    modules = {**builtin_modules(), **pack(body)}
    (on_opa, on_embedded), = evaluate_on_both([{"module": pack(body)[PACK_FILE],
                                                 "query": "x := data.kmspolicy.rules.acme.findings"}])
    assert "eval_conflict_error" in on_opa["error"]
    assert "error" in on_embedded
    with pytest.raises(EngineError):
        EmbeddedEngine(modules, {"kmspolicy": {"config": {}}}).evaluate({"keys": {}})



def test_escapes_in_patterns_are_accepted_where_the_matchers_agree():
    catalog = capabilities()["idioms"]
    assert catalog["pattern-escape regex.match"]["status"] == "same"
    check('r if regex.match("^arn:aws:iam::\\\\d{12}:root$", input.arn)')
    check("r if regex.match(`^a\\.b$`, input.arn)")
    with pytest.raises(PackError, match="a string with an escape sequence"):
        check('r if regex.match(input.arn, "a\\\\.b")')  # the value, not the pattern


def test_without_the_bindings_a_pack_is_refused_not_run_unchecked(tmp_path, monkeypatch):
    shadow = tmp_path / "shadow" / "opa_bindings"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('not installed')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "shadow"))
    with pytest.raises(PackError, match="opa-golib-python-bindings is not installed: .*pip install "
                                        "--ignore-requires-python opa-golib-python-bindings"):
        check_packs(pack("r := 1"), {**builtin_modules(), **pack("r := 1")}, {})


# --- the order of array comprehensions ------------------------------------------------------

def check_typed_pack(body: str) -> list:
    modules = pack(body)
    return check_packs(modules, {**builtin_modules(), **modules}, DATA)


def findings_engine(body: str) -> EmbeddedEngine:
    """The pack's findings on the embedded engine as `eval` runs a checked pack there."""
    modules = pack(body)
    calls = check_packs(modules, {**builtin_modules(), **modules}, DATA)
    return EmbeddedEngine(for_embedded({**builtin_modules(), **modules}, set(modules)), DATA,
                          query="data.kmspolicy.rules.acme.findings", escape_sensitive=calls)


@pytest.mark.parametrize(("body", "what"), [
    ('x := [v | some v in {"b", "a"}]', r'\{"b", "a"\} \(of type set\[string\]\)'),
    ('s := {v | some v in ["b", "a"]}\n\nx := [v | s[v]]', r"s \(of type set\[string\]\)"),
    ('s := {"b", "a"}\n\nx := [v | v := s[_]]', r"s \(of type set\[string\]\)"),
    ('x := [k | some k; {"b": 1, "a": 2}[k]]', r'\{"b": 1, "a": 2\} \(of type object<a: number, b: number>\)'),
    ('x := [v | some k, v in {"b": 1, "a": 2}]', r'\{"b": 1, "a": 2\} \(of type object<a: number, b: number>\)'),
    ('u := 1 if input.x\n\nelse := {1}\n\nx := [v | some v in u]', r"u \(of type any<number, set\[number\]>\)"),
    ('x := [k | some k in object.keys({"b": 1})]', r'object.keys\(\{"b": 1\}\) \(of type set\[any\]\)'),
    ('import data.kmspolicy.lib.ids\n\nx := [k | some k in ids.keys]', r"ids.keys \(of type set\[any\]\)"),
])
def test_array_comprehensions_over_sets_or_built_objects_are_refused(body, what):
    line = HEADER_LINES + 1 + body.count("\n")
    with pytest.raises(PackError, match=rf"^{PACK_FILE}:{line}: an array comprehension iterates {what}, "
                                        r"whose order differs on the embedded engine .*sorted order, "
                                        r"regopy in insertion order .*build a set instead"):
        check_typed_pack(body)


@pytest.mark.parametrize("body", [
    "x := [k | some k; input.keys[k]]",  # input: JSON, its objects handed over with sorted keys
    "x := [s | some key in input.keys; some s in key.statements]",
    "x := [v | some v in [3, 1]]",
    'x := [p | some p in split(input.a, ":")]',
    'x := sort([v | some v in {"b", "a"}])',  # the order is not observed
    'x := count([v | some v in {"b", "a"}])',
    'x := {v | some v in {"b", "a"}}',  # a set comprehension
    'm := {"a": 1}\n\nx := [v | some k in ["a"]; v := m[k]]',  # m[k] is a lookup
    'x := [y | some a in [1]; y := {b | some b in {"x"}}]',  # the set is iterated by the inner one
    'x := [a | some a in [1, 2]; every b in {"q"} { b != a }]',
])
def test_array_comprehensions_that_keep_their_order_are_accepted(body):
    check_typed_pack(body)


@pytest.mark.parametrize(("body", "refused"), [
    ('f(xs) := [x | some x in xs]\n\nr := f({"b", "a"})', '{"b", "a"} (of type set[string]) is passed to f()'),
    ('f(xs) := [x | some x in xs]\n\ng(ys) := f(ys)\n\nr := g({"b", "a"})', '{"b", "a"} (of type set[string]) '
     "is passed to g()"),  # passed on
    ("f(n, xs) := [x | some x in xs; x != n]\n\nr := f(1, {2, 3})", "{2, 3} (of type set[number]) is passed to f()"),
    ('f(xs) := [k | some k; xs[k]]\n\nr := f({"b": 1, "a": 2})', '{"b": 1, "a": 2} (of type object<a: number, '
     "b: number>) is passed to f()"),
    ('f(xs) := [x | some x in xs]\n\nr := f(["b", "a"])', None),
    ('f(xs) := [x | some x in xs]\n\nr := f(sort({"b", "a"}))', None),
    ("f(n, xs) := [x | some x in xs; x != n]\n\nr := f({1}, [2, 3])", None),  # the set is not iterated
    ("f(xs) := [x | some x in xs]\n\nr := f(input.keys)", None),
    ('f(xs) := {x | some x in xs}\n\nr := f({"b", "a"})', None),  # a set comprehension
])
def test_a_set_passed_to_a_function_that_iterates_it_in_an_array_comprehension_is_refused(body, refused):
    """OPA's checker does not type a function's parameters: the argument is typed at each call."""
    if refused is None:
        check_typed_pack(body)
        return
    line = HEADER_LINES + 1 + body.count("\n")
    with pytest.raises(PackError, match=rf"^{PACK_FILE}:{line}: {re.escape(refused)}, where an array "
                                        r"comprehension iterates it: its order differs on the embedded engine"):
        check_typed_pack(body)


def test_the_type_probes_cover_many_sites_and_sites_on_one_line():
    from kmspolicy.bridge.rego_types import Expression, static_types

    lines = [f"r{i} := [v | some v in {{{i}, {i + 1}}}]" for i in range(12)]
    lines.append("q := [v | some v in [1]] | [w | some w in {2}]")  # two sites on one line
    source = HEADER + "\n\n".join(lines) + "\n"
    expressions = []
    for marker in [f"{{{i}, {i + 1}}}" for i in range(12)] + ["[1]", "{2}"]:
        start = source.index(marker, source.index("package"))
        expressions.append(Expression(PACK_FILE, start, start + len(marker)))
    types = static_types({**builtin_modules(), PACK_FILE: source}, DATA, expressions)
    assert [types[e] for e in expressions] == ["set[number]"] * 12 + ["array<number>", "set[number]"]


# --- strings the embedded engine stores escaped -------------------------------------------------

E, N = "escapes", "non-ascii"


@pytest.mark.parametrize(("body", "listed"), [
    ("r if trim_space(input.description) == \"\"", [("trim_space", E), ("trim_space", N)]),
    ('r if regex.match("^a.b$", input.description)', [("regex.match", E), ("regex.match", N)]),
    ("r if upper(input.description) == \"A\"", [("upper", E), ("upper", N)]),
    ('r if lower(input.description) == "a"', [("lower", N)]),  # escapes read alike, case beyond ASCII not
    ('r if concat(" ", [input.description, "x"]) == "x"', []),
    ('r if concat(" ", input.names) == "x"', []),  # JSON: no set
    ('s := {input.description, "x"}\n\nr if concat(" ", s) == "x"', [("concat", E)]),  # sorted first
    ('r if startswith(input.description, "a")', []),
    ('r if split(input.description, ":")[0] == "a"', []),
    ('r if trim_space("  a ") == "a"', []),  # a literal: no escapes
    ("r if count(input.description) > 3", []),  # computed exactly (embedded_compat)
    ('r if input.description < "m"', [("`<`", E)]),  # ordering compares the stored escapes
    ('r if "m" >= input.description', [("`>=`", E)]),
    ("r if count(input.description) < 3", []),  # a number
    ('r if sort([input.description, "a"])[0] == "a"', [("sort", E)]),
    ("r if max([1, count(input.description)]) == 2", []),  # numbers only
    ('r if lt(input.description, "m")', [("lt", E)]),
])
def test_calls_that_read_escaped_strings_differently_are_listed(body, listed):
    assert [(call.builtin, call.reads) for call in check_typed_pack(body)] == listed
    for call in check_typed_pack(body):
        assert (call.module, call.line) == (PACK_FILE, HEADER_LINES + 1 + body.count("\n"))


def test_the_embedded_engine_refuses_a_string_beyond_ascii_a_case_mapping_may_read():
    engine = findings_engine('findings contains f if {\n\tlower(input.description) == "key"\n\tf := 1\n}')
    assert engine.evaluate({"description": "KEY"}) == [1]
    assert engine.evaluate({"description": 'say "hi"'}) == []  # lower reads escapes as OPA does
    with pytest.raises(EngineError, match=rf"^{PACK_FILE}:{HEADER_LINES + 2}: lower\(\) reads a string "
                                          r"holding a character beyond ASCII differently on the embedded "
                                          r"engine .*the template's input \(description\) holds one"):
        engine.evaluate({"description": "CLÉ"})


def test_the_embedded_engine_refuses_an_escaped_string_such_a_call_may_read():
    body = 'findings contains f if {\n\ttrim_space(input.description) == ""\n\tf := 1\n}'
    calls = check_typed_pack(body)
    modules = {**builtin_modules(), **pack(body)}
    engine = findings_engine(body)
    assert engine.evaluate({"description": "plain"}) == []
    with pytest.raises(EngineError, match=rf"^{PACK_FILE}:{HEADER_LINES + 2}: trim_space\(\) reads a string "
                                          r"holding a quote, a backslash or a control character differently "
                                          r"on the embedded engine .*the template's input \(description\) "
                                          r"holds one; evaluate this template with --engine opa"):
        engine.evaluate({"description": "two\nlines"})
    with pytest.raises(EngineError, match=r"the data \(acme.note\) holds one"):
        EmbeddedEngine(modules, {**DATA, "acme": {"note": 'say "hi"'}}, escape_sensitive=calls)


def test_count_of_an_escaped_string_is_opas_on_the_embedded_engine(tmp_path):
    body = ('findings contains result.finding("ORG009", key, key.path, "short", []) if {\n'
            "\tsome key in input.keys\n\tcount(key.raw.description) < 6\n}")
    path = write_pack(tmp_path / "pack", "import data.kmspolicy.lib.result\n\n" + body)
    template = tmp_path / "template.yaml"
    template.write_text('Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n'
                        '      Description: "a\\"b\\nc"\n      EnableKeyRotation: true\n')
    found = {}
    for engine in ("embedded", "opa"):
        result = CliRunner().invoke(main, ["eval", "--jobs", "1", "--timeout", "0", "--engine", engine,
                                           "--format", "json", "--bundle", str(path), str(template)])
        assert result.exit_code in (0, 1), result.output
        found[engine] = sorted(f["rule"] for f in json.loads(result.stdout)["findings"])
    assert "ORG009" in found["opa"]  # `a"b` + newline + `c` is 5 characters
    assert found["embedded"] == found["opa"]


# --- ordering: computed as OPA does on the embedded engine (embedded_compat.py) -------------

@pytest.mark.parametrize(("source", "rewritten"), [
    ("x := a < b", "x := @lt(a, b)"),
    ("p if input.a.b[0] < count(y) + 1", "p if @lt(input.a.b[0], count(y) + 1)"),
    ("q if not f(a) >= 3 with input as {}", "q if not @gte(f(a), 3) with input as {}"),
    ("r := [v | some v in xs; v.n <= 10]", "r := [v | some v in xs; @lte(v.n, 10)]"),
    ('s := {"k": a > b, "j": 1}', 's := {"k": @gt(a, b), "j": 1}'),
    ("t if { x < y; y > z }", "t if { @lt(x, y); @gt(y, z) }"),
    ("u := f(a < b) < c", "u := @lt(f(@lt(a, b)), c)"),
    ("v := a | b < c", "v := @lt(a | b, c)"),  # a set union binds tighter
    ("w if input.some < 2", "w if @lt(input.some, 2)"),  # a member, not the keyword
    ('z if "a<b" < "c"', 'z if @lt("a<b", "c")'),
    ("# a < b\nm := 1", "# a < b\nm := 1"),
])
def test_comparisons_are_rewritten_to_the_compat_functions_on_their_lines(source, rewritten):
    from kmspolicy.bridge.embedded_compat import rewrite_comparisons

    assert rewrite_comparisons(source).replace("data.kmspolicy.compat.opa_", "@") == rewritten


@pytest.mark.parametrize("body", ["r := input.a == input.b < 3", "r := 1 < input.a < 3",
                                  "r := input.a < input.b != true", "r if {\n\tinput.a <\n\t3\n}"])
def test_a_comparison_whose_operands_cannot_be_told_is_refused(body):
    with pytest.raises(PackError, match=rf"^{PACK_FILE}:\d+: `.*` (compares the result of a comparison|"
                                        r"has an operand that is not on its line)"):
        check_typed_pack(body)


def test_ordering_in_a_pack_gives_opas_findings_on_the_embedded_engine(tmp_path):
    body = ('findings contains result.finding("ORG009", key, key.path, message, []) if {\n'
            "\tsome key in input.keys\n"
            "\tmax([10, 9]) > 9\n"
            "\tkey.id < concat(\"\", [key.id, \"!\"])\n"
            '\tmessage := sprintf("%v", [sort([10, 9, key.id, concat(" ", [key.id, "b"])])])\n}')
    path = write_pack(tmp_path / "pack", "import data.kmspolicy.lib.result\n\n" + body)
    found = {}
    for engine in ("embedded", "opa"):
        result = CliRunner().invoke(main, ["eval", "--jobs", "1", "--timeout", "0", "--engine", engine,
                                           "--format", "json", "--bundle", str(path), str(SEED)])
        assert result.exit_code == 1, result.output
        found[engine] = [f["message"] for f in json.loads(result.stdout)["findings"] if f["rule"] == "ORG009"]
    assert found["opa"] == ['[9, 10, "KmsKey", "KmsKey b"]']
    assert found["embedded"] == found["opa"]


def test_ordering_objects_is_an_error_naming_the_cause_on_the_embedded_engine():
    engine = findings_engine("findings contains f if {\n\tsome f in sort([input.a, input.b])\n}")
    assert engine.evaluate({"a": 2, "b": 1}) == [1, 2]
    with pytest.raises(EngineError, match=rf"^{PACK_FILE}:{HEADER_LINES - 1}: the rule pack orders \(sort, max, "
                                          r"min, <, >\) objects, sets or arrays holding them.*--engine opa"):
        engine.evaluate({"a": {"k": 1}, "b": {"k": 2}})
