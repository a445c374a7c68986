"""Proof that the embedded engine (regopy) and real OPA (opa_bindings, OPA 1.20) agree.

- every example template and every template of ../shared/corpus gives the same findings
  on both engines (built-in policies; the examples also with the org bundle);
- every Rego `test_*` rule is true on real OPA, and every `cases` entry passes on regopy;
- the policies compile on real OPA, and pass the checks that OPA's strict mode adds.
  The bindings expose no strict flag, so those checks (unused imports and function
  arguments, unused `:=` locals, duplicate imports, deprecated built-ins, shadowed
  `input`/`data`) run here on OPA's own parse tree (`rego.parse_module`).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from kmspolicy.bridge.bundle import load_bundle, policy_set
from kmspolicy.bridge.engines.embedded import EmbeddedEngine
from kmspolicy.bridge.load import TemplateError, load_template
from kmspolicy.bridge.normalize import normalize
from kmspolicy.bridge.pipeline import PolicySet
from kmspolicy.bridge.regotest import TEST_RULE_START, run_cases
from kmspolicy.bridge.rules import builtin_policy_dir, package_of, read_policy_dir
from kmspolicy.bridge.scenarios import plan
from kmspolicy.cli.config import load_config

from .conftest import CORPUS, ROOT, corpus_templates, example_templates, require_in_ci

opa_bindings = require_in_ci("opa_bindings")

ORG = ROOT / "examples" / "org-bundle"
ENTRYPOINT = "kmspolicy.main.findings"
DEPRECATED = {"any", "all", "re_match", "net.cidr_overlap", "set_diff", "cast_array", "cast_set",
              "cast_string", "cast_boolean", "cast_null", "cast_object"}


def canonical(findings) -> list[str]:
    return sorted(json.dumps(f, sort_keys=True) for f in findings)


def real_opa(modules: dict[str, str], data: dict):
    engine = opa_bindings.OpaEngine()
    for name, source in modules.items():
        engine.add_policy(name, source)
    engine.add_data(data)
    return engine


class Engines:
    def __init__(self, policies: PolicySet):
        self.embedded = EmbeddedEngine(policies.modules, policies.data())
        self.opa = real_opa(policies.modules, policies.data())

    def compare(self, input_doc: dict) -> None:
        embedded = canonical(self.embedded.findings(input_doc))
        opa = canonical(self.opa.eval_document(ENTRYPOINT, input_doc))
        assert embedded == opa, {"regopy only": sorted(set(embedded) - set(opa)),
                                 "OPA only": sorted(set(opa) - set(embedded))}


def org_policies() -> PolicySet:
    return policy_set([load_bundle(str(ORG / "policies"))], load_config(str(ORG / "org.yaml")))


@pytest.fixture(scope="module")
def builtin_engines() -> Engines:
    return Engines(PolicySet.builtin())


@pytest.fixture(scope="module")
def org_engines() -> Engines:
    return Engines(org_policies())


def rule_input(path) -> dict | None:
    """The normalized input, or None for files that are no template (nothing to compare)."""
    try:
        loaded = load_template(str(path))
    except TemplateError:
        return None
    document = loaded.document
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        return None
    return normalize(document, path.name).input


def scenario_inputs(path) -> list[dict]:
    """The input of every deployable variant (one, merged, without Conditions)."""
    document = load_template(str(path)).document
    return [normalize(document, path.name, scenario=s).input
            for s in plan(document).scenarios or [None]]


EXAMPLES = example_templates()
CORPUS_FILES = corpus_templates() or [pytest.param(None, marks=pytest.mark.skip(
    reason=f"no template corpus at {CORPUS} (the shared folder is absent)"))]


@pytest.mark.parametrize("template", EXAMPLES, ids=lambda p: p.parent.name)
def test_examples_agree(builtin_engines, org_engines, template):
    inputs = scenario_inputs(template)
    # an example of a part that cannot be analysed may have no key to compare on
    hidden = bool(json.loads((template.parent / "expected.json").read_text()).get("errors"))
    assert hidden or any(doc["keys"] for doc in inputs)
    for input_doc in inputs:
        builtin_engines.compare(input_doc)
        org_engines.compare(input_doc)


@pytest.mark.parametrize("template", CORPUS_FILES, ids=lambda p: p.name if p else "corpus")
def test_corpus_agrees(builtin_engines, template):
    input_doc = rule_input(template)
    if input_doc is None:
        pytest.skip("not a loadable template (its error is tested elsewhere)")
    builtin_engines.compare(input_doc)


def test_the_org_rule_fires_on_both_engines(org_engines):
    input_doc = rule_input(ORG / "template.yaml")
    assert [f["rule"] for f in org_engines.opa.eval_document(ENTRYPOINT, input_doc)] == ["ORG001"]
    org_engines.compare(input_doc)


# --- the product path: `kmspolicy eval --engine opa` against `--engine embedded` -------------

CLI = [sys.executable, "-c", "from kmspolicy.cli.main import entrypoint; entrypoint()"]


def corpus_sample(every: int = 3) -> list[str]:
    """A fixed third of the corpus (sorted names, every third one)."""
    return [str(path) for path in corpus_templates()[::every]]


def eval_json(engine: str, paths: list[str], *extra: str) -> tuple[int, dict, str]:
    proc = subprocess.run([*CLI, "eval", *paths, "--engine", engine, "--format", "json",
                           "--root", str(ROOT), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"eval --engine {engine} printed no JSON (exit {proc.returncode}): {proc.stderr}")
    return proc.returncode, report, proc.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_eval_gives_the_same_report_on_opa_and_embedded(jobs):
    paths = [str(p) for p in EXAMPLES] + corpus_sample()
    code, embedded, _ = eval_json("embedded", paths, "--jobs", jobs)
    opa_code, opa, stderr = eval_json("opa", paths, "--jobs", jobs)
    assert embedded["findings"], "nothing to compare"
    assert sum(f["status"] == "analyzed" for f in opa["files"]) >= len(EXAMPLES)
    assert opa_code == code, stderr
    assert opa == embedded


def test_eval_with_the_org_bundle_gives_the_same_report_on_opa_and_embedded():
    args = [str(ORG / "template.yaml"), "--bundle", str(ORG / "policies"),
            "--config", str(ORG / "org.yaml")]
    code, embedded, _ = eval_json("embedded", args)
    opa_code, opa, stderr = eval_json("opa", args)
    assert [f["rule"] for f in opa["findings"]].count("ORG001") == 1
    assert (opa_code, opa) == (code, embedded), stderr


# --- the Rego tests -------------------------------------------------------------------------

def all_modules() -> tuple[dict[str, str], dict]:
    """Built-in policies and the org pack, tests included, with the org pack's data."""
    modules = {f"kmspolicy/{name}": source for name, source in
               read_policy_dir(builtin_policy_dir() / "kmspolicy", include_tests=True).items()}
    bundle = load_bundle(str(ORG / "policies"))
    modules.update(bundle.modules)
    data = bundle.extra_data()
    data.setdefault("kmspolicy", {})["config"] = {}
    return modules, data


