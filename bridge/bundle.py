"""OPA bundles: build the guardrail bundle, and read one (file or folder) safely.

A bundle is what `opa run --server --bundle` serves: a gzip tarball (or a folder laid out
the same way) holding `.manifest` (`revision`, `roots`, `rego_version`), Rego files and
`data.json` files whose folder is their place in `data`. kmspolicy puts its config at
`data.kmspolicy.config`.

Reading treats the bundle as hostile: names must be relative (OPA's own writer prefixes
them with one `/`, which is read as the bundle root), no `..`, no links or devices, and
the number of files, each file's size and the decompressed total are bounded, so a
crafted archive is a clear `BundleError`, never a hang, an out-of-memory or a file
written anywhere.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .load import TemplateError, parse_data
from .reading import ReadError, read_file
from .rules import package_of

MAX_ARCHIVE_BYTES = 16 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_FILES = 2000
MAX_NAME_LENGTH = 512
MAX_NAME_DEPTH = 32
BUILTIN_ROOT = "kmspolicy"
CONFIG_PATH = ("kmspolicy", "config")
REPLACES_FIELD = "kmspolicy_replaces"  # in the manifest's metadata
DATA_FILES = ("data.json", "data.yaml", "data.yml")
UNSUPPORTED_FILES = {"patch.json": "delta bundles (patch.json) are not supported",
                     ".signatures.json": "signed bundles are not supported: kmspolicy does not "
                                         "verify bundle signatures"}


class BundleError(ValueError):
    """The bundle cannot be used; the message names the bundle and what is wrong."""


@dataclass
class Bundle:
    source: str
    manifest: dict = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)  # path in the bundle → Rego source
    data: dict = field(default_factory=dict)

    def rule_modules(self) -> dict[str, str]:
        """The modules an engine evaluates: everything but the `*_test.rego` files."""
        return {name: source for name, source in self.modules.items()
                if not name.endswith("_test.rego")}

    def extra_data(self) -> dict:
        """The bundle's data without kmspolicy's config (which travels separately)."""
        data = json.loads(json.dumps(self.data))
        own = data.get(CONFIG_PATH[0])
        if isinstance(own, dict):
            own.pop(CONFIG_PATH[1], None)
            if not own:
                del data[CONFIG_PATH[0]]
        return data


# --- reading ------------------------------------------------------------------------------

def load_bundle(path: str) -> Bundle:
    """A bundle from a `.tar.gz` file or a folder, checked and bounded (BundleError)."""
    target = Path(path)
    if target.is_symlink():
        raise BundleError(f"{path}: a bundle may not be a symbolic link")
    if target.is_dir():
        files = _folder_files(target, path)
    elif target.exists():
        files = _archive_files(target, path)
    else:
        raise BundleError(f"{path}: no such bundle file or folder")
    return _assemble(path, files)


def _archive_files(target: Path, source: str) -> dict[str, bytes]:
    size = target.stat().st_size
    if size > MAX_ARCHIVE_BYTES:
        raise BundleError(f"{source}: the bundle is {size} bytes, more than the "
                          f"{MAX_ARCHIVE_BYTES} allowed")
    raw = _read(str(target), MAX_ARCHIVE_BYTES, source)
    if raw[:2] != b"\x1f\x8b":
        raise BundleError(f"{source}: not a gzip-compressed tarball (.tar.gz) nor a folder")
    stream = _Bounded(gzip.GzipFile(fileobj=io.BytesIO(raw)), MAX_TOTAL_BYTES + MAX_FILES * 1024,
                      source)
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for seen, member in enumerate(archive, 1):
                _check_count(seen, source)
                if member.isdir():
                    _bundle_name(member.name, source)
                    continue
                if not member.isfile():
                    raise BundleError(f"{source}: {member.name!r} is a link or a special file; "
                                      "a bundle may hold only regular files")
                name = _bundle_name(member.name, source)
                _check_size(name, member.size, files, source)
                if not _wanted(name, source):
                    continue
                reader = archive.extractfile(member)
                content = reader.read() if reader is not None else b""
                _add(files, name, content, source)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise BundleError(f"{source}: not a readable .tar.gz bundle ({_one_line(exc)})") from None
    return files


def _folder_files(root: Path, source: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    seen = 0
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        for dirname in sorted(dirnames):
            if (Path(folder) / dirname).is_symlink():
                rel = (Path(folder) / dirname).relative_to(root).as_posix()
                raise BundleError(f"{source}: {rel!r} is a symbolic link; a bundle may hold "
                                  "only regular files")
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            full = Path(folder) / filename
            rel = full.relative_to(root).as_posix()
            seen += 1
            _check_count(seen, source)
            mode = full.lstat().st_mode
            if not stat.S_ISREG(mode):
                raise BundleError(f"{source}: {rel!r} is a link or a special file; a bundle may "
                                  "hold only regular files")
            name = _bundle_name(rel, source)
            if not _wanted(name, source):
                continue
            _check_size(name, full.lstat().st_size, files, source)
            _add(files, name, _read(str(full), MAX_FILE_BYTES, source, rel), source)
    return files


def _read(path: str, limit: int, source: str, name: str | None = None) -> bytes:
    """A regular file of at most `limit` bytes (no FIFO, no device), or BundleError."""
    try:
        return read_file(path, limit, "bundle file" if name else "bundle")
    except ReadError as err:
        raise BundleError(f"{source}: {name + ': ' if name else ''}{err.message}") from None


class _Bounded(io.RawIOBase):
    """A read-only stream that fails once more than `limit` bytes came out of `inner`."""

    def __init__(self, inner, limit: int, source: str):
        self.inner, self.limit, self.source, self.seen = inner, limit, source, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.inner.read(len(buffer))
        self.seen += len(chunk)
        if self.seen > self.limit:
            raise BundleError(f"{self.source}: the bundle decompresses to more than "
                              f"{self.limit} bytes")
        buffer[:len(chunk)] = chunk
        return len(chunk)


def _bundle_name(raw: str, source: str) -> str:
    """The member's path relative to the bundle root, or BundleError if it is unsafe."""
    shown = repr(raw[:100])
    if not raw or "\x00" in raw or "\\" in raw or len(raw) > MAX_NAME_LENGTH:
        raise BundleError(f"{source}: {shown} is not an acceptable file name in a bundle")
    name = raw[2:] if raw.startswith("./") else raw
    if name.startswith("/"):
        name = name[1:]  # `opa build` writes "/policy.rego": relative to the bundle root
    parts = PurePosixPath(name).parts
    if (not parts or name.startswith("/") or ":" in parts[0]
            or any(part in ("..", ".") for part in parts)):
        raise BundleError(f"{source}: {shown} is an absolute path or leaves the bundle; file names "
                          "must be relative to the bundle root")
    if len(parts) > MAX_NAME_DEPTH:
        raise BundleError(f"{source}: {shown} is nested more than {MAX_NAME_DEPTH} folders deep")
    return "/".join(parts)


