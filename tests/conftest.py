"""Shared fixtures: the repository's folders and one compiled policy set per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
# ../shared (the corpus, kms-actions.tsv) is beside the repository in CI and on the
# project's machines, not in a clone: the tests that read it skip, saying so (pytest -ra),
# unless KMSPOLICY_REQUIRE_SHARED is set (.ci/run sets it), where its absence stops the run.
if os.environ.get("KMSPOLICY_REQUIRE_SHARED") and not (SHARED / "kms-actions.tsv").is_file():
    raise pytest.UsageError(f"KMSPOLICY_REQUIRE_SHARED is set but {SHARED} is missing or incomplete")
needs_shared = pytest.mark.skipif(not (SHARED / "kms-actions.tsv").is_file(),
                                  reason=f"{SHARED} is absent (it is not part of a clone)")


def example_templates() -> list[Path]:
    """Every example template with an expected.json beside it (examples/**/template.*)."""
    return sorted(p for p in EXAMPLES.glob("**/template.*")
                  if p.suffix in (".yaml", ".yml", ".json") and (p.parent / "expected.json").is_file())


def corpus_templates() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.suffix in (".yaml", ".yml", ".json", ".template"))


def require_in_ci(module: str):
    """Import a test-only module; in CI (CI=true) its absence is a failure, not a skip."""
    if os.environ.get("CI"):
        return __import__(module)
    return pytest.importorskip(module, reason=f"{module} is not installed (make install adds it)")


def catalog_generator():
    """tools/gen_catalogs.py as a module, loaded once."""
    import importlib.util
    import sys

    if "gen_catalogs" not in sys.modules:
        spec = importlib.util.spec_from_file_location("gen_catalogs", ROOT / "tools" / "gen_catalogs.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["gen_catalogs"]


@pytest.fixture(scope="session")
def npm_managed():
    """The pinned npm package of AWS managed policies (`make catalog-deps`), as
    (managedPolicies.json, version). Without it a test skips, saying why, except in CI
    (CI=true), where it fails."""
    gen = catalog_generator()
    try:
        return gen.installed_managed_policies()
    except gen.CatalogError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must install the catalog inputs (make catalog-deps): {exc}")
        pytest.skip(f"npm package {gen.MANAGED_PACKAGE} not installed (make catalog-deps): {exc}")


@pytest.fixture(scope="session")
def analyzer():
    from kmspolicy.bridge.pipeline import Analyzer, PolicySet

    return Analyzer(PolicySet.builtin())
