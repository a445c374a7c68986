"""A disk cache of the embedded engine's compiled policies.

Compiling the policies (regopy `Interpreter.build`) costs a few hundred milliseconds, paid
again by every process and every `--jobs` worker; loading the same compiled bundle saved in
rego-cpp's binary format (RBB) costs a few. The file name is the SHA-256 of everything the
build reads — the regopy version, the query, every module (name and source) and the data
(the config included) — so any change to them is another file, never a stale one. Files are
written whole or not at all (temporary file, then rename); a file that does not load is
deleted and the policies are compiled again. At most `KEEP` files are kept.

A compiled bundle is code the engine runs, so the cache is trusted only when its folder
is a directory owned by this user that no one else may write to (else it is neither read
nor written, with a warning), and an entry only when it is a regular file of this user,
not writable by others, whose SHA-256 (over the key and the content) matches the one
written beside it (`<key>.sha256`). Any other entry is rejected, with a warning,
deleted and compiled again (an older kmspolicy's entries, written without a hash, have
other names: the cache format is part of the key). Whoever can write this user's files (a cache restored from an
untrusted CI job, say) can write both the entry and its hash: there, turn the cache off.

Where: $KMSPOLICY_CACHE_DIR, else $XDG_CACHE_HOME/kmspolicy, else ~/.cache/kmspolicy;
KMSPOLICY_CACHE_DIR=off turns the cache off. A cache that cannot be written is skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

KEEP = 16
SUFFIX = ".rbb"
HASH_SUFFIX = ".sha256"
FORMAT = "kmspolicy-rbb-3"  # in every key: entries of a format before the hashes are never read


def cache_dir() -> Path | None:
    configured = os.environ.get("KMSPOLICY_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "false", "no") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "kmspolicy")


def bundle_key(modules: dict[str, str], data: dict[str, Any] | None, query: str,
               engine_version: str) -> str:
    digest = hashlib.sha256()
    for part in (FORMAT, engine_version, query, json.dumps(data or {}, sort_keys=True)):
        digest.update(part.encode("utf-8") + b"\0")
    for name in sorted(modules):
        digest.update(name.encode("utf-8") + b"\0" + modules[name].encode("utf-8") + b"\0")
    return digest.hexdigest()


def warn(message: str) -> None:
    """Warnings go to stderr (the engine may be in a worker process, whose stderr is the CLI's)."""
    print(f"kmspolicy: warning: {message}", file=sys.stderr, flush=True)


def load(regopy, interpreter, key: str):
    """The cached bundle for `key` loaded into `interpreter`, or None."""
    folder = cache_dir()
    if folder is None or not folder.exists() or not _trusted_folder(folder):
        return None
    path = folder / (key + SUFFIX)
    if not path.is_file():
        return None
    expected = _read_hash(folder / (key + HASH_SUFFIX))
    actual, problem = _entry_hash(path, key)
    if problem is None and expected is None:
        problem = f"has no {HASH_SUFFIX} beside it (planted, or its hash was deleted)"
    elif problem is None and actual != expected:
        problem = "does not match its hash (planted or damaged)"
    if problem is not None:
        warn(f"{path}: this compiled-bundle cache entry {problem}: rejected, the policies are "
             "compiled again")
        _remove(path)
        _remove(folder / (key + HASH_SUFFIX))
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
    except OSError:
        return
    if not _trusted_folder(folder):
        return
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".partial-", suffix=SUFFIX)
        os.close(handle)
    except OSError:
        return
    hash_temporary = temporary + HASH_SUFFIX
    try:
        interpreter.save_bundle(temporary, bundle, regopy.BundleFormat.Binary)
        digest, problem = _entry_hash(Path(temporary), key)
        if problem is not None:
            raise OSError(problem)
        with open(hash_temporary, "x", encoding="ascii") as handle:
            handle.write(digest + "\n")
        os.replace(temporary, folder / (key + SUFFIX))
        os.replace(hash_temporary, folder / (key + HASH_SUFFIX))
    except (regopy.RegoError, OSError):
        _remove(Path(temporary))
        _remove(Path(hash_temporary))
        return
    _prune(folder)


_warned_folders: set[str] = set()


def check_folder() -> None:
    """Warn now (once) if the cache folder exists and is not trusted."""
    folder = cache_dir()
    if folder is not None and folder.exists():
        _trusted_folder(folder)


def _trusted_folder(folder: Path) -> bool:
    """A directory of this user that no one else may write to (warned once if not)."""
    try:
        info = os.stat(folder)
    except OSError:
        return False
    problem = None
    if not stat.S_ISDIR(info.st_mode):
        problem = "is not a directory"
    elif hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        problem = f"is owned by another user (uid {info.st_uid})"
    elif info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        problem = f"is writable by others (mode {stat.S_IMODE(info.st_mode):o})"
    if problem is None:
        return True
    if str(folder) not in _warned_folders:
        _warned_folders.add(str(folder))
        warn(f"{folder}: the compiled-bundle cache {problem}: not used (make it yours with "
             "mode 700, or set KMSPOLICY_CACHE_DIR)")
    return False


def _entry_hash(path: Path, key: str) -> tuple[str | None, str | None]:
    """(SHA-256 of the key and the entry's bytes, None), or (None, what is wrong with it):
    it must be a regular file of this user that no one else may write to."""
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return None, "is not a regular file"
            if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
                return None, f"is owned by another user (uid {info.st_uid})"
            if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None, f"is writable by others (mode {stat.S_IMODE(info.st_mode):o})"
            return hashlib.sha256(key.encode("ascii") + b"\0" + handle.read()).hexdigest(), None
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"


def _read_hash(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _prune(folder: Path) -> None:
    try:
        files = sorted((p for p in folder.glob("*" + SUFFIX) if not p.name.startswith(".")),
                       key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in files[KEEP:]:
        _remove(old)
        _remove(old.with_suffix(HASH_SUFFIX))


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