def _wanted(name: str, source: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    if base in UNSUPPORTED_FILES:
        raise BundleError(f"{source}: {name}: {UNSUPPORTED_FILES[base]}")
    if base.endswith(".wasm"):
        raise BundleError(f"{source}: {name}: Wasm policies are not supported; ship Rego")
    return name == ".manifest" or base.endswith(".rego") or base in DATA_FILES


def _check_count(seen: int, source: str) -> None:
    if seen > MAX_FILES:
        raise BundleError(f"{source}: more than {MAX_FILES} files in the bundle")


def _check_size(name: str, size: int, files: dict[str, bytes], source: str) -> None:
    if size > MAX_FILE_BYTES:
        raise BundleError(f"{source}: {name} is {size} bytes, more than the {MAX_FILE_BYTES} "
                          "allowed for one file")
    if sum(len(v) for v in files.values()) + size > MAX_TOTAL_BYTES:
        raise BundleError(f"{source}: the bundle's files add up to more than {MAX_TOTAL_BYTES} bytes")


def _add(files: dict[str, bytes], name: str, content: bytes, source: str) -> None:
    if name in files:
        raise BundleError(f"{source}: {name} appears twice in the bundle")
    files[name] = content


def _assemble(source: str, files: dict[str, bytes]) -> Bundle:
    bundle = Bundle(source)
    if ".manifest" in files:
        bundle.manifest = _manifest(files.pop(".manifest"), source)
    for name, content in sorted(files.items()):
        text = _text(name, content, source)
        if name.endswith(".rego"):
            if package_of(text) is None:
                raise BundleError(f"{source}: {name} has no package declaration")
            bundle.modules[name] = text
            continue
        value = _parse_data(name, text, source)
        where = tuple(PurePosixPath(name).parts[:-1])
        _merge_at(bundle.data, where, value, f"{source}: {name}")
    _check_roots(bundle)
    return bundle


def _manifest(content: bytes, source: str) -> dict:
    if not _text(".manifest", content, source).lstrip().startswith("{"):
        raise BundleError(f"{source}: .manifest must be a JSON object")
    manifest = _parse(".manifest", content, source, "JSON")
    if not isinstance(manifest, dict):
        raise BundleError(f"{source}: .manifest must be a JSON object")
    revision = manifest.get("revision", "")
    roots = manifest.get("roots", [""])
    if not isinstance(revision, str):
        raise BundleError(f"{source}: .manifest: revision must be a string")
    if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
        raise BundleError(f"{source}: .manifest: roots must be a list of strings")
    version = manifest.get("rego_version", 1)
    if version != 1:
        raise BundleError(f"{source}: .manifest: rego_version {version!r} is not supported; "
                          "kmspolicy runs Rego v1 (rego_version: 1)")
    return manifest


def _text(name: str, content: bytes, source: str) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"{source}: {name} is not UTF-8 text") from None


