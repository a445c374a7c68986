"""The YAML reader's one pass (bridge/load/yaml_stream.py) against its node reader: the same
data, source map (in document order) and errors for every text, whichever reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmspolicy.bridge.load import TemplateError, load_text
from kmspolicy.bridge.load import yaml_events as load_module

from .conftest import CORPUS

ROOT = Path(__file__).resolve().parent.parent
PARSERS = ["libyaml", "python"] if load_module._CParser is not None else ["python"]


@pytest.fixture(params=PARSERS)
def yaml_parser(request, monkeypatch):
    monkeypatch.setattr(load_module, "USE_LIBYAML", request.param == "libyaml")
    return request.param


def outcome(text: str, **limits):
    try:
        loaded = load_text(text, "t.yaml", any_document=True, **limits)
    except TemplateError as error:
        return "error", str(error)
    smap = loaded.source_map
    return ("loaded", repr(loaded.document), list(smap._values.items()),
            list(smap._keys.items()), smap._aliases, loaded.lines)


def both(monkeypatch, text: str, **limits):
    one_pass = outcome(text, **limits)
    monkeypatch.setattr(load_module, "READ_IN_ONE_PASS", False)
    nodes = outcome(text, **limits)
    monkeypatch.setattr(load_module, "READ_IN_ONE_PASS", True)
    return one_pass, nodes


TEXTS = [
    "A: 1\nB: -2\nC: 1.5\nD: 1.0e+3\nE: 1e3\nF: 012\nG: true\nH: yes\nI: ~\nJ:\nK: 'q'\nL: \"x\"\n",
    "R:\n  X: !Ref A\n  Y: !GetAtt A.B.C\n  Z: !GetAtt 'A.B'\n  W: !Sub ['${x}', {x: !Ref y}]\n",
    "R: !If\n  - C\n  - !Join ['', [a, b]]\n  - !Ref AWS::NoValue\nS: !Equals [!Ref a, b]\n",
    "T: |\n  one\n  two\n\nU: >-\n  folded\n   more\nV: end\n",
    "a/b: 1\n'~x': 2\n'': 3\n\"q/~\": {z: [1, [2, {}], []]}\nempty: {}\nnone: []\n",
    "K: !!str 12\nL: !!int 12\nM: !!float 1\nN: !!bool TRUE\nO: !!null ~\nP: !!map {a: 1}\n",
    "Q: !!seq [1]\nR: ! plain\n- 1\n",
    "- 1\n- two\n- [3]\n",
    "just text\n",
    "~\n",
    "",
    "# only a comment\n",
    "A: !Unknown x\n",
    "A: !!binary aGk=\n",
    "A: !!int [1]\n",
    "A: !!str {a: 1}\n",
    "A: 1\n---\nB: 2\n",
    "A: [1, 2\nB: 3\n",
    "A: 1\nA: 2\n",
    "A: 1\nA: 2\nB: !Foo x\n",
    "A: !!int x\nB: [\n",
    "A: !!int x\nB: 99999999999999999999999999999999999999999\n",
    "A: 1e999\n" "B: 1.0e+999\n",
    "? [a, b]\n: 1\n",
    "? {a: 1, a: 2}\n: 1\n",
    "!Ref a: 1\n",
    "!!str a: 1\n",
    "<<: {a: 1}\nb: 2\n",
    "'<<': 1\n",
    "A: &x {k: 1}\nB: *x\nC: [*x, *x]\n",
    "A: *nothing\n",
    "A: &x 1\n",
    "A:\n  - &l [1, 2]\n  - <<: *l\n",
    "A: !Ref\n",
    "A: !GetAtt\n",
    "A: !GetAtt [a, b]\n",
    "A: \"\\u2028x\"\n\u2028B: 1\r\nC: 2\rD: 3\n",
]


@pytest.mark.parametrize("text", TEXTS)
def test_one_pass_and_nodes_agree(monkeypatch, yaml_parser, text):
    one_pass, nodes = both(monkeypatch, text)
    assert one_pass == nodes


@pytest.mark.parametrize("limits", [{"max_nodes": n} for n in (1, 2, 3, 5, 8, 13)]
                         + [{"max_depth": d} for d in (1, 2, 3)])
def test_the_limits_stop_both_at_the_same_node(monkeypatch, yaml_parser, limits):
    text = "A:\n  B: [1, [2, 3], {c: 4}]\n  D: !If [x, {e: 5}, [6]]\nF: 7\n"
    one_pass, nodes = both(monkeypatch, text, **limits)
    assert one_pass == nodes
    assert one_pass[0] == "error"


def yaml_files() -> list[Path]:
    found = [p for p in (ROOT / "examples").rglob("*") if p.suffix in (".yaml", ".yml")]
    found += [p for p in (ROOT / "tests" / "data").rglob("*") if p.suffix in (".yaml", ".yml")]
    if CORPUS.is_dir():
        found += [p for p in CORPUS.iterdir() if p.suffix in (".yaml", ".yml", ".template")]
    return sorted(found)


def test_one_pass_and_nodes_agree_on_every_yaml_file_and_its_prefixes(monkeypatch):
    files = yaml_files()
    assert len(files) > 50
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        one_pass, nodes = both(monkeypatch, text)
        assert one_pass == nodes, path
        for cut in range(1, 6):  # a cut anywhere: a different error, or a shorter document
            prefix = text[: len(text) * cut // 6]
            one_pass, nodes = both(monkeypatch, prefix)
            assert one_pass == nodes, (path, cut)


def test_a_plain_template_is_read_in_one_pass_and_an_anchored_one_through_nodes(monkeypatch):
    def no_nodes(self, parser):
        raise AssertionError("read through nodes")

    monkeypatch.setattr(load_module._Composer, "run", no_nodes)
    assert load_text("Resources:\n  K: {Type: !Sub 'AWS::KMS::Key'}\n", "t.yaml").document
    with pytest.raises(AssertionError, match="through nodes"):
        load_text("Resources: &r\n  K: {Type: 'AWS::KMS::Key'}\nOther: *r\n", "t.yaml")
