"""GOGC for `--engine opa`'s workers in runs of many files (cli/go_runtime.py), and the
worker pool starting workers afresh with it (cli/parallel.py)."""

from __future__ import annotations

import os

import pytest

from kmspolicy.cli.go_runtime import FROM_FILES, GOGC, worker_environment
from kmspolicy.cli.parallel import WorkerPool, _environment


@pytest.fixture
def no_gogc(monkeypatch):
    monkeypatch.delenv("GOGC", raising=False)


def test_many_files_on_opa_get_gogc(no_gogc):
    assert worker_environment("opa", FROM_FILES) == {"GOGC": GOGC}


@pytest.mark.parametrize("engine, files", [("opa", FROM_FILES - 1), ("embedded", 10_000), ("opa-server", 10_000)])
def test_few_files_or_another_engine_get_nothing(no_gogc, engine, files):
    assert worker_environment(engine, files) == {}


def test_the_users_gogc_is_theirs(monkeypatch):
    monkeypatch.setenv("GOGC", "50")
    assert worker_environment("opa", 10_000) == {}


def test_a_pool_with_an_environment_starts_workers_afresh():
    assert WorkerPool(dict, 2, environment={"GOGC": GOGC})._start_method() in {"forkserver", "spawn"}
    assert WorkerPool(dict, 2, start_method="spawn")._start_method() == WorkerPool(dict, 2)._start_method()


def test_the_environment_is_restored(no_gogc, monkeypatch):
    monkeypatch.setenv("KMSPOLICY_KEPT", "before")
    with _environment({"GOGC": "400", "KMSPOLICY_KEPT": "during"}):
        assert os.environ["GOGC"] == "400" and os.environ["KMSPOLICY_KEPT"] == "during"
    assert "GOGC" not in os.environ and os.environ["KMSPOLICY_KEPT"] == "before"
