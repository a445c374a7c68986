"""Function names defined at several arities in different packages (bridge/engines/regopy_arity.py):
regopy's compiler crashes (or refuses the policy) when the first definition of a name is not its widest; the
embedded engine adds a module that defines it widest first, and evaluates as OPA does."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kmspolicy.bridge.engines.embedded import EmbeddedEngine
from kmspolicy.bridge.engines.regopy_arity import GUARD_MODULE, function_arities, with_arity_guard
from kmspolicy.bridge.pipeline import PolicySet

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed" / "template.yaml"
# a pack whose helper takes more arguments than the first `_where` of the built-in rules (three)
ACME = ("# METADATA\n# title: acme\n# custom:\n#   id: ORG009\n#   severity: low\n"
        "package kmspolicy.rules.acme\n\nimport data.kmspolicy.lib.ids\nimport data.kmspolicy.lib.result\n\n"
        'findings contains result.finding("ORG009", key, _where(key, 1, 2, 3), "acme", []) if {\n'
        "\tsome kid in ids.keys\n\tkey := input.keys[kid]\n}\n\n_where(key, _, _, _) := key.path\n")


def _package(name: str, arity: int) -> str:
    parameters = ", ".join(f"a{i}" for i in range(arity))
    arguments = ", ".join(["input.k"] * arity)
    return f"package {name}\n\nf({parameters}) := {arity}\n\nfindings := {{f({arguments})}}\n"


def test_regopy_fails_on_a_narrower_first_definition_without_the_guard():
    """Why the guard exists (a crash, or a bogus error such as "unify failed ... cycle"): if
    this fails, regopy builds such policies and the guard can go."""
    code = ("import regopy\n"
            f"i = regopy.Interpreter()\n"
            f"i.add_module('p0.rego', {_package('p0', 1)!r})\n"
            f"i.add_module('p1.rego', {_package('p1', 2)!r})\n"
            "b = i.build('x := [data.p0.findings, data.p1.findings]')\n"
            "print('built' if b.ok() else 'refused')\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert not (run.returncode == 0 and run.stdout.strip() == "built"), \
        "regopy builds this now: bridge/engines/regopy_arity.py may go"


_SHAPES = [  # (parameter as written, argument that matches it)
    ("a{i}", "1"), ("_", "true"), ('"x,(y"', '"x,(y"'), ('{{"k": a{i}}}', '{"k": 2}'), ("[a{i}, _]", "[1, 2]"),
]


def _random_modules(rng: random.Random) -> tuple[dict[str, str], list[list]]:
    """Packages defining functions f, g, _where at random arities and parameter shapes, each
    package's findings holding [name, value] of each call; and what each should hold."""
    modules, expected = {}, []
    for index in range(rng.randint(2, 6)):
        lines, calls, values = [f"package p{index}", ""], [], []
        for name in rng.sample(["f", "g", "_where"], rng.randint(1, 3)):
            arity = rng.randint(0, 4)
            shapes = [rng.choice(_SHAPES) for _ in range(arity)]
            parameters = ", ".join(shape.format(i=i) for i, (shape, _) in enumerate(shapes))
            lines += [f"{name}({parameters}) := {index * 10 + arity}", ""]
            calls.append(f'["{name}", {name}({", ".join(argument for _, argument in shapes)})]')
            values.append([name, index * 10 + arity])
        lines.append(f"findings := {{{', '.join(calls)}}}")
        modules[f"p{index}.rego"] = "\n".join(lines) + "\n"
        expected.append(sorted(values))
    return modules, expected


@pytest.mark.parametrize("seed", range(25))
def test_random_arities_evaluate_as_written(seed):
    modules, expected = _random_modules(random.Random(seed))
    query = "[" + ", ".join(f"data.p{i}.findings" for i in range(len(modules))) + "]"
    got = EmbeddedEngine(modules, {}, query=query).evaluate({"k": 1})
    assert [sorted(found) for found in got] == expected


def test_the_guard_is_added_only_when_a_first_definition_is_narrower():
    wide_first = {"p0.rego": _package("p0", 2), "p1.rego": _package("p1", 1)}
    assert with_arity_guard(wide_first) is wide_first
    narrow_first = {"p0.rego": _package("p0", 1), "p1.rego": _package("p1", 2)}
    guarded = with_arity_guard(narrow_first)
    assert list(guarded) == [GUARD_MODULE, "p0.rego", "p1.rego"]
    assert "\nf(_a0, _a1) := true\n" in guarded[GUARD_MODULE]


