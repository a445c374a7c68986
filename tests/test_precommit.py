"""The `kmspolicy` hook of .pre-commit-hooks.yaml, run by pre-commit itself
(`pre-commit try-repo`) in a temporary git repository.

pre-commit builds the hook's environment from a git repository, so the hook source is a
throwaway commit of this working tree (tracked and untracked files that git does not
ignore), not the last commit. Building it installs kmspolicy and its dependencies with
pip (about half a minute). pre-commit comes with the dev extra; without it the tests skip
locally and fail in CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, require_in_ci

SEED = ROOT / "examples" / "seed" / "template.yaml"
NO_KEYS = "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"
GIT_ENV = {"GIT_AUTHOR_NAME": "kmspolicy tests", "GIT_AUTHOR_EMAIL": "tests@kmspolicy.invalid",
           "GIT_COMMITTER_NAME": "kmspolicy tests",
           "GIT_COMMITTER_EMAIL": "tests@kmspolicy.invalid"}


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV},
                          capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture(scope="module")
def hook_source(tmp_path_factory) -> Path:
    """This working tree, committed to a fresh repository that pre-commit can install from."""
    require_in_ci("pre_commit")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    source = tmp_path_factory.mktemp("hook-source")
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    git("init", "-q", cwd=source)
    git("add", "-A", cwd=source)
    git("commit", "-q", "-m", "hook source", cwd=source)
    return source


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(hook_source: Path, home: Path, repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_source),
                           "kmspolicy", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=900)


def make_repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir()
    git("init", "-q", cwd=path)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text, encoding="utf-8")
    git("add", "-A", cwd=path)
    return path


def test_hook_definition():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "kmspolicy")
    assert hook["language"] == "python"
    assert hook["entry"].split()[:2] == ["kmspolicy", "eval"]
    assert "--skip-non-templates" in hook["entry"]
    pattern = re.compile(hook["files"])
    for name in ("template.yaml", "stacks/app.yml", "t.json", "x.template"):
        assert pattern.search(name), name
    assert not pattern.search("README.md")


def test_pre_commit_hook_reports_findings_on_template_lines(hook_source, pre_commit_home,
                                                              tmp_path):
    repo = make_repo(tmp_path / "repo", {
        "stacks/app.yaml": SEED.read_text(encoding="utf-8"),
        ".github/workflows/ci.yml": "name: ci\non: push\njobs: {}\n",
        "package.json": '{"name": "app"}\n',
    })
    done = try_repo(hook_source, pre_commit_home, repo, "--all-files")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "kmspolicy (KMS key access in CloudFormation/SAM)" in output
    assert "Failed" in output
    assert "KP001 [medium] stacks/app.yaml:23:18  KmsKey" in output
    assert "in 1 file; 0 errors" in output  # the workflow and package.json are skipped


def test_pre_commit_config_with_args_passes_below_the_threshold(hook_source, pre_commit_home,
                                                               tmp_path):
    """As users set it up: .pre-commit-config.yaml naming the repository, rev and args."""
    rev = git("rev-parse", "HEAD", cwd=hook_source).strip()
    config = {"repos": [{"repo": str(hook_source), "rev": rev,
                         "hooks": [{"id": "kmspolicy", "args": ["--fail-on", "critical"]}]}]}
    repo = make_repo(tmp_path / "repo", {
        ".pre-commit-config.yaml": yaml.safe_dump(config),
        "stacks/app.yaml": SEED.read_text(encoding="utf-8"),
        "infra/bucket.yaml": NO_KEYS,
    })
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(pre_commit_home), "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--verbose"], cwd=repo,
                          env=env, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output  # the seed has no critical finding
    assert "Passed" in output
    assert "KP003 [high] stacks/app.yaml:31:13" in output  # still shown (--verbose)
    assert "in 2 files; 0 errors" in output


REPO_FIXTURE = ROOT / "tests" / "data" / "repo"


def test_pre_commit_on_an_ordinary_repository(hook_source, pre_commit_home, tmp_path):
    """tests/data/repo as a git repository: pre-commit passes every YAML and JSON file by
    name; the templates' findings come out as with `kmspolicy eval .`, nothing else is an
    error (mkdocs.yml, .gitlab-ci.yml, tsconfig.json with comments, a duplicate key, CDK's
    metadata and asset copies, .aws-sam, node_modules, a virtualenv, the excluded legacy/)."""
    from .test_discover import REPO_FINDINGS

    repo = tmp_path / "repo"
    shutil.copytree(REPO_FIXTURE, repo)
    git("init", "-q", cwd=repo)
    git("add", "-A", "--force", cwd=repo)  # .aws-sam/build is ignored by this repository only
    listed = git("ls-files", cwd=repo).split()
    assert "cdk.out/asset.3f1e9c0d/template.yaml" in listed and "pyenv/lib/template.yaml" in listed
    done = try_repo(hook_source, pre_commit_home, repo, "--all-files", "--verbose")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    for rule, file, line, severity in REPO_FINDINGS:
        assert re.search(rf"^{rule} \[{severity}\] {re.escape(file)}:{line}:\d+ ", output, re.MULTILINE), \
            (rule, file, line, output)
    assert "5 findings (1 critical, 3 high, 1 medium) in 3 files; 0 errors" in output
    assert "error:" not in output
