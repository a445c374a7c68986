"""Which files `kmspolicy eval PATHS` looks at.

A file given by name is always analyzed. A directory is searched recursively for YAML and
JSON files; symlinks are not followed (a link could lead out of the tree), and hidden and
vendored folders are skipped. Whether a file is a template is decided after loading it
(a mapping with `Resources`); other YAML is skipped and listed with -v.
"""

from __future__ import annotations

import os
from pathlib import Path

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
SKIPPED_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".aws-sam",
                "cdk.out", ".terraform", ".tox"}


class PathProblem(ValueError):
    pass


def discover(paths: list[str]) -> tuple[list[tuple[str, bool]], list[str]]:
    """([(file, given explicitly)], [problems]) in a deterministic order."""
    found: dict[str, bool] = {}
    problems: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir() and not path.is_symlink():
            for file in _walk(path):
                found.setdefault(file, False)
        elif path.is_file():
            found[str(path)] = True
        elif path.is_dir():
            found.update({f: False for f in _walk(path)})
        elif path.exists():
            problems.append(f"{raw}: not a regular file or directory (a pipe, socket or device)")
        elif path.is_symlink():
            problems.append(f"{raw}: broken symbolic link (its target does not exist or loops)")
        else:
            problems.append(f"{raw}: no such file or directory")
    return sorted(found.items()), problems


def _walk(root: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames
                             if d not in SKIPPED_DIRS and not d.startswith(".")
                             and not os.path.islink(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if name.lower().endswith(TEMPLATE_SUFFIXES) and not os.path.islink(full):
                out.append(full)
    return out
