"""Shared fixtures: the repository's folders and one compiled policy set per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"


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


@pytest.fixture(scope="session")
def analyzer():
    from kmspolicy.bridge.pipeline import Analyzer, PolicySet

    return Analyzer(PolicySet.builtin())
