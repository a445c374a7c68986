"""The compiled-bundle cache of the embedded engine: same findings, rebuilt on any change."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
import regopy

from kmspolicy.bridge.engines import bundle_cache
from kmspolicy.bridge.engines.embedded import EmbeddedEngine
from kmspolicy.bridge.pipeline import PolicySet

from .conftest import EXAMPLES, ROOT, corpus_templates, example_templates

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


# --- trust: the folder, the entry's owner and mode, its hash --------------------------------

EMPTY_MAIN = {"kmspolicy/main.rego": "package kmspolicy.main\n\nfindings := set()\n"}


def entry(cache) -> tuple:
    [rbb] = cache.glob("*" + bundle_cache.SUFFIX)
    return rbb, rbb.with_suffix(bundle_cache.HASH_SUFFIX)


def planted_bundle(tmp_path, monkeypatch) -> bytes:
    """A valid compiled bundle of other policies: one that finds nothing, ever."""
    folder = tmp_path / "elsewhere"
    monkeypatch.setenv("KMSPOLICY_CACHE_DIR", str(folder))
    EmbeddedEngine(EMPTY_MAIN)
    [rbb] = folder.glob("*" + bundle_cache.SUFFIX)
    return rbb.read_bytes()


def test_an_entry_is_saved_with_its_hash_in_a_private_folder(cache):
    engine()
    rbb, digest = entry(cache)
    assert digest.read_text().strip() == bundle_cache._entry_hash(rbb, rbb.stem)[0]
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700


@pytest.mark.parametrize("keep_hash", [True, False], ids=["hash-kept", "hash-removed"])
def test_a_planted_entry_under_the_expected_key_is_rejected_and_rebuilt(docs, tmp_path, monkeypatch,
                                                                      capsys, builds, keep_hash):
    planted = planted_bundle(tmp_path, monkeypatch)
    folder = tmp_path / "cache"
    monkeypatch.setenv("KMSPOLICY_CACHE_DIR", str(folder))
    expected = canonical(engine().findings(docs[0]))
    assert expected
    rbb, digest = entry(folder)
    rbb.write_bytes(planted)
    if not keep_hash:
        digest.unlink()
    capsys.readouterr()
    builds.clear()
    assert canonical(engine().findings(docs[0])) == expected
    assert len(builds) == 1, "the planted entry was used"
    warning = capsys.readouterr().err
    reason = "does not match its hash" if keep_hash else "has no .sha256 beside it (planted"
    assert warning.startswith(f"kmspolicy: warning: {rbb}: this compiled-bundle cache entry {reason}")
    assert "rejected, the policies are compiled again" in warning and warning.count("\n") == 1
    assert rbb.read_bytes() != planted
    assert digest.read_text().strip() == bundle_cache._entry_hash(rbb, rbb.stem)[0]


def test_an_entry_others_may_write_is_rejected(docs, cache, capsys, builds):
    engine()
    rbb, _ = entry(cache)
    rbb.chmod(0o666)
    builds.clear()
    engine()
    assert len(builds) == 1
    assert "is writable by others (mode 666): rejected" in capsys.readouterr().err


@pytest.mark.parametrize("problem", ["writable", "foreign"])
def test_a_folder_others_may_write_or_own_is_neither_read_nor_written(cache, capsys, builds,
                                                                      monkeypatch, problem):
    engine()
    rbb, _ = entry(cache)
    before = rbb.stat().st_mtime_ns
    if problem == "writable":
        cache.chmod(0o777)
        reason = "is writable by others (mode 777): not used"
    else:
        monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 1)
        reason = f"is owned by another user (uid {os.getuid()}): not used"
    monkeypatch.setattr(bundle_cache, "_warned_folders", set())
    builds.clear()
    engine()
    engine(CONFIG)
    assert len(builds) == 2  # the good entry was not read...
    assert [p.name for p in cache.glob("*" + bundle_cache.SUFFIX)] == [rbb.name]  # ...nor one written
    assert rbb.stat().st_mtime_ns == before
    err = capsys.readouterr().err
    assert err.count(reason) == 1, err  # warned once per folder
    cache.chmod(0o700)


def test_the_cli_warns_once_about_an_untrusted_folder_whatever_the_workers(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    folder.chmod(0o777)
    seed = EXAMPLES / "seed" / "template.yaml"
    proc = subprocess.run([sys.executable, "-c", "from kmspolicy.cli.main import entrypoint; entrypoint()",
                           "eval", "-q", "--jobs", "2", str(seed), str(EXAMPLES / "lockout")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KMSPOLICY_CACHE_DIR": str(folder)})
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("the compiled-bundle cache is writable by others (mode 777): not used") == 1
    assert not list(folder.iterdir())


def test_the_cache_format_is_part_of_the_key(monkeypatch):
    """An older kmspolicy's entries (no hash beside them) have other names: never read, no warning."""
    args = ({"a.rego": "package a"}, {}, "data.a", "1.5.2")
    key = bundle_cache.bundle_key(*args)
    monkeypatch.setattr(bundle_cache, "FORMAT", "")
    assert bundle_cache.bundle_key(*args) != key