def rego_test_rules():
    modules, _ = all_modules()
    out = []
    for name, source in sorted(modules.items()):
        if name.endswith("_test.rego"):
            for line in source.splitlines():
                match = TEST_RULE_START.match(line)
                if match:
                    out.append(f"{package_of(source)}.{match.group(0)}")
    return sorted(set(out))


@pytest.fixture(scope="module")
def opa_with_tests():
    modules, data = all_modules()
    return real_opa(modules, data)


@pytest.mark.parametrize("rule", rego_test_rules())
def test_rego_test_rule_is_true_on_real_opa(opa_with_tests, rule):
    assert opa_with_tests.eval_document(rule) is True


def test_every_case_passes_on_regopy():
    modules, data = all_modules()
    results = run_cases(modules, data)
    assert len(results) >= 20
    assert any(r.package.endswith("acme_deletion_window_test") for r in results)
    failed = [f"{r.id}: {r.message}" for r in results if not r.passed]
    assert failed == []


# --- compiling on real OPA -------------------------------------------------------------------

def test_policies_compile_on_real_opa(opa_with_tests):
    assert opa_with_tests.eval_query("true") == [{}]


def parse_tree(source: str, name: str) -> dict:
    engine = opa_bindings.OpaEngine()
    engine.add_policy("parse.rego", "package parse\n\ntree := rego.parse_module(input.name, input.source)\n")
    return engine.eval_document("parse.tree", {"name": name, "source": source})