@pytest.mark.parametrize(("source", "expected"), [
    ("package p\n\nf(a, b) := 1\n", [("f", 2)]),
    ("package p\n\nf() := 1\n\ng(x) if {\n\tx\n}\n\nh(x) = 2\n\nk(x) {\n\tx\n}\n",
     [("f", 0), ("g", 1), ("h", 1), ("k", 1)]),
    ('package p\n\nf("a,b", [c, d], {"e": g}) := 1\n', [("f", 3)]),
    ('package p\n\nf(x, "(") := 1 # g(a, b) := 2\n', [("f", 2)]),
    ("package p\n\ndefault f(_) := false\n\nf(x) := x\n", [("f", 1), ("f", 1)]),
    ("package p\n\nr if {\nf(1, 2) == 3\n}\n\nf(a, b) := 3\n", [("f", 2)]),  # a call at column 0 is not a head
    ("package p\n\n# f(a, b) := 1\nx := `\nno(a) := 1`\n", []),
])
def test_function_arities_read_heads_not_calls_strings_or_comments(source, expected):
    assert function_arities(source) == expected


def _arities_from_rego_scan(source: str) -> list[tuple[str, int]]:
    """The same reading through rego_scan's masked text and bracket pairs (the pack checks' lexer)."""
    from kmspolicy.bridge.rego_scan import HEAD, bracket_pairs, scan, top_level

    masked = scan(source).masked
    pairs = bracket_pairs(masked)
    found = []
    for match in re.finditer(r"^(?:default[ \t]+)?" + HEAD.pattern.lstrip("^"), masked, re.MULTILINE):
        opening = match.end() - 1
        closing = pairs[opening]
        if not re.match(r"\s*(:=|=(?!=)|if\b|\{)", masked[closing + 1:]):
            continue
        start, count = opening + 1, 0 if not masked[opening + 1:closing].strip() else 1
        while (comma := top_level(masked, pairs, start, closing, ",")) is not None:
            count, start = count + 1, comma + 1
        found.append((match.group(1), count))
    return found


def test_every_builtin_and_example_module_reads_as_rego_scan_reads_it():
    files = [*ROOT.glob("policies/**/*_test.rego"), *ROOT.glob("examples/**/*.rego")]
    sources = {**PolicySet.builtin().modules, **{str(p): p.read_text() for p in files}}
    assert len(sources) > 40
    for name, source in sources.items():
        assert function_arities(source) == _arities_from_rego_scan(source), name


def test_a_pack_helper_wider_than_a_builtin_helper_of_its_name_runs_on_the_embedded_engine(tmp_path):
    pytest.importorskip("opa_bindings", reason="the pack is checked with OPA's compiler")
    rules = tmp_path / "kmspolicy" / "rules"
    rules.mkdir(parents=True)
    (rules / "acme.rego").write_text(ACME)
    outputs = {}
    for engine in ("embedded", "opa"):
        run = subprocess.run([sys.executable, "-m", "kmspolicy.cli.main", "eval", "--jobs", "1", "--timeout", "0",
                              "--engine", engine, "--bundle", str(tmp_path), "--format", "json", str(SEED)],
                             capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert run.returncode == 1, run.stderr
        outputs[engine] = json.loads(run.stdout)["findings"]
    assert outputs["embedded"] == outputs["opa"]
    assert [f["line"] for f in outputs["embedded"] if f["rule"] == "ORG009"] == [12]  # the key


def test_kmspolicy_test_runs_such_a_pack(tmp_path):
    rules = tmp_path / "kmspolicy" / "rules"
    rules.mkdir(parents=True)
    (rules / "acme.rego").write_text(ACME)
    (rules / "acme_test.rego").write_text(
        "package kmspolicy.rules.acme_test\n\nimport data.kmspolicy.lib.fixtures as fx\n"
        "import data.kmspolicy.rules.acme\n\n"
        'cases["fail_one_key"] := {\n'
        '\t"input": fx.input_with(fx.key([fx.allow(0, [fx.account(0)], ["kms:*"])])),\n'
        '\t"findings": {{"rule": "ORG009", "resource": "Key", "path": "/Resources/Key", "message": "acme", '
        '"related": []}},\n}\n\n'
        "test_cases if {\n\tevery c in cases {\n\t\tacme.findings == c.findings with input as c.input\n\t}\n}\n")
    run = subprocess.run([sys.executable, "-m", "kmspolicy.cli.main", "test", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASS: 1/1" in run.stdout