def _parse_data(name: str, text: str, source: str):
    value = _parse(name, text.encode("utf-8"), source, "JSON" if name.endswith(".json") else "YAML")
    if not isinstance(value, dict):
        raise BundleError(f"{source}: {name} must hold an object")
    return value


def _parse(name: str, content: bytes, source: str, kind: str):
    """JSON or YAML data read with the template loader's limits (depth, nodes, aliases)."""
    try:
        return parse_data(content, name)
    except TemplateError as err:
        where = f":{err.line}" if err.line else ""
        raise BundleError(f"{source}: {name}{where}: not valid {kind} ({err.message})") from None


def _merge_at(target: dict, where: tuple[str, ...], value: dict, origin: str) -> None:
    for part in where:
        child = target.setdefault(part, {})
        if not isinstance(child, dict):
            raise BundleError(f"{origin}: conflicts with data already at {'/'.join(where)}")
        target = child
    for key, item in value.items():
        if key in target and isinstance(target[key], dict) and isinstance(item, dict):
            _merge_at(target[key], (), item, origin)
        elif key in target and target[key] != item:
            raise BundleError(f"{origin}: conflicts with data already at "
                              f"{'/'.join((*where, key))}")
        else:
            target[key] = item


def _check_roots(bundle: Bundle) -> None:
    """As OPA does: every package and every data path must lie under a manifest root."""
    roots = [tuple(r.split("/")) if r else () for r in bundle.manifest.get("roots", [""])]
    for name, source in bundle.modules.items():
        path = tuple(package_of(source).split("."))
        if not any(path[:len(root)] == root for root in roots):
            raise BundleError(f"{bundle.source}: {name}: package {'.'.join(path)} is outside the "
                              f"bundle's roots {bundle.manifest.get('roots')}")
    for path in _data_leaves(bundle.data):
        if not any(path[:len(root)] == root or root[:len(path)] == path for root in roots):
            raise BundleError(f"{bundle.source}: data at {'/'.join(path)} is outside the "
                              f"bundle's roots {bundle.manifest.get('roots')}")


