"""A disk cache of the embedded engine's compiled policies.

Compiling the policies (regopy `Interpreter.build`) costs a few hundred milliseconds, paid
again by every process and every `--jobs` worker; loading the same compiled bundle saved in
rego-cpp's binary format (RBB) costs a few. The file name is the SHA-256 of everything the
build reads — the regopy version, the query, every module (name and source) and the data
(the config included) — so any change to them is another file, never a stale one. Files are
written whole or not at all (temporary file, then rename); a file that does not load is
deleted and the policies are compiled again. At most `KEEP` files are kept.

Where: $KMSPOLICY_CACHE_DIR, else $XDG_CACHE_HOME/kmspolicy, else ~/.cache/kmspolicy;
KMSPOLICY_CACHE_DIR=off turns the cache off. A cache that cannot be written is skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

KEEP = 16
SUFFIX = ".rbb"


def cache_dir() -> Path | None:
    configured = os.environ.get("KMSPOLICY_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "false", "no") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "kmspolicy")


def bundle_key(modules: dict[str, str], data: dict[str, Any] | None, query: str,
               engine_version: str) -> str:
    digest = hashlib.sha256()
    for part in (engine_version, query, json.dumps(data or {}, sort_keys=True)):
        digest.update(part.encode("utf-8") + b"\0")
    for name in sorted(modules):
        digest.update(name.encode("utf-8") + b"\0" + modules[name].encode("utf-8") + b"\0")
    return digest.hexdigest()


def load(regopy, interpreter, key: str):
    """The cached bundle for `key` loaded into `interpreter`, or None."""
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / (key + SUFFIX)
    if not path.is_file():
        return None
    try:
        bundle = interpreter.load_bundle(str(path), regopy.BundleFormat.Binary)
        if bundle.ok():
            return bundle
    except (regopy.RegoError, OSError):
        pass
    _remove(path)
    return None


def save(regopy, interpreter, bundle, key: str) -> None:
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".partial-", suffix=SUFFIX)
        os.close(handle)
    except OSError:
        return
    try:
        interpreter.save_bundle(temporary, bundle, regopy.BundleFormat.Binary)
        os.replace(temporary, folder / (key + SUFFIX))
    except (regopy.RegoError, OSError):
        _remove(Path(temporary))
        return
    _prune(folder)


def _prune(folder: Path) -> None:
    try:
        files = sorted((p for p in folder.glob("*" + SUFFIX) if not p.name.startswith(".")),
                       key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in files[KEEP:]:
        _remove(old)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