def strict_errors(source: str, name: str) -> list[str]:
    """What `opa check --strict` would add to a compile, from OPA's parse tree."""
    tree = parse_tree(source, name)
    errors = []
    rules = tree.get("rules") or []
    imports = [imp for imp in tree.get("imports") or [] if _ref_text(imp["path"]) != "rego.v1"]
    seen = set()
    for imp in imports:
        path = _ref_text(imp["path"])
        alias = imp.get("alias") or path.rsplit(".", 1)[-1]
        if path in seen:
            errors.append(f"{name}: duplicate import {path}")
        seen.add(path)
        if not any(alias in _vars(rule) for rule in rules):
            errors.append(f"{name}: unused import {path}")
    for rule in rules:
        head, used = rule["head"], _vars(rule)
        where = f"{name}: rule {head.get('name') or _ref_text(head.get('ref'))}"
        for arg in head.get("args") or []:
            if arg.get("type") == "var" and _real(arg["value"]) and used[arg["value"]] < 2:
                errors.append(f"{where}: unused argument {arg['value']}")
        for target, _ in _assignments(rule):
            if target in ("input", "data"):
                errors.append(f"{where}: assignment shadows {target}")
            elif _real(target) and used[target] < 2:
                errors.append(f"{where}: unused local assignment {target}")
        errors.extend(f"{where}: deprecated built-in {call}" for call in _calls(rule) & DEPRECATED)
    return errors


def _real(var: str) -> bool:
    """Not the wildcard `_` (which OPA rewrites to `$N`) nor a generated variable."""
    return not var.startswith(("$", "__")) and var != "_"


def _ref_text(ref) -> str:
    parts = (ref or {}).get("value") or []
    return ".".join(str(p["value"]) for p in parts if p.get("type") in ("var", "string"))


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _vars(rule) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in _walk(rule):
        if node.get("type") == "var" and isinstance(node.get("value"), str):
            counts[node["value"]] = counts.get(node["value"], 0) + 1
    return _Counter(counts)


class _Counter(dict):
    def __missing__(self, key) -> int:
        return 0


def _assignments(rule):
    for node in _walk(rule):
        terms = node.get("terms")
        if isinstance(terms, list) and len(terms) == 3 and _ref_text(terms[0]) == "assign" \
                and terms[1].get("type") == "var":
            yield terms[1]["value"], terms[2]


def _calls(rule) -> set[str]:
    out = set()
    for node in _walk(rule):
        terms = node.get("terms")
        if isinstance(terms, list) and terms and terms[0].get("type") == "ref":
            out.add(_ref_text(terms[0]))
        if node.get("type") == "call" and node.get("value"):
            out.add(_ref_text(node["value"][0]))
    return out


def test_strict_checks_catch_what_they_check():
    bad = ("package bad\n\nimport data.unused\n\nf(x, y) := x if {\n\tz := 1\n\tre_match(\"a\", \"a\")\n}\n")
    errors = strict_errors(bad, "bad.rego")
    assert any("unused import data.unused" in e for e in errors)
    assert any("unused argument y" in e for e in errors)
    assert any("unused local assignment z" in e for e in errors)
    assert any("deprecated built-in re_match" in e for e in errors)
    assert strict_errors("package ok\n\nimport data.lib\n\nf(x) := lib.g(x)\n", "ok.rego") == []


def test_policies_pass_the_strict_checks():
    modules, _ = all_modules()
    errors = [e for name, source in sorted(modules.items()) for e in strict_errors(source, name)]
    assert errors == []


def test_every_module_is_rego_v1():
    """OPA 1.x parses v1 by default; a v0-only construct fails here (bundles declare rego_version 1)."""
    modules, _ = all_modules()
    for name, source in modules.items():
        assert parse_tree(source, name)["package"], name
        assert not re.search(r"^import future\.keywords", source, re.MULTILINE), name