def _data_leaves(data: dict, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out.extend(_data_leaves(value, (*prefix, key)))
        else:
            out.append((*prefix, key))
    return out


# --- using --------------------------------------------------------------------------------

def bundle_config(bundle: Bundle) -> dict:
    """The bundle's `data.kmspolicy.config`, checked against the config schema."""
    from . import schema

    raw = bundle.data.get(CONFIG_PATH[0], {}).get(CONFIG_PATH[1]) \
        if isinstance(bundle.data.get(CONFIG_PATH[0]), dict) else None
    if raw is None:
        return {}
    problem = schema.config_problem(raw)
    if problem is not None:
        raise BundleError(f"{bundle.source}: data.kmspolicy.config: {problem}")
    return raw


def policy_set(bundles: list[Bundle], config: dict | None = None, *, engine: str = "embedded",
               allowed_builtins: frozenset[str] = frozenset(), check: bool = True):
    """The built-in policies with each bundle laid over them and the configs merged: the
    bundles' in order, then `config` (from --config), each top-level key replacing the
    earlier. A bundle may replace a built-in module only by declaring it (REPLACES_FIELD);
    its modules are checked (pack_checks) for `engine` before anything runs them."""
    from .pack_checks import PackError, check_packs
    from .pipeline import PolicySet

    builtin = PolicySet.builtin()
    modules = dict(builtin.modules)
    packs: dict[str, str] = {}
    replaced: list[tuple[str, str]] = []
    merged: dict = {}
    extra: dict = {}
    for bundle in bundles:
        check_builtin_data(bundle)
        own = bundle.rule_modules()
        replaced.extend((bundle.source, name) for name in replacements(bundle, builtin.modules))
        packs.update({name: source for name, source in own.items()
                      if builtin.modules.get(name) != source})
        modules.update(own)
        merged.update(bundle_config(bundle))
        _merge_at(extra, (), bundle.extra_data(), bundle.source)
    merged.update(config or {})
    policies = PolicySet(modules, merged, extra)
    policies.replaced = replaced
    policies.packs = set(packs)
    try:
        if check:
            policies.escape_sensitive = check_packs(packs, modules, policies.data(), engine=engine,
                                                    allowed=allowed_builtins)
    except PackError as exc:
        raise BundleError(str(exc)) from None
    return policies


def check_builtin_data(bundle: Bundle) -> None:
    """Data a bundle puts under `kmspolicy` besides the config would shadow or bend the
    built-in rules (`kmspolicy/main/findings: []` silences them all): refused."""
    own = bundle.data.get(BUILTIN_ROOT)
    for key in sorted(own) if isinstance(own, dict) else ():
        if key != CONFIG_PATH[1]:
            raise BundleError(f"{bundle.source}: data at {BUILTIN_ROOT}/{key} is refused: data "
                              f"under {BUILTIN_ROOT} other than {BUILTIN_ROOT}/config would "
                              "override the built-in rules")


def replacements(bundle: Bundle, builtin: dict[str, str]) -> list[str]:
    """The built-in modules the bundle replaces, each declared in its manifest's
    `metadata.kmspolicy_replaces`; a bundle module in a built-in package that is not a
    declared replacement is refused (it would add to, or bend, the built-in rules)."""
    declared = (bundle.manifest.get("metadata") or {}).get(REPLACES_FIELD, [])
    if not isinstance(declared, list) or not all(isinstance(d, str) for d in declared):
        raise BundleError(f"{bundle.source}: .manifest: metadata.{REPLACES_FIELD} must be a "
                          "list of module paths")
    packages = {package_of(source): name for name, source in builtin.items()}
    out = []
    for name, source in sorted(bundle.rule_modules().items()):
        if builtin.get(name) == source:
            continue
        package = package_of(source)
        target = name if name in builtin else packages.get(package)
        if target is None:
            continue
        if target != name:
            raise BundleError(f"{bundle.source}: {name}: package {package} is a built-in package "
                              f"({target}); a bundle may not add to it, only replace {target} "
                              f"by shipping that file and listing it in the manifest's "
                              f"metadata.{REPLACES_FIELD}")
        if name not in declared:
            raise BundleError(f"{bundle.source}: {name} differs from the built-in module of that "
                              f"name: list it in the manifest's metadata.{REPLACES_FIELD} to "
                              "replace it, or rebuild the bundle with this kmspolicy version")
        out.append(name)
    return out


# --- building -----------------------------------------------------------------------------

def roots_of(modules: dict[str, str], data: dict) -> list[str]:
    """`kmspolicy` first, then the top-level name of every other package and data root."""
    tops = {package_of(source).split(".")[0] for source in modules.values()} | set(data)
    return [BUILTIN_ROOT, *sorted(tops - {BUILTIN_ROOT})]


def build_bundle(modules: dict[str, str], config: dict, *, data: dict | None = None,
                 revision: str | None = None, metadata: dict | None = None) -> bytes:
    """The gzip tarball bytes: reproducible (fixed times and owners, sorted names)."""
    document = json.loads(json.dumps(data or {}))
    _merge_at(document, CONFIG_PATH, config or {}, "the config")
    document.setdefault(CONFIG_PATH[0], {}).setdefault(CONFIG_PATH[1], {})
    rego = {name: source for name, source in sorted(modules.items())
            if not name.endswith("_test.rego")}
    files = {name: source.encode("utf-8") for name, source in rego.items()}
    files["data.json"] = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")
    manifest = {
        "revision": revision or content_revision(files),
        "roots": roots_of(rego, document),
        "rego_version": 1,
    }
    if metadata:
        manifest["metadata"] = metadata
    files = {".manifest": (json.dumps(manifest, indent=2) + "\n").encode("utf-8"), **files}
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for name, content in files.items():
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(content), 0o644, 0
                archive.addfile(info, io.BytesIO(content))
    return raw.getvalue()


def content_revision(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name, content in sorted(files.items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()[:16]


def _one_line(value) -> str:
    return " ".join(str(value).split())[:300]
