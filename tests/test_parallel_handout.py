"""How the worker pool hands files out: largest first within a window, the next file waiting
in a worker's pipe, and what becomes of that file when its worker dies."""

from __future__ import annotations

import signal

from kmspolicy.cli import parallel
from kmspolicy.cli.parallel import WorkerPool, handout_order

from .test_parallel import LoggingFactory, copies, events, no_hang  # noqa: F401 - a fixture


def sized(folder, sizes):
    folder.mkdir(parents=True, exist_ok=True)
    tasks = []
    for index, size in enumerate(sizes):
        path = folder / f"f{index}.yaml"
        path.write_bytes(b"x" * size)
        tasks.append((str(path), path.name, False))
    return tasks


def test_files_are_handed_out_largest_first_within_each_window(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "WINDOW", 3)
    tasks = sized(tmp_path, [5, 9, 1, 2, 2, 7, 3])
    tasks.append((str(tmp_path / "missing.yaml"), "missing.yaml", False))  # counts as empty
    assert handout_order(tasks) == [1, 0, 2, 5, 3, 4, 6, 7]


def test_a_file_waiting_in_a_dead_workers_pipe_is_analyzed_by_another(tmp_path):
    names = ["crash.yaml", "a.yaml", "b.yaml", "c.yaml", "d.yaml", "e.yaml"]
    tasks = copies(tmp_path / "t", names)
    log = tmp_path / "log"
    pool = WorkerPool(LoggingFactory(str(log), signal.SIGKILL), jobs=1)
    parts = list(pool.map(tasks))

    assert [p.files[0].file for p in parts] == names
    assert [p.files[0].status for p in parts] == ["error"] + ["analyzed"] * 5
    assert "SIGKILL" in parts[0].errors[0].message
    assert pool.crashes == 1 and len(pool.stats) == 2
    analyzed = [e[2] for e in events(log) if e[0] == "file"]
    assert sorted(analyzed) == sorted(names)  # each once: a.yaml, sent to the first, too
    first, second = (s.pid for s in pool.stats)
    assert {e[2] for e in events(log) if e[0] == "file" and int(e[1]) == first} == {"crash.yaml"}
    assert pool.stats[1].files == 5
    assert second != first
