"""The compiled-bundle cache of the embedded engine: same findings, rebuilt on any change."""

from __future__ import annotations

import json

import pytest
import regopy

from kmspolicy.bridge.engines import bundle_cache
from kmspolicy.bridge.engines.embedded import EmbeddedEngine
from kmspolicy.bridge.pipeline import PolicySet

from .conftest import corpus_templates, example_templates

CONFIG = {"rules": {"KP001": {"severity": "low"}}, "intent": {"admins": ["role/Admin"]}}


@pytest.fixture(scope="module")
def docs(analyzer) -> list[dict]:
    """Rule inputs of the examples and of some corpus templates, from the pipeline."""
    reports = [analyzer.analyze(str(path)) for path in example_templates() + corpus_templates()[:12]]
    return [report.input for report in reports if report.input and report.input["keys"]]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("KMSPOLICY_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def builds(monkeypatch):
    """How many times the policies were compiled."""
    count = []
    original = regopy.Interpreter.build

    def counting_build(self, *args, **kwargs):
        count.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(regopy.Interpreter, "build", counting_build)
    return count


def engine(config: dict | None = None) -> EmbeddedEngine:
    policies = PolicySet.builtin(config=config)
    return EmbeddedEngine(policies.modules, policies.data())


def canonical(findings: list[dict]) -> list[str]:
    return sorted(json.dumps(f, sort_keys=True) for f in findings)


def test_a_cached_bundle_gives_the_compiled_findings(docs, cache, builds):
    assert len(docs) >= 5
    compiled = engine(CONFIG)
    assert len(builds) == 1 and len(list(cache.glob("*.rbb"))) == 1
    cached = engine(CONFIG)
    assert len(builds) == 1, "the second engine loaded the cache instead of compiling"
    for doc in docs:
        assert canonical(cached.findings(doc)) == canonical(compiled.findings(doc))


def test_other_config_or_policies_are_other_files(cache, builds):
    engine()
    engine(CONFIG)
    policies = PolicySet.builtin()
    extra = {**policies.modules, "extra.rego": "package kmspolicy.extra\n\nx := 1\n"}
    EmbeddedEngine(extra, policies.data())
    assert len(builds) == 3
    assert len(list(cache.glob("*.rbb"))) == 3


def test_a_file_that_does_not_load_is_replaced(docs, cache, builds):
    doc = docs[0]
    expected = canonical(engine().findings(doc))
    [file] = cache.glob("*.rbb")
    file.write_bytes(b"not a bundle")
    assert canonical(engine().findings(doc)) == expected
    assert len(builds) == 2
    assert file.read_bytes() != b"not a bundle"


def test_off_writes_nothing(tmp_path, monkeypatch, builds):
    monkeypatch.setenv("KMSPOLICY_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    engine()
    engine()
    assert len(builds) == 2
    assert not list(tmp_path.rglob("*.rbb"))


def test_a_cache_that_cannot_be_written_is_skipped(docs, tmp_path, monkeypatch, builds):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("KMSPOLICY_CACHE_DIR", str(blocker / "cache"))
    doc = docs[0]
    assert engine().findings(doc) == engine().findings(doc)
    assert len(builds) == 2


def test_old_files_are_pruned(cache):
    cache.mkdir()
    for index in range(bundle_cache.KEEP + 3):
        (cache / f"{index:064}.rbb").write_bytes(b"x")
    engine()
    assert len(list(cache.glob("*.rbb"))) == bundle_cache.KEEP


def test_the_key_covers_every_input_of_the_build():
    base = ({"a.rego": "package a"}, {"k": 1}, "data.a", "1.5.2")
    key = bundle_cache.bundle_key(*base)
    assert bundle_cache.bundle_key({"a.rego": "package a"}, {"k": 1}, "data.a", "1.5.2") == key
    variants = [({"b.rego": "package a"}, {"k": 1}, "data.a", "1.5.2"),
                ({"a.rego": "package b"}, {"k": 1}, "data.a", "1.5.2"),
                ({"a.rego": "package a"}, {"k": 2}, "data.a", "1.5.2"),
                ({"a.rego": "package a"}, {"k": 1}, "data.b", "1.5.2"),
                ({"a.rego": "package a"}, {"k": 1}, "data.a", "1.5.3")]
    assert len({bundle_cache.bundle_key(*v) for v in variants} | {key}) == 6
