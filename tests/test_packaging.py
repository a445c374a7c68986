"""What a release carries and where it installs: the wheel's package data covers every data
file, the platform check (tools/check_platform.py) names what regopy has no wheel for, and
the rule documentation links point at pyproject's Homepage."""

from __future__ import annotations

import importlib.util
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from kmspolicy import __version__
from kmspolicy.cli import rule_docs

from .conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _platform_module():
    spec = importlib.util.spec_from_file_location("check_platform", ROOT / "tools" / "check_platform.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def package_folder(package: str) -> Path:
    """The folder of `package` through setuptools' package-dir."""
    mapping = SETUPTOOLS["package-dir"]
    parts = package.split(".")
    for cut in range(len(parts), 0, -1):
        head = ".".join(parts[:cut])
        if head in mapping:
            return ROOT / mapping[head] / Path(*parts[cut:])
    raise AssertionError(f"{package} has no package-dir")


def test_every_data_file_is_package_data():
    """A file under an installed package that is not Python must be matched by a glob of its
    package (the nearest one declared), or the wheel runs without it."""
    packages = {name: package_folder(name) for name in SETUPTOOLS["packages"]}
    data = SETUPTOOLS["package-data"]
    assert SETUPTOOLS["include-package-data"] is False  # package-data alone decides
    missing = []
    for root in {folder for folder in packages.values()}:
        for path in root.rglob("*"):
            if not path.is_file() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            owner = max((name for name, folder in packages.items() if folder in path.parents),
                        key=lambda name: len(packages[name].parts))
            relative = path.relative_to(packages[owner]).as_posix()
            if not any(fnmatchcase(relative, glob) or fnmatchcase(relative, glob.removeprefix("**/"))
                       for glob in data.get(owner, [])):
                missing.append(path.relative_to(ROOT).as_posix())
    assert missing == []


def test_data_folders_are_declared_with_globs():
    for package, globs in SETUPTOOLS["package-data"].items():
        assert all("*" in glob for glob in globs), package


def test_docs_links_are_the_homepage_at_the_version_tag():
    assert rule_docs.HOMEPAGE == PYPROJECT["project"]["urls"]["Homepage"]
    assert PYPROJECT["project"]["version"] == __version__
    assert rule_docs.docs_base() == f"{rule_docs.HOMEPAGE}/blob/v{__version__}/docs/rules/"
    for rule_id in sorted(rule_docs.builtin_rule_ids()):
        url = rule_docs.doc_url(rule_id)
        assert (ROOT / "docs" / "rules" / url.rsplit("/", 1)[1]).is_file(), url
    assert rule_docs.doc_url("ORG001") is None  # a rule pack's rule: no page here


def test_changelog_has_this_version():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{__version__}]" in changelog


@pytest.mark.parametrize("facts, problem", [
    ({"system": "Linux", "machine": "x86_64", "libc": ("glibc", "2.35")}, None),
    ({"system": "Linux", "machine": "aarch64", "libc": ("glibc", "2.39")}, None),
    ({"system": "Linux", "machine": "x86_64", "libc": ("glibc", "2.31")},
     "regopy has no wheel for glibc 2.31 (Linux needs glibc 2.34 or newer)"),
    ({"system": "Linux", "machine": "x86_64", "libc": ("", "")}, None),  # musl (Alpine)
    ({"system": "Linux", "machine": "aarch64", "libc": ("", "")},
     "regopy has no wheel for Linux aarch64 without glibc (musl: x86_64 only)"),
    ({"system": "Darwin", "machine": "arm64", "mac": "15.1"}, None),
    ({"system": "Darwin", "machine": "arm64", "mac": "14.7.1"},
     "regopy has no wheel for macOS 14.7.1 (macOS 15 or newer)"),
    ({"system": "Windows", "machine": "AMD64"}, None),
    ({"system": "Windows", "machine": "ARM64"}, "regopy has no wheel for Windows arm64 (x86_64 only)"),
    ({"system": "Linux", "machine": "x86_64", "libc": ("glibc", "2.35"), "python": (3, 10)},
     "kmspolicy needs Python 3.11 or newer (this is 3.10)"),
    ({"system": "FreeBSD", "machine": "amd64"}, "regopy has no wheel for FreeBSD amd64"),
])
def test_platform_check(facts, problem):
    facts = {"python": (3, 12), "implementation": "CPython", **facts}
    assert _platform_module().problem(**facts) == problem


def test_platform_check_passes_here():
    assert _platform_module().problem() is None  # the tests run: regopy is installed
