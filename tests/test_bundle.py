"""Guardrail bundles: build, inspect, load (file or folder, hostile input), and use with
`eval --bundle`; `kmspolicy input` and `kmspolicy test`."""

from __future__ import annotations

import io
import json
import os
import tarfile

import pytest
from click.testing import CliRunner

from kmspolicy.bridge import bundle as bundles
from kmspolicy.bridge.bundle import BundleError, build_bundle, load_bundle, policy_set
from kmspolicy.bridge.pack_checks import compile_with_opa
from kmspolicy.bridge.pipeline import PolicySet
from kmspolicy.cli.main import main

from .conftest import ROOT

ORG = ROOT / "examples" / "org-bundle"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(autouse=True)
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def org_bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "guardrails.tar.gz"
    result = run("bundle", "build", "-o", out, "--revision", "2026-11-28",
                 "--config", ORG / "org.yaml", "--policies", ORG / "policies")
    assert result.exit_code == 0, result.output
    return out


def tarball(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as archive:
        for info, content in entries:
            archive.addfile(info, io.BytesIO(content) if content is not None else None)
    return raw.getvalue()


def regular(name: str, content: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    return info, content


RULE = b"package kmspolicy.rules.x\n\nfindings := set()\n"


# --- build and inspect ------------------------------------------------------------------------

def test_built_bundle_layout(org_bundle):
    with tarfile.open(org_bundle, "r:gz") as archive:
        names = archive.getnames()
        manifest = json.loads(archive.extractfile(".manifest").read())
        data = json.loads(archive.extractfile("data.json").read())
    assert manifest == {"revision": "2026-11-28", "roots": ["kmspolicy", "acme"], "rego_version": 1,
                        "metadata": {"kmspolicy_version": manifest["metadata"]["kmspolicy_version"]}}
    assert "kmspolicy/main.rego" in names
    assert "kmspolicy/rules/acme_deletion_window.rego" in names
    assert not [n for n in names if n.endswith("_test.rego")]
    assert data["kmspolicy"]["config"]["rules"] == {"ORG001": {"severity": "high"}}
    assert data["acme"] == {"kms": {"min_pending_window_days": 30}}


def test_build_is_reproducible_and_revision_defaults_to_a_content_hash(tmp_path):
    one, two = tmp_path / "1.tar.gz", tmp_path / "2.tar.gz"
    assert run("bundle", "build", "-o", one).exit_code == 0
    assert run("bundle", "build", "-o", two).exit_code == 0
    assert one.read_bytes() == two.read_bytes()
    revision = load_bundle(str(one)).manifest["revision"]
    assert len(revision) == 16
    assert run("bundle", "build", "-o", two, "--config", ORG / "org.yaml").exit_code == 0
    assert load_bundle(str(two)).manifest["revision"] != revision


def test_build_refuses_a_pack_that_does_not_compile(tmp_path):
    pack = tmp_path / "pack" / "kmspolicy" / "rules"
    pack.mkdir(parents=True)
    (pack / "broken.rego").write_text("# METADATA\n# custom:\n#   id: BAD001\n#   severity: low\n"
                                      "package kmspolicy.rules.broken\n\nfindings contains x if {\n")
    result = run("bundle", "build", "-o", tmp_path / "out.tar.gz", "--policies", tmp_path / "pack")
    assert result.exit_code == 2
    assert "kmspolicy/rules/broken.rego:8: rego_parse_error: unexpected eof token" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out.tar.gz").exists()


def test_inspect_lists_manifest_rules_and_config(org_bundle):
    result = run("bundle", "inspect", org_bundle)
    assert result.exit_code == 0, result.output
    assert "revision: 2026-11-28" in result.output
    assert "roots: kmspolicy, acme" in result.output
    assert "ORG001   medium    Key deletion window shorter than ACME's minimum" in result.output
    assert "KP001" in result.output
    assert "require_rotation: true" in result.output
    doc = json.loads(run("bundle", "inspect", "--format", "json", org_bundle).output)
    org001 = next(r for r in doc["rules"] if r["id"] == "ORG001")
    assert org001["package"] == "kmspolicy.rules.acme_deletion_window"
    assert "PendingWindowInDays" in org001["remediation"]
    assert doc["config"]["require_rotation"] is True and doc["data"] == ["acme/kms"]


# --- eval --bundle ----------------------------------------------------------------------------

@pytest.mark.parametrize("source", ["file", "folder"])
def test_eval_with_the_org_bundle_reports_its_rule_on_its_line(org_bundle, source):
    where = org_bundle if source == "file" else ORG / "policies"
    result = run("eval", "--bundle", where, "-f", "json", "examples/org-bundle/template.yaml")
    doc = json.loads(result.output)
    assert doc["errors"] == []
    [finding] = doc["findings"]
    assert (finding["rule"], finding["line"], finding["column"]) == ("ORG001", 14, 28)
    assert finding["path"] == "/Resources/ReportsKey/Properties/PendingWindowInDays"
    assert finding["severity"] == ("high" if source == "file" else "medium")  # the bundle's config
    assert finding["title"] == "Key deletion window shorter than ACME's minimum"
    assert result.exit_code == 1


def test_without_the_bundle_the_org_rule_is_absent():
    doc = json.loads(run("eval", "-f", "json", "examples/org-bundle/template.yaml").output)
    assert doc["findings"] == []


def test_config_flag_overrides_the_bundle_config(org_bundle, tmp_path):
    override = tmp_path / "local.yaml"
    override.write_text("rules:\n  ORG001:\n    enabled: false\n")
    result = run("eval", "--bundle", org_bundle, "--config", override, "-f", "json",
                 "examples/org-bundle/template.yaml")
    assert json.loads(result.output)["findings"] == []


def test_bundle_data_reaches_the_rules(tmp_path):
    pack = tmp_path / "pack"
    (pack / "acme" / "kms").mkdir(parents=True)
    (pack / "kmspolicy" / "rules").mkdir(parents=True)
    source = (ORG / "policies/kmspolicy/rules/acme_deletion_window.rego").read_text()
    (pack / "kmspolicy/rules/acme_deletion_window.rego").write_text(source)
    (pack / "acme/kms/data.json").write_text('{"min_pending_window_days": 5}')
    doc = json.loads(run("eval", "--bundle", pack, "-f", "json",
                         "examples/org-bundle/template.yaml").output)
    assert doc["findings"] == []  # 7 days is enough for a 5-day minimum


def test_bundle_main_rego_replaces_the_builtin_file():
    loaded = load_bundle(str(ORG / "policies"))
    policies = policy_set([loaded], {})
    assert set(PolicySet.builtin().modules) < set(policies.modules)
    assert "kmspolicy/rules/acme_deletion_window_test.rego" not in policies.modules
    assert policies.rules["ORG001"].severity == "medium"


@pytest.mark.parametrize("problem, message", [
    ("missing", "no such bundle file or folder"),
    ("not-gzip", "not a gzip-compressed tarball"),
    ("bad-config", "data.kmspolicy.config: require_rotation"),
    ("no-metadata", "has no METADATA block"),
])
def test_eval_with_a_bad_bundle_is_one_line_exit_2(tmp_path, problem, message):
    path = tmp_path / "b.tar.gz"
    if problem == "not-gzip":
        path.write_text("hello")
    elif problem == "bad-config":
        path.write_bytes(tarball([regular("data.json", b'{"kmspolicy": {"config": {"require_rotation": "yes"}}}')]))
    elif problem == "no-metadata":
        path.write_bytes(tarball([regular("kmspolicy/rules/x.rego", RULE)]))
    result = run("eval", "--bundle", path, "examples/seed/template.yaml")
    assert result.exit_code == 2
    assert message in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


# --- loading hostile bundles ------------------------------------------------------------------

def link(name: str, target: str, kind=tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


@pytest.mark.parametrize("entries, message", [
    ([regular("../escape.rego", RULE)], "leaves the bundle"),
    ([regular("kmspolicy/../../escape.rego", RULE)], "leaves the bundle"),
    ([regular("//etc/passwd.rego", RULE)], "absolute path"),
    ([regular("C:/x.rego", RULE)], "absolute path"),
    ([regular("a\\b.rego", RULE)], "not an acceptable file name"),
    ([link("kmspolicy/x.rego", "/etc/passwd")], "a link or a special file"),
    ([link("kmspolicy/x.rego", "kmspolicy/y.rego", tarfile.LNKTYPE)], "a link or a special file"),
    ([link("dev", "", tarfile.CHRTYPE)], "a link or a special file"),
    ([regular("x.rego", RULE), regular("./x.rego", RULE)], "appears twice"),
    ([regular("/".join(["d"] * 40) + "/x.rego", RULE)], "nested more than"),
    ([regular("x.rego", b"\xff\xfe")], "not UTF-8"),
    ([regular("x.rego", b"# no package here\n")], "no package declaration"),
    ([regular("data.json", b"[1, 2]")], "must hold an object"),
    ([regular("data.json", b"{")], "data.json:1: not valid JSON"),
    ([regular(".manifest", b'{"roots": ["acme"]}'), regular("x.rego", RULE)], "outside the bundle's roots"),
    ([regular(".manifest", b'{"rego_version": 0}')], "rego_version 0 is not supported"),
    ([regular(".manifest", b'{"revision": 7}')], "revision must be a string"),
    ([regular(".signatures.json", b"{}")], "signed bundles are not supported"),
    ([regular("policy.wasm", b"\0asm")], "Wasm policies are not supported"),
    ([regular("a/data.json", b'{"b": 1}'), regular("data.json", b'{"a": {"b": 2}}')], "conflicts"),
])
def test_hostile_archives_are_refused(tmp_path, entries, message):
    path = tmp_path / "evil.tar.gz"
    path.write_bytes(tarball(entries))
    with pytest.raises(BundleError, match=message) as error:
        load_bundle(str(path))
    assert str(error.value).startswith(str(path))


def test_opa_build_style_names_with_a_leading_slash_are_read_from_the_root(tmp_path):
    path = tmp_path / "opa-built.tar.gz"
    path.write_bytes(tarball([regular("/.manifest", b'{"revision": "r1", "roots": ["kmspolicy"]}'),
                              regular("/kmspolicy/rules/x.rego", RULE),
                              regular("/data.json", b'{"kmspolicy": {"config": {}}}')]))
    loaded = load_bundle(str(path))
    assert loaded.manifest["revision"] == "r1"
    assert list(loaded.modules) == ["kmspolicy/rules/x.rego"]


def test_limits_fail_fast(tmp_path, monkeypatch):
    monkeypatch.setattr(bundles, "MAX_FILES", 10)
    many = tmp_path / "many.tar.gz"
    many.write_bytes(tarball([regular(f"f{i}.txt", b"") for i in range(11)]))
    with pytest.raises(BundleError, match="more than 10 files"):
        load_bundle(str(many))
    monkeypatch.setattr(bundles, "MAX_FILE_BYTES", 1000)
    big = tmp_path / "big.tar.gz"
    big.write_bytes(tarball([regular("data.json", b"{" + b" " * 2000 + b"}")]))
    with pytest.raises(BundleError, match="more than the 1000 allowed for one file"):
        load_bundle(str(big))


def test_a_decompression_bomb_stops_at_the_bound(tmp_path, monkeypatch):
    """Files the loader skips (not Rego nor data) still cost decompression: bounded too."""
    monkeypatch.setattr(bundles, "MAX_TOTAL_BYTES", 1 << 20)
    path = tmp_path / "bomb.tar.gz"
    path.write_bytes(tarball([regular(f"junk{i}.bin", bytes(1 << 20)) for i in range(64)]))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(BundleError, match="decompresses to more than"):
        load_bundle(str(path))


def test_an_oversized_archive_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(bundles, "MAX_ARCHIVE_BYTES", 100)
    path = tmp_path / "large.tar.gz"
    path.write_bytes(tarball([regular("x.rego", RULE * 20)]))
    with pytest.raises(BundleError, match="more than the 100 allowed"):
        load_bundle(str(path))


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_folders_with_links_are_refused(tmp_path):
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "x.rego").symlink_to("/etc/hostname")
    with pytest.raises(BundleError, match="a link or a special file"):
        load_bundle(str(folder))
    (folder / "x.rego").unlink()
    (folder / "sub").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(BundleError, match="is a symbolic link"):
        load_bundle(str(folder))
    (folder / "sub").unlink()
    (tmp_path / "link").symlink_to(folder, target_is_directory=True)
    with pytest.raises(BundleError, match="may not be a symbolic link"):
        load_bundle(str(tmp_path / "link"))


def test_built_bundles_round_trip(tmp_path):
    policies = PolicySet.builtin(config={"require_rotation": True})
    content = build_bundle(policies.modules, policies.config, data={"acme": {"x": 1}})
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as archive:
        members = archive.getmembers()
    assert all(m.isfile() and m.mtime == 0 and m.uid == 0 and not m.name.startswith("/")
               for m in members)
    bundle = tmp_path / "built.tar.gz"
    bundle.write_bytes(content)
    loaded = load_bundle(str(bundle))
    compile_with_opa(loaded.rule_modules(), loaded.data)  # OPA 1.20 loads it (PackError if not)


# --- kmspolicy input and kmspolicy test -------------------------------------------------------

def test_input_prints_exactly_what_the_rules_receive(analyzer):
    result = run("input", "examples/seed/template.yaml")
    assert result.exit_code == 0
    report = analyzer.analyze("examples/seed/template.yaml", "examples/seed/template.yaml")
    assert json.loads(result.output) == report.input
    from kmspolicy.bridge.schema import validate

    validate(json.loads(result.output), "input-v2")


def test_input_feeds_opa_eval_directly():
    from .conftest import require_in_ci

    opa_bindings = require_in_ci("opa_bindings")
    printed = json.loads(run("input", "--compact", "examples/org-bundle/template.yaml").output)
    policies = policy_set([load_bundle(str(ORG / "policies"))], {})
    engine = opa_bindings.OpaEngine()
    for name, source in policies.modules.items():
        engine.add_policy(name, source)
    engine.add_data(policies.data())
    assert [f["rule"] for f in engine.eval_document("kmspolicy.main.findings", printed)] == ["ORG001"]


def test_input_of_a_broken_template_is_one_line_exit_2(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources:\n  Key: [unclosed\n")
    result = run("input", broken)
    assert result.exit_code == 2
    assert f"{broken}:" in result.output and "Traceback" not in result.output


def test_test_command_runs_the_org_pack_cases():
    result = run("test", "examples/org-bundle/policies", "-v")
    assert result.exit_code == 0, result.output
    assert 'data.kmspolicy.rules.acme_deletion_window_test.cases["fail_seven_days"]: PASS' in result.output
    assert "PASS: 4/4" in result.output
    assert "kmspolicy/rules/public_key_test" not in result.output  # only the given folder


def test_test_command_reports_a_failing_case(tmp_path):
    pack = tmp_path / "pack" / "kmspolicy" / "rules"
    pack.mkdir(parents=True)
    for name in ("acme_deletion_window.rego", "acme_deletion_window_test.rego"):
        source = (ORG / "policies/kmspolicy/rules" / name).read_text()
        (pack / name).write_text(source.replace("ACME requires at least", "ACME wants"))
    (pack / "acme_deletion_window_test.rego").write_text(
        (ORG / "policies/kmspolicy/rules/acme_deletion_window_test.rego").read_text())
    result = run("test", tmp_path / "pack")
    assert result.exit_code == 1
    assert 'cases["fail_seven_days"]: FAIL' in result.output
    assert "FAIL: 2/4" in result.output and "unexpected:" in result.output


def test_test_command_without_cases_is_exit_2(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("test", tmp_path / "empty")
    assert result.exit_code == 2
    assert "no test cases found" in result.output
