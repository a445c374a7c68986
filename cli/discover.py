"""Which files `kmspolicy eval PATHS` looks at.

A directory is searched recursively for `*.yaml`, `*.yml`, `*.json` and `*.template` files
that look like CloudFormation or SAM templates (cli/sniff.py, decided from the text before
parsing); other files are skipped, whether they parse or not. Symlinks are not followed (a
link could lead out of the tree). Folders skipped by default: hidden ones (`.git`, …),
`node_modules`, virtualenvs (`venv`, any folder with a `pyvenv.cfg`), `.aws-sam` (`sam
build` output: copies of the source templates) and the tool caches below. A CDK cloud
assembly (a folder with CDK's `manifest.json`, such as `cdk.out`, and every folder inside
one: the nested assemblies of stages) is searched, since CDK synthesizes its templates there,
except CDK's asset copies (`asset.*`) and its own JSON files (`manifest.json`, `tree.json`,
`*.assets.json`, `*.metadata.json`); a manifest that cannot be read, or that names a
template that is not there, is a problem of the scan (bridge/cdk/assembly.py).

A file given by name is always analyzed (it must be a template) unless `sniff_named` (the
pre-commit hook's `--skip-non-templates`): then it is skipped as a folder scan would skip it
(not a template, in a folder skipped by default, CDK's own file), so the hook and `eval .`
see the same templates. `--exclude`
globs leave out files and folders wherever they were found. Every skip has its reason,
which `-v` lists.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from kmspolicy.bridge.cdk import AssemblyError, is_assembly_dir, read_manifest

from .sniff import file_looks_like_template

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
SKIPPED_DIRS = {
    "node_modules": "installed npm packages",
    "venv": "a virtualenv",
    "__pycache__": "a Python cache",
    ".aws-sam": "sam build output, copies of the source templates",
    ".terraform": "a Terraform cache",
}
CDK_OUT = "cdk.out"
CDK_FILES = ("manifest.json", "tree.json", "*.assets.json", "*.metadata.json")
NOT_A_TEMPLATE = "not a CloudFormation or SAM template"
CDK_METADATA = "CDK's own metadata, not a template"


class PathProblem(ValueError):
    pass


@dataclass
class Discovery:
    files: list[tuple[str, bool]] = field(default_factory=list)  # (file, given by name), sorted
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file or folder/, reason)
    problems: list[str] = field(default_factory=list)  # "path: what is wrong"
    folders: list[str] = field(default_factory=list)  # the folders searched


def discover(paths: list[str], exclude: Iterable[str] = (), sniff_named: bool = False,
             relative: Callable[[str], str] = str, limit: int = 5_000_000) -> Discovery:
    """The files to analyze, in a deterministic order. `relative(path)` is the path that
    `exclude` globs see besides the one relative to the searched folder (the reports' path);
    `limit` bytes of each file are read to decide whether it looks like a template."""
    scan = _Scan(tuple(exclude), relative, limit)
    found: dict[str, bool] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            scan.found.folders.append(raw)
            for file in scan.walk(path):
                found.setdefault(file, False)
        elif path.is_file():
            if scan.keep(str(path), raw, named=not sniff_named):
                found[str(path)] = True
                scan.check_assembly(str(path.parent))
        elif path.exists():
            scan.found.problems.append(f"{raw}: not a regular file or directory (a pipe, socket or device)")
        elif path.is_symlink():
            scan.found.problems.append(f"{raw}: broken symbolic link (its target does not exist or loops)")
        else:
            scan.found.problems.append(f"{raw}: no such file or directory")
    scan.found.files = sorted(found.items())
    scan.found.skipped.sort()
    return scan.found


def matching_glob(names: Iterable[str], patterns: tuple[str, ...]) -> str | None:
    """The first pattern matching one of the paths `names` (forward slashes). A pattern
    without `/` matches any component (`node_modules`, `*.generated.yaml`); with one it
    matches the path from its start, a folder matching covers what it holds; `*` crosses
    folders, as in checkov's and cfn-lint's globs; a leading `./` and a trailing `/` are
    ignored."""
    for pattern in patterns:
        glob = pattern.strip().removeprefix("./").rstrip("/")
        if not glob:
            continue
        for name in names:
            name = name.removeprefix("./")
            parts = name.split("/")
            if "/" in glob:
                if any(fnmatchcase("/".join(parts[:i]), glob) for i in range(1, len(parts) + 1)):
                    return pattern
            elif any(fnmatchcase(part, glob) for part in parts):
                return pattern
    return None


class _Scan:
    def __init__(self, exclude: tuple[str, ...], relative: Callable[[str], str], limit: int):
        self.exclude = exclude
        self.relative = relative
        self.limit = limit
        self.found = Discovery()
        self.assemblies: set[str] = set()  # the cloud assemblies checked (real paths)

    def excluded(self, full: str, within: str) -> str | None:
        """The glob excluding `full`, `within` being its path inside the folder searched."""
        if not self.exclude:
            return None
        return matching_glob((self.relative(full), Path(within).as_posix()), self.exclude)

    def keep(self, full: str, within: str, named: bool, within_scan: bool = False) -> bool:
        pattern = self.excluded(full, within)
        if pattern is not None:
            self.found.skipped.append((full, f"excluded by {pattern!r}"))
            return False
        if named:
            return True
        reason = self.named_skip(full) if not within_scan else None
        if reason is not None:
            self.found.skipped.append((full, reason))
            return False
        if file_looks_like_template(full, self.limit) is False:  # unreadable: analyzed, an error
            self.found.skipped.append((full, NOT_A_TEMPLATE))
            return False
        return True

    def walk(self, root: Path) -> list[str]:
        out = []
        in_assembly = {str(root): self.within_assembly(root)}
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            inside = Path(dirpath).relative_to(root)
            prefix = "" if inside.parts == () else inside.as_posix() + "/"  # of the names here, as globs see them
            here = in_assembly[dirpath] if dirpath == str(root) else self.check_assembly(dirpath)
            in_cdk_out = here or in_assembly.get(os.path.dirname(dirpath), False) or CDK_OUT in inside.parts
            in_assembly[dirpath] = in_cdk_out
            kept = []
            for name in sorted(dirnames):
                full = os.path.join(dirpath, name)
                if os.path.islink(full):
                    continue
                reason = self.folder_skip(full, name, in_cdk_out)
                if reason is None:
                    pattern = self.excluded(full, prefix + name)
                    reason = pattern and f"excluded by {pattern!r}"
                if reason:
                    self.found.skipped.append((full + os.sep, reason))
                else:
                    kept.append(name)
            dirnames[:] = kept
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                if not name.lower().endswith(TEMPLATE_SUFFIXES) or os.path.islink(full):
                    continue
                if in_cdk_out and any(fnmatchcase(name, p) for p in CDK_FILES):
                    self.found.skipped.append((full, CDK_METADATA))
                elif self.keep(full, prefix + name, named=False, within_scan=True):
                    out.append(full)
        return out

    def within_assembly(self, root: Path) -> bool:
        """Is the folder searched a cloud assembly, or inside one (its manifest checked)?"""
        if self.check_assembly(str(root)) or root.resolve().name == CDK_OUT:
            return True
        return any(is_assembly_dir(str(folder)) for folder in root.resolve().parents)

    def check_assembly(self, folder: str) -> bool:
        """Is `folder` a cloud assembly? Its manifest's problems are the scan's (once)."""
        if not is_assembly_dir(folder):
            return False
        real = os.path.realpath(folder)
        if real in self.assemblies:
            return True
        self.assemblies.add(real)
        try:
            problems = [f"{os.path.join(folder, 'manifest.json')}: {p}" for p in read_manifest(folder).problems]
        except AssemblyError as err:
            where = f" (line {err.line})" if err.line else ""
            file = os.path.join(folder, os.path.relpath(err.file, os.path.abspath(folder)))
            problems = [f"{os.path.normpath(file)}: {err.message}{where}"]
        self.found.problems.extend(problems)
        return True

    def named_skip(self, full: str) -> str | None:
        """A file named with `sniff_named` is skipped as a folder scan would skip it: inside
        a folder skipped by default (as the reports show its path), or CDK's own file."""
        relative = Path(self.relative(full))
        if relative.is_absolute() or ".." in relative.parts:  # outside the root: its own name only
            relative = Path(relative.name)
        parts, real = relative.parts, Path(full).resolve()
        folder, in_cdk_out = Path(), False
        for depth, part in enumerate(parts[:-1]):
            folder = folder / part
            reason = self.folder_skip(str(real.parents[len(parts) - 2 - depth]), part, in_cdk_out)
            if reason:
                return f"in {folder.as_posix()}/, {reason}"
            in_cdk_out = in_cdk_out or part == CDK_OUT
        if in_cdk_out and parts and any(fnmatchcase(parts[-1], p) for p in CDK_FILES):
            return CDK_METADATA
        return None

    @staticmethod
    def folder_skip(full: str, name: str, in_cdk_out: bool) -> str | None:
        if name in SKIPPED_DIRS:
            return SKIPPED_DIRS[name]
        if name.startswith("."):
            return "a hidden folder"
        if os.path.isfile(os.path.join(full, "pyvenv.cfg")):
            return "a virtualenv"
        if in_cdk_out and name.startswith("asset."):
            return "a CDK asset copy"
        return None
