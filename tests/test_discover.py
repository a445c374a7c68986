"""What `kmspolicy eval DIR` analyzes in an ordinary repository (cli/discover.py, cli/sniff.py):
templates recognized from their text, everything else skipped with its reason, cdk.out
searched, build copies and virtualenvs left out, --exclude, and a scan that finds nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmspolicy.cli.discover import discover, matching_glob
from kmspolicy.cli.main import main
from kmspolicy.cli.sniff import looks_like_template

from .conftest import ROOT

REPO = ROOT / "tests" / "data" / "repo"
BAD = ROOT / "tests" / "data" / "bad"
SEED = ROOT / "examples" / "seed" / "template.yaml"
# (rule, file, line, severity) of tests/data/repo, run from its folder (.kmspolicy.yaml applies)
REPO_FINDINGS = {
    ("KP001", "cdk.out/BillingStack.template.json", 12, "medium"),
    ("KP003", "services/billing/stack.yml", 19, "high"),
    ("KP005", "services/billing/stack.yml", 23, "critical"),
    ("KP003", "template.yaml", 21, "high"),
    ("KP011", "template.yaml", 8, "high"),  # low by default; High in the repository's config
}
REPO_TEMPLATES = ["cdk.out/BillingStack.template.json", "services/billing/stack.yml", "template.yaml"]
REPO_SKIPPED = [
    ".aws-sam/ (sam build output, copies of the source templates)",
    ".gitlab-ci.yml (not a CloudFormation or SAM template)",
    ".kmspolicy.yaml (not a CloudFormation or SAM template)",
    "cdk.out/BillingStack.assets.json (CDK's own metadata, not a template)",
    "cdk.out/asset.3f1e9c0d/ (a CDK asset copy)",
    "cdk.out/manifest.json (CDK's own metadata, not a template)",
    "cdk.out/tree.json (CDK's own metadata, not a template)",
    "config/app.yaml (not a CloudFormation or SAM template)",
    "legacy/ (excluded by 'legacy/')",
    "mkdocs.yml (not a CloudFormation or SAM template)",
    "node_modules/ (installed npm packages)",
    "package.json (not a CloudFormation or SAM template)",
    "pyenv/ (a virtualenv)",
    "samconfig.yaml (not a CloudFormation or SAM template)",
    "tsconfig.json (not a CloudFormation or SAM template)",
]


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def findings_of(document: dict) -> set[tuple]:
    return {(f["rule"], f["file"], f["line"], f["severity"]) for f in document["findings"]}


# --------------------------------------------------------------------------- the repository


def test_repository_scan_reports_the_templates_findings_and_no_error(monkeypatch):
    monkeypatch.chdir(REPO)
    result = invoke("eval", "-f", "json", ".")
    document = json.loads(result.stdout)
    assert result.exit_code == 1, result.output
    assert document["errors"] == []
    assert [f["file"] for f in document["files"]] == REPO_TEMPLATES
    assert findings_of(document) == REPO_FINDINGS


def test_repository_scan_lists_every_skip_with_its_reason_and_the_config(monkeypatch):
    monkeypatch.chdir(REPO)
    result = invoke("eval", "-v", "-q", ".")
    lines = result.stderr.splitlines()
    assert lines[0] == "kmspolicy: using the config .kmspolicy.yaml"
    assert lines[1:] == [f"kmspolicy: skipped {entry}" for entry in REPO_SKIPPED]
    assert result.stdout == "5 findings (1 critical, 3 high, 1 medium) in 3 files; 0 errors\n"


def test_repository_scan_with_root_finds_the_config_there():
    result = invoke("eval", "-f", "json", "--root", str(REPO), str(REPO))
    assert result.exit_code == 1 and json.loads(result.stdout)["errors"] == []
    assert findings_of(json.loads(result.stdout)) == REPO_FINDINGS


def test_the_skipped_folders_hold_broken_templates_that_would_be_errors():
    """The skips are what keeps the scan green: each of these, named, is an error."""
    for name in ("cdk.out/asset.3f1e9c0d/template.yaml", "node_modules/aws-cdk-lib/template.yaml",
                 "pyenv/lib/template.yaml", "legacy/old.template"):
        result = invoke("eval", str(REPO / name))
        assert result.exit_code == 2, name
    named = invoke("eval", "--config", str(REPO / ".kmspolicy.yaml"), str(REPO / "legacy/old.template"))
    assert named.exit_code == 0 and "in 0 files" in named.stdout  # excluded even when named


def test_pre_commit_style_file_list_skips_non_templates_and_excluded_files(monkeypatch):
    monkeypatch.chdir(REPO)
    files = [str(p.relative_to(REPO)) for p in sorted(REPO.rglob("*"))
             if p.is_file() and p.suffix in (".yaml", ".yml", ".json", ".template")
             and p.relative_to(REPO).parts[0] not in (".aws-sam", "node_modules", "pyenv", "cdk.out")]
    result = invoke("eval", "--skip-non-templates", "-f", "json", *files)
    document = json.loads(result.stdout)
    assert result.exit_code == 1 and document["errors"] == []  # legacy/ excluded by the config
    assert [f["file"] for f in document["files"]] == ["services/billing/stack.yml", "template.yaml"]


def test_exclude_option_adds_to_the_config(monkeypatch):
    monkeypatch.chdir(REPO)
    result = invoke("eval", "-f", "json", "--exclude", "services/*", "--exclude", "*.json", ".")
    assert [f["file"] for f in json.loads(result.stdout)["files"]] == ["template.yaml"]


# --------------------------------------------------------------------------- recognizing templates


@pytest.mark.parametrize("text", [
    "AWSTemplateFormatVersion: '2010-09-09'\n",
    '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}',
    "Transform: AWS::Serverless-2016-10-31\n",
    "Transform:\n  - AWS::LanguageExtensions\n  - AWS::Serverless-2016-10-31\n",
    '{\n  "Transform": ["AWS::Serverless-2016-10-31"]\n}',
    "Resources:\n  Key:\n    Type: AWS::KMS::Key\n",
    "Resources:\n  Thing:\n    Type: 'Custom::Thing'\n",
    '{"Resources":{"K":{"Type":"AWS::KMS::Key"}}}',
    "Description: x\nResources:\n  Broken: [\n    Type: AWS::KMS::Key\n",  # broken, still a template
])
def test_looks_like_a_template(text):
    assert looks_like_template(text)


@pytest.mark.parametrize("text", [
    "",
    "site_name: docs\nmarkdown_extensions: [toc]\n",
    "stages: [test]\ntest:\n  script: [make]\n",
    '{\n  // comment\n  "compilerOptions": {"strict": true},\n}\n',
    "a: 1\na: 2\n",
    "resources:\n  limits:\n    cpu: 1\n",  # Kubernetes
    "spec:\n  Resources:\n    x:\n      Type: AWS::S3::Bucket\n",  # not top level
    "Resources:\n  max_connections: 10\n",  # no Type
    '{"Resources": {}}',
    "Fn::Transform:\n  Name: AWS::Include\n",
])
def test_does_not_look_like_a_template(text):
    assert not looks_like_template(text)


def test_folder_of_broken_files_skips_those_that_do_not_look_like_templates():
    found = discover([str(BAD)])
    skipped = sorted(Path(file).name for file, reason in found.skipped)
    assert skipped == ["binary.yaml", "comments_only.yaml", "deep_nesting.json", "deep_nesting.yaml",
                       "empty.yaml", "expected.yaml", "list_document.yaml", "resources_list.yaml",
                       "scalar_document.yaml", "utf16.json"]
    result = invoke("eval", "-f", "json", str(BAD))
    assert result.exit_code == 2  # the others look like templates and do not load: errors


def test_a_broken_template_in_a_folder_stays_an_error(tmp_path):
    (tmp_path / "mkdocs.yml").write_text("site_name: x\nnav: [\n")
    (tmp_path / "stack.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  K: [\n")
    result = invoke("eval", "-f", "json", str(tmp_path))
    document = json.loads(result.stdout)
    assert result.exit_code == 2
    assert [e["file"] for e in document["errors"]] == [str(tmp_path / "stack.yaml")]


# --------------------------------------------------------------------------- empty scans


def test_folder_without_template_is_an_error_unless_allow_empty(tmp_path):
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    result = invoke("eval", str(tmp_path))
    assert result.exit_code == 2
    assert f"error: {tmp_path}: no CloudFormation or SAM template found (1 file or folder skipped, " \
           "listed with -v; --allow-empty accepts this)" in result.stdout
    allowed = invoke("eval", "--allow-empty", str(tmp_path))
    assert allowed.exit_code == 0, allowed.output


def test_named_files_filtered_by_skip_non_templates_may_come_out_empty(tmp_path):
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    (tmp_path / "tsconfig.json").write_text("{\n  // comment\n}\n")
    result = invoke("eval", "--skip-non-templates", str(tmp_path / "mkdocs.yml"), str(tmp_path / "tsconfig.json"))
    assert result.exit_code == 0, result.output
    assert invoke("eval", str(tmp_path / "tsconfig.json")).exit_code == 2  # named: must be a template


# --------------------------------------------------------------------------- globs


@pytest.mark.parametrize("names, pattern, matches", [
    (["node_modules/x/t.yaml"], "node_modules", True),
    (["a/b/t.generated.yaml"], "*.generated.yaml", True),
    (["tests/fixtures/t.yaml"], "tests/fixtures/*", True),
    (["tests/fixtures/deep/t.yaml"], "tests/fixtures/", True),
    (["./tests/fixtures/t.yaml"], "./tests/", True),
    (["src/tests/fixtures/t.yaml"], "tests/fixtures", False),  # with a /: from the start
    (["stacks/app.yaml"], "stack", False),
    (["x/t.yaml", "t.yaml"], "x", True),
])
def test_exclude_globs(names, pattern, matches):
    assert (matching_glob(names, (pattern,)) == pattern) is matches


def test_symlinked_folders_are_not_followed(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "t.yaml").write_text(SEED.read_text())
    (tmp_path / "scan").mkdir()
    (tmp_path / "scan" / "link").symlink_to(tmp_path / "real")
    assert discover([str(tmp_path / "scan")]).files == []
