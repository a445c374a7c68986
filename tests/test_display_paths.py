"""The paths reports show (cli/run.py): `display_paths` of many files is `display_path` of
each, through symbolic links, `..`, other roots and names that are not UTF-8."""

from __future__ import annotations

import os

import pytest

from kmspolicy.cli.run import display_path, display_paths


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "real" / "deep").mkdir(parents=True)
    (tmp_path / "real" / "a.yaml").write_text("x")
    (tmp_path / "real" / "deep" / "b.yaml").write_text("x")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "c.yaml").write_text("x")
    os.symlink(tmp_path / "real", tmp_path / "linked")  # a folder that is a link
    os.symlink(tmp_path / "elsewhere" / "c.yaml", tmp_path / "real" / "c.yaml")  # a file
    os.symlink(tmp_path / "nowhere", tmp_path / "real" / "broken.yaml")
    name = os.fsdecode(b"\xff.yaml")  # not UTF-8: shown as \xff
    (tmp_path / "real" / name).write_text("x")
    return tmp_path, name


def test_many_paths_are_shown_as_each_alone(tree, monkeypatch):
    root, odd = tree
    files = [str(root / "real" / "a.yaml"), str(root / "linked" / "a.yaml"),
             str(root / "linked" / "deep" / "b.yaml"), str(root / "real" / "c.yaml"),
             str(root / "real" / "broken.yaml"), str(root / "real" / "deep" / ".." / "a.yaml"),
             str(root / "real" / odd), str(root / "real") + "/", "/etc/hostname"]
    monkeypatch.chdir(root / "real")
    relative = [os.path.relpath(f) for f in files[:7]] + ["a.yaml", "./deep/../a.yaml"]
    for base in (None, str(root), str(root / "linked"), str(root / "elsewhere")):
        for group in (files, relative):
            assert display_paths(group, base) == [display_path(f, base) for f in group]
    shown = display_paths(files, str(root))
    assert shown[:5] == ["real/a.yaml", "real/a.yaml", "real/deep/b.yaml", "elsewhere/c.yaml",
                         "nowhere"]
    assert shown[6] == "real/\\xff.yaml"
